// Every limit coroscope-lint enforces on the files it reads, in one place; docs/limits.md lists them.
#pragma once

#include <cstddef>

namespace coroscope::lint::limits {

inline constexpr std::size_t max_config_bytes = std::size_t{1} << 20;     // .coroscope-lint.yaml
inline constexpr std::size_t max_baseline_bytes = std::size_t{64} << 20;  // --baseline FILE
inline constexpr int max_baseline_depth = 8;  // a baseline nests 3 levels: {findings: [{...}]}
// A count of identical findings (same rule, file, function, callee); more is not a baseline but a typo.
inline constexpr double max_baseline_count = 1000000;
// "{N}" in a replacement names the call's N-th argument, from {0}.
inline constexpr unsigned long max_replacement_argument = 63;

}  // namespace coroscope::lint::limits
