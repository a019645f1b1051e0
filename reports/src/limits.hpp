// Every limit coroscope-report enforces, in one place: docs/limits.md and --help quote these numbers.
#pragma once

#include <cstddef>
#include <cstdint>

namespace coroscope::report::limits {

// Inputs. Real benchmark, conformance and lint files are a few MB and nest fewer than ten levels; these leave
// room for far bigger projects while keeping a hostile file from exhausting memory or the stack.
inline constexpr std::size_t max_input_bytes = 256u << 20;  // per input file
inline constexpr int max_json_depth = 64;                    // arrays/objects inside one another

// Integer fields (lint line/column, benchmark iterations): beyond these they are input errors, never wrapped.
inline constexpr double max_line = 2147483647;               // INT_MAX: line and column numbers
inline constexpr double max_iterations = 9007199254740992;   // 2^53: the largest exactly representable count

// report.md: a name (benchmark, runtime, scenario id, rule, file) is cut to this many bytes with " …", so
// one absurd name can never push the table past the 65,536-character summary limit and empty it.
inline constexpr std::size_t max_markdown_name = 200;
inline constexpr std::size_t max_markdown_cell = 160;  // expected/actual traces and lint messages

// Outputs: an existing DIR/report.md, report.html or verdict.json is replaced only when its first
// marker_search_bytes contain the generator marker this tool writes, unless --force.
inline constexpr std::size_t marker_search_bytes = 4096;

}  // namespace coroscope::report::limits
