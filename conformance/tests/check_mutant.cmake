# ctest driver for one mutant: runs the whole suite on the mutation-testing build with COROSCOPE_MUTANT set,
# and passes only when the suite fails. It names the scenarios that caught the mutant (by a failure, a crash
# or a timeout: each scenario runs isolated); should the runner itself die, it runs the scenarios one by
# one to name the first one that fails.
# Inputs: RUNNER, MUTANT (number), NAME.
set(ENV{COROSCOPE_MUTANT} ${MUTANT})
execute_process(COMMAND ${RUNNER} run --runtime reference OUTPUT_VARIABLE out ERROR_VARIABLE err RESULT_VARIABLE rc)
if(rc STREQUAL "0")
  message(FATAL_ERROR "mutant ${NAME} survived: every scenario passed")
elseif(rc STREQUAL "2")
  message(FATAL_ERROR "mutant ${NAME}: the runner reported a usage or scenario error:\n${err}")
elseif(rc STREQUAL "1")
  string(REGEX MATCHALL "(FAIL|CRASH|TIMEOUT) reference [A-Z]+-[0-9]+[a-z]*" fails "${out}${err}")
  list(TRANSFORM fails REPLACE "^[A-Z]+ reference " "")
  list(REMOVE_DUPLICATES fails)
  list(LENGTH fails count)
  if(count GREATER 0)
    list(JOIN fails ", " names)
    message(STATUS "mutant ${NAME} caught by ${count} scenario(s): ${names}")
    return()
  endif()
  # Exit 1 with nothing named: a sanitizer stopped the process (ASan exits with 1), i.e. a crash.
endif()

# The runner died (a crash is also a catch): find the scenario responsible.
execute_process(COMMAND ${RUNNER} list OUTPUT_VARIABLE listing RESULT_VARIABLE lrc)
string(REGEX MATCHALL "(^|\n)[A-Z]+-[0-9]+[a-z]*" ids "${listing}")
foreach(id IN LISTS ids)
  string(STRIP "${id}" id)
  execute_process(COMMAND ${RUNNER} run --runtime reference --filter ${id} OUTPUT_QUIET ERROR_QUIET RESULT_VARIABLE r)
  if(NOT r STREQUAL "0")
    message(STATUS "mutant ${NAME} caught by ${id} (the runner exited with '${r}')")
    return()
  endif()
endforeach()
message(FATAL_ERROR "mutant ${NAME} crashed the full run (${rc}) but no single scenario fails on its own")
