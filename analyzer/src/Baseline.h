// Baselines let a team adopt the linter on old code: known findings are recorded once and only new ones
// fail CI. Keyed on rule, file, function and callee (not lines), with a count, so edits that shift lines do
// not resurrect old findings but a second identical call in the same function is new.
#pragma once

#include "Finding.h"

#include <map>
#include <string>
#include <string_view>
#include <tuple>
#include <variant>
#include <vector>

namespace coroscope::lint {

// What a baseline records: rule, file, function, callee -> how many such findings are known.
using BaselineKey = std::tuple<std::string, std::string, std::string, std::string>;
using BaselineCounts = std::map<BaselineKey, unsigned>;

// Reads a baseline's text (`path` only names it). Every error names the file and the JSON field
// ("base.json: findings[3].count: ..."). No Clang needed: the fuzzer builds it alone.
std::variant<BaselineCounts, std::string> parseBaseline(std::string_view text, const std::string& path);

// Writes the baseline file; returns an error message or "".
std::string writeBaseline(const std::string& path, const std::vector<Finding>& findings, const std::string& root);

// Removes the findings the baseline covers; returns an error message or "". `removed` counts them.
std::string applyBaseline(const std::string& path, std::vector<Finding>& findings, const std::string& root,
                          unsigned& removed);

}  // namespace coroscope::lint
