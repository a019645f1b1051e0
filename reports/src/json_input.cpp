#include "json_input.hpp"

#include "limits.hpp"

#include <coroscope/support/files.hpp>

#include <cmath>
#include <limits>
#include <sstream>

namespace coroscope::report {
namespace {

// Bare NaN / Infinity become strings of exactly the same length, so byte offsets in parse errors still
// point at the right line and column of the original file.
constexpr std::string_view nan_token = "NaN", nan_text = "\"N\"";
constexpr std::string_view inf_token = "Infinity", inf_text = "\"Inf+ty\"";
constexpr std::string_view ninf_token = "-Infinity", ninf_text = "\"-Inf+ty\"";

std::string replace_non_finite(std::string_view in) {
  std::string out(in);
  bool in_string = false;
  for (std::size_t i = 0; i < out.size(); ++i) {
    const char c = out[i];
    if (in_string) {
      if (c == '\\') ++i;
      else if (c == '"') in_string = false;
      continue;
    }
    if (c == '"') { in_string = true; continue; }
    auto replace = [&](std::string_view token, std::string_view text) {
      if (in.substr(i, token.size()) != token) return false;
      out.replace(i, token.size(), text);
      i += token.size() - 1;
      return true;
    };
    if (c == '-') replace(ninf_token, ninf_text);
    else if (c == 'N') replace(nan_token, nan_text);
    else if (c == 'I') replace(inf_token, inf_text);
  }
  return out;
}

}  // namespace

nlohmann::json parse_json_text(std::string_view text, const std::string& file) {
  return support::parse_json(replace_non_finite(text), file, {limits::max_input_bytes, limits::max_json_depth});
}

nlohmann::json load_json_file(const std::string& file) {
  std::string text;
  try {
    text = support::read_file(file, limits::max_input_bytes);
  } catch (const support::io_error& e) {  // its message starts with the path already
    const std::string what = e.what();
    throw input_error(file, "", what.rfind(file + ": ", 0) == 0 ? what.substr(file.size() + 2) : what);
  }
  return parse_json_text(text, file);
}

void field::fail(std::string_view what) const { throw input_error(file_, path_, std::string(what)); }

void field::expect_object() const {
  if (!value_->is_object()) fail("expected an object");
}

bool field::has(std::string_view key) const {
  return value_->is_object() && value_->contains(key) && !(*value_)[std::string(key)].is_null();
}

field field::at(std::string_view key) const {
  expect_object();
  std::string sub = support::json_field(path_, key);
  auto it = value_->find(key);
  if (it == value_->end()) field(*value_, file_, sub).fail("missing");
  return field(*it, file_, std::move(sub));
}

field field::at(std::size_t index) const {
  if (!value_->is_array()) fail("expected an array");
  return field((*value_)[index], file_, support::json_field(path_, index));
}

std::size_t field::size() const {
  if (!value_->is_array()) fail("expected an array");
  return value_->size();
}

double field::number() const {
  if (value_->is_number()) return value_->get<double>();
  if (value_->is_string()) {
    const auto& s = value_->get_ref<const std::string&>();
    if (s == "N") return std::numeric_limits<double>::quiet_NaN();
    if (s == "Inf+ty") return std::numeric_limits<double>::infinity();
    if (s == "-Inf+ty") return -std::numeric_limits<double>::infinity();
  }
  fail("expected a number");
}

std::int64_t field::integer(double lo, double hi) const {
  const double v = number();
  if (!(v >= lo && v <= hi) || std::floor(v) != v) {
    std::ostringstream range;
    range.precision(17);
    range << "expected a whole number from " << lo << " to " << hi << ", got " << text();
    fail(range.str());
  }
  return static_cast<std::int64_t>(v);
}

std::string field::string() const {
  if (!value_->is_string()) fail("expected a string");
  return value_->get<std::string>();
}

bool field::boolean() const {
  if (!value_->is_boolean()) fail("expected true or false");
  return value_->get<bool>();
}

std::string field::text() const {
  if (value_->is_string()) return value_->get<std::string>();
  if (value_->is_null()) return {};
  return value_->dump();
}

double number_or(const field& f, std::string_view key, double fallback) {
  return f.has(key) ? f.at(key).number() : fallback;
}

std::int64_t integer_or(const field& f, std::string_view key, double lo, double hi, std::int64_t fallback) {
  return f.has(key) ? f.at(key).integer(lo, hi) : fallback;
}

std::string string_or(const field& f, std::string_view key, std::string fallback) {
  return f.has(key) ? f.at(key).string() : fallback;
}

}  // namespace coroscope::report
