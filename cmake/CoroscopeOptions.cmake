# Warning and sanitizer settings shared by every target of the project.
# coroscope_target_defaults(<target>) applies them; the library's public usage requirements stay clean so a
# consumer never inherits our -Werror.
function(coroscope_target_defaults target)
  if(CMAKE_CXX_COMPILER_ID MATCHES "GNU|Clang")
    target_compile_options(${target} PRIVATE -Wall -Wextra -Wpedantic -Wshadow -Wnon-virtual-dtor
                                             -Wold-style-cast -Wcast-align -Woverloaded-virtual)
    if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU" AND CMAKE_CXX_COMPILER_VERSION VERSION_LESS 13)
      # g++ 12 reports -Wrestrict inside libstdc++'s std::string at -O2 (GCC PR 105329): a false positive.
      target_compile_options(${target} PRIVATE -Wno-restrict)
    endif()
    if(COROSCOPE_WERROR)
      target_compile_options(${target} PRIVATE -Werror)
    endif()
  endif()
endfunction()

if(COROSCOPE_SANITIZE)
  string(REPLACE "," ";" _san_list "${COROSCOPE_SANITIZE}")
  add_compile_options(-fsanitize=${COROSCOPE_SANITIZE} -fno-omit-frame-pointer -fno-sanitize-recover=all)
  add_link_options(-fsanitize=${COROSCOPE_SANITIZE})
  if("thread" IN_LIST _san_list AND CMAKE_CXX_COMPILER_ID STREQUAL "GNU")
    # g++ 12's TSan warns that atomic_thread_fence is unsupported; it is only a warning about precision.
    add_compile_options(-Wno-tsan)
  endif()
endif()
include(${CMAKE_CURRENT_LIST_DIR}/CoroscopeFuzz.cmake)
