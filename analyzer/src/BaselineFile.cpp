// Reading a baseline: kept apart from the analysis (no Clang here) so the fuzzer can build it alone.
#include "Baseline.h"

#include "InputLimits.h"

#include <coroscope/support/json.hpp>

#include <algorithm>
#include <climits>
#include <cmath>
#include <sstream>

namespace coroscope::lint {

namespace {

using support::input_error;
using support::json_field;
using support::json_type_name;

// Walks one baseline document; every error names the file and the field.
struct reader {
  const std::string& path;

  const nlohmann::json& member(const nlohmann::json& object, const std::string& where, const char* key) const {
    auto it = object.find(key);
    if (it == object.end()) throw input_error(path, json_field(where, key), "missing");
    return *it;
  }

  std::string text(const nlohmann::json& object, const std::string& where, const char* key) const {
    const auto& value = member(object, where, key);
    if (!value.is_string())
      throw input_error(path, json_field(where, key), "expected a string, got " + json_type_name(value));
    return value.get<std::string>();
  }

  // A count of -1 used to wrap around to 4294967295 and hide every finding of its key.
  unsigned count(const nlohmann::json& object, const std::string& where) const {
    auto it = object.find("count");
    if (it == object.end()) return 1;
    const double v = it->is_number() ? it->get<double>() : std::nan("");
    if (!(v >= 1 && v <= limits::max_baseline_count) || std::floor(v) != v) {
      std::ostringstream msg;
      msg << "expected a whole number from 1 to " << static_cast<long>(limits::max_baseline_count) << ", got "
          << it->dump();
      throw input_error(path, json_field(where, "count"), msg.str());
    }
    return static_cast<unsigned>(v);
  }

  BaselineCounts read(std::string_view content) const {
    const auto doc = support::parse_json(content, path, {limits::max_baseline_bytes, limits::max_baseline_depth});
    if (!doc.is_object()) throw input_error(path, "", "expected an object, got " + json_type_name(doc));
    if (member(doc, "", "version") != 1)
      throw input_error(path, "version", "unsupported version " + doc["version"].dump() + " (this tool reads 1)");
    const auto& findings = member(doc, "", "findings");
    if (!findings.is_array())
      throw input_error(path, "findings", "expected an array, got " + json_type_name(findings));
    BaselineCounts counts;
    for (std::size_t i = 0; i < findings.size(); ++i) {
      const auto& e = findings[i];
      const std::string where = json_field("findings", i);
      if (!e.is_object()) throw input_error(path, where, "expected an object, got " + json_type_name(e));
      unsigned& known =
          counts[{text(e, where, "rule"), text(e, where, "file"), text(e, where, "function"), text(e, where, "callee")}];
      // Repeated entries add up, saturating rather than wrapping around to a small count.
      known = static_cast<unsigned>(std::min<unsigned long long>(0u + known + count(e, where), UINT_MAX));
    }
    return counts;
  }
};

}  // namespace

std::variant<BaselineCounts, std::string> parseBaseline(std::string_view content, const std::string& path) {
  try {
    return reader{path}.read(content);
  } catch (const input_error& e) {
    return e.what();
  }
}

}  // namespace coroscope::lint
