# Fuzzing: each coroscope_fuzz_target() is one LLVMFuzzerTestOneInput, built one of two ways.
#  - COROSCOPE_BUILD_FUZZERS=ON (preset "fuzz", clang++-19): fuzz_<name>, a libFuzzer binary with ASan and
#    UBSan; every library it links gets coverage instrumentation. ci/fuzz runs each for a bounded time, reading
#    the targets from <build>/fuzz-targets.txt.
#  - Otherwise, in every build with tests: fuzz_<name>_replay runs the same function once on every file of
#    the target's corpus/ and regressions/ (ctest Fuzz.<name>.ReplaysCorpusAndRegressions, label "fuzz"), so
#    a crasher found once stays fixed on every compiler and sanitizer preset, with or without libFuzzer.
option(COROSCOPE_BUILD_FUZZERS "Build the libFuzzer targets (clang only; preset fuzz)" OFF)
set(COROSCOPE_FUZZ_MANIFEST "${CMAKE_BINARY_DIR}/fuzz-targets.txt")
set(_coroscope_fuzz_replay_main "${CMAKE_CURRENT_LIST_DIR}/fuzz_replay.cpp")

if(COROSCOPE_BUILD_FUZZERS)
  if(NOT CMAKE_CXX_COMPILER_ID STREQUAL "Clang")
    message(FATAL_ERROR "COROSCOPE_BUILD_FUZZERS needs clang (libFuzzer); use the fuzz preset")
  endif()
  add_compile_options(-fsanitize=fuzzer-no-link)
  add_custom_target(coroscope_fuzzers)
  file(WRITE "${COROSCOPE_FUZZ_MANIFEST}" "")
endif()

# coroscope_fuzz_target(<name> SOURCES <file>... LIBRARIES <target>... [INCLUDES <dir>...]
#                       CORPUS <dir> REGRESSIONS <dir>)
# SOURCES may name a part's own source files, to fuzz one of them without building the rest of its library.
function(coroscope_fuzz_target name)
  cmake_parse_arguments(F "" "CORPUS;REGRESSIONS" "SOURCES;LIBRARIES;INCLUDES" ${ARGN})
  if(COROSCOPE_BUILD_FUZZERS)
    add_executable(fuzz_${name} ${F_SOURCES})
    target_include_directories(fuzz_${name} PRIVATE ${F_INCLUDES})
    target_link_libraries(fuzz_${name} PRIVATE ${F_LIBRARIES})
    target_link_options(fuzz_${name} PRIVATE -fsanitize=fuzzer)
    coroscope_target_defaults(fuzz_${name})
    add_dependencies(coroscope_fuzzers fuzz_${name})
    file(APPEND "${COROSCOPE_FUZZ_MANIFEST}"
         "${name}\t${CMAKE_CURRENT_BINARY_DIR}/fuzz_${name}\t${F_CORPUS}\t${F_REGRESSIONS}\n")
  elseif(COROSCOPE_BUILD_TESTS)
    add_executable(fuzz_${name}_replay ${F_SOURCES} ${_coroscope_fuzz_replay_main})
    target_include_directories(fuzz_${name}_replay PRIVATE ${F_INCLUDES})
    target_link_libraries(fuzz_${name}_replay PRIVATE ${F_LIBRARIES})
    coroscope_target_defaults(fuzz_${name}_replay)
    add_test(NAME Fuzz.${name}.ReplaysCorpusAndRegressions
             COMMAND fuzz_${name}_replay "${F_CORPUS}" "${F_REGRESSIONS}")
    set_tests_properties(Fuzz.${name}.ReplaysCorpusAndRegressions PROPERTIES LABELS fuzz TIMEOUT 120)
  endif()
endfunction()
