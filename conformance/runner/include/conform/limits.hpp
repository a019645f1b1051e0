#pragma once
// Every limit coroscope-conform puts on what it reads, in one place; README.md ("Limits") states them with
// their exit codes. Load-time limits reject a scenario before anything runs (exit 2; the message names the
// file, the field and the limit). The run-time budget stops a scenario that runs away on a runtime: its
// result is a failure that says so (exit 1), never a hang or a process killed for its memory.
#include <cstddef>
#include <cstdint>

namespace conform::limits {

// Load time (exit 2) -----------------------------------------------------------------------------------
// A scenario file, an --expect file, a line of the oracle's answer.
inline constexpr std::size_t max_file_bytes = std::size_t{4} << 20;
// Arrays and objects nested in one document, enforced while parsing: every later walk over a document
// is recursive, and this keeps it shallow. A `try` costs two levels.
inline constexpr int max_json_depth = 100;
// Steps written in one file (main, every coroutine body, every nested body).
inline constexpr std::size_t max_steps = 10'000;
// Coroutines started by coroutines (create_task, await coro, gather/shield/wait_for/as_completed items),
// nested: main is depth 0. A coroutine that starts itself, directly or through others, is refused
// whatever the depth: a scenario has no condition that could end the recursion.
inline constexpr int max_call_depth = 100;
// Steps one run of the scenario can execute, counted over the program with every coroutine it starts
// expanded (as_completed's `each` once per item). Checked when loading, so that a well-formed scenario
// never meets the run-time budget below on a correct runtime.
inline constexpr std::uint64_t max_executed_steps = 100'000;
// Milliseconds in a time value (sleep, call_later, timeouts, timeout_at, reschedule): finite and within
// +-10 hours, so that even max_executed_steps sleeps in a row stay inside the runtimes' clocks
// (coroscope's: int64 nanoseconds, +-292 years).
inline constexpr double max_time_ms = 36'000'000;
// Integer arguments (Semaphore and Barrier sizes, Queue maxsize, notify(n)).
inline constexpr long long max_int_arg = 1'000'000'000;

// Run time (the scenario fails on that runtime, exit 1) ------------------------------------------------
// Steps executed: the same bound as above, met only when a runtime runs more than the program asks
// (a done callback called twice, as_completed yielding forever).
inline constexpr std::uint64_t step_budget = max_executed_steps;
// Bytes of trace one run may record (a large value logged many times).
inline constexpr std::size_t trace_budget_bytes = std::size_t{64} << 20;

// Command line (exit 2) --------------------------------------------------------------------------------
// --time-scale: wall-clock ms per scenario ms, finite and in (0, max_time_scale].
inline constexpr double max_time_scale = 1000;
// fuzz --count: programs are generated and checked in batches of this many (memory does not grow with
// --count).
inline constexpr int fuzz_batch = 100;

}  // namespace conform::limits
