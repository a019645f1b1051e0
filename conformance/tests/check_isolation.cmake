cmake_minimum_required(VERSION 3.25)
# ctest driver: the misbehaving runtime segfaults on CAN-001, spins on CAN-002 and (HOARD=ON) allocates
# without bound on CAN-003a. The full run must still finish with exit 1, name each with its status and
# reason in every report format, and judge every other scenario as the reference runtime does.
# Inputs: RUNNER, WORK_DIR; environment HOARD (ON/OFF).
file(REMOVE_RECURSE ${WORK_DIR})
file(MAKE_DIRECTORY ${WORK_DIR})
set(limits --time-limit 1000 --memory-limit 512)
execute_process(COMMAND ${RUNNER} run --runtime misbehaving ${limits} --format markdown --out ${WORK_DIR}/matrix.md
                RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
if(NOT rc STREQUAL "1")
  message(FATAL_ERROR "expected exit 1, got '${rc}':\n${out}\n${err}")
endif()
foreach(want "CRASH misbehaving CAN-001: [^\n]*\n[^\n]*\n  killed by signal 11 \\(SIGSEGV\\)"
             "TIMEOUT misbehaving CAN-002: [^\n]*\n[^\n]*\n  no result within the wall-clock limit of 1000 ms")
  if(NOT err MATCHES "${want}")
    message(FATAL_ERROR "the text report lacks /${want}/:\n${err}")
  endif()
endforeach()

# Every row of the matrix: the three planted defects with their reasons, everything else judged as on the
# reference runtime (all pass but its one version-specific note).
file(STRINGS ${WORK_DIR}/matrix.md rows REGEX "^\\| [A-Z]+-[0-9]+[a-z]* \\|")
list(LENGTH rows n)
if(n LESS 180)
  message(FATAL_ERROR "the matrix has ${n} scenario rows")
endif()
foreach(row IN LISTS rows)
  string(REGEX MATCH "^\\| ([A-Z]+-[0-9]+[a-z]*) \\|" _ "${row}")
  set(id ${CMAKE_MATCH_1})
  if(id STREQUAL "CAN-001")
    set(want "\\*\\*crash\\*\\*: killed by signal 11 \\(SIGSEGV\\)")
  elseif(id STREQUAL "CAN-002")
    set(want "\\*\\*timeout\\*\\*: no result within the wall-clock limit of 1000 ms")
  elseif(id STREQUAL "CAN-003a" AND "$ENV{HOARD}" STREQUAL "ON")
    set(want "\\*\\*crash\\*\\*: out of memory \\(std::bad_alloc\\) under the memory limit of 512 MiB")
  elseif(id STREQUAL "TMO-008d")
    set(want "note")
  else()
    set(want "pass")
  endif()
  if(NOT row MATCHES "\\| ${want}[^|]* \\|$")
    message(FATAL_ERROR "${id}: expected /${want}/, the row is\n${row}")
  endif()
endforeach()

# The reason reaches the JSON and JUnit reports too.
execute_process(COMMAND ${RUNNER} run --runtime misbehaving ${limits} --filter "CAN-00?" --format json
                OUTPUT_VARIABLE json_report ERROR_QUIET)
execute_process(COMMAND ${RUNNER} run --runtime misbehaving ${limits} --filter "CAN-00?" --format junit
                OUTPUT_VARIABLE junit ERROR_QUIET)
string(JSON crashes GET "${json_report}" runs 0 summary crash)
string(JSON timeouts GET "${json_report}" runs 0 summary timeout)
if(NOT crashes EQUAL 1 OR NOT timeouts EQUAL 1)
  message(FATAL_ERROR "the JSON summary counts ${crashes} crash(es) and ${timeouts} timeout(s):\n${json_report}")
endif()
foreach(want "\"id\": \"CAN-001\",[^}]*\"message\": \"killed by signal 11 \\(SIGSEGV\\)[^}]*\"status\": \"crash\""
             "\"id\": \"CAN-002\",[^}]*\"message\": \"no result within[^}]*\"status\": \"timeout\"")
  if(NOT json_report MATCHES "${want}")
    message(FATAL_ERROR "the JSON report lacks /${want}/:\n${json_report}")
  endif()
endforeach()
foreach(want "errors=\"2\" skipped=\"0\"" "<error type=\"crash\" message=\"crash: killed by signal 11 \\(SIGSEGV\\)"
             "<error type=\"timeout\" message=\"timeout: no result within")
  if(NOT junit MATCHES "${want}")
    message(FATAL_ERROR "the JUnit report lacks /${want}/:\n${junit}")
  endif()
endforeach()
message(STATUS "crash, hang and leak each named; ${n} scenarios judged")
