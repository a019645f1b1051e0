// Loading JSON written by other tools, with errors that name the file and the field.
#pragma once

#include <coroscope/support/json.hpp>
#include <nlohmann/json.hpp>

#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>

namespace coroscope::report {

// Bad input: "FILE: FIELD: MESSAGE" (support's one format for every tool), printed by the CLI as is.
using input_error = support::input_error;

// Parses `text` as JSON within limits::max_input_bytes and limits::max_json_depth. Google Benchmark writes
// bare NaN / Infinity / -Infinity (not JSON); they are read back as numbers through field::number(). `file`
// only names the source in error messages. Every failure (unreadable file, directory, syntax, size, depth)
// is an input_error.
nlohmann::json parse_json_text(std::string_view text, const std::string& file);
nlohmann::json load_json_file(const std::string& file);

// A cursor into a document that remembers the path to the current field, so every error can say
// "file: benchmarks[3].cpu_time: expected a number".
class field {
public:
  field(const nlohmann::json& value, std::string file, std::string path = {})
      : value_(&value), file_(std::move(file)), path_(std::move(path)) {}

  const nlohmann::json& json() const { return *value_; }
  const std::string& file() const { return file_; }
  const std::string& path() const { return path_; }

  bool has(std::string_view key) const;
  field at(std::string_view key) const;  // required member of an object
  field at(std::size_t index) const;     // element of an array
  std::size_t size() const;              // of an array (error if not an array)

  double number() const;  // accepts the NaN/Infinity spellings too
  // A whole number in [lo, hi]; anything else (a fraction, NaN, 1e300) is an error naming the range.
  std::int64_t integer(double lo, double hi) const;
  std::string string() const;
  bool boolean() const;
  // A scalar rendered as text (strings as is, numbers and booleans printed); objects and arrays as JSON.
  std::string text() const;

  [[noreturn]] void fail(std::string_view what) const;
  void expect_object() const;

private:
  const nlohmann::json* value_;
  std::string file_;
  std::string path_;
};

// Optional members with a default.
double number_or(const field& f, std::string_view key, double fallback);
std::int64_t integer_or(const field& f, std::string_view key, double lo, double hi, std::int64_t fallback);
std::string string_or(const field& f, std::string_view key, std::string fallback);

}  // namespace coroscope::report
