#include <coroscope/support/files.hpp>
#include <coroscope/support/json.hpp>

#include <algorithm>

namespace coroscope::support {

namespace {

struct too_deep {};

// nlohmann's message without its "[json.exception.parse_error.101] parse error at line L, column C: " prefix.
std::string reason_of(const nlohmann::json::parse_error& e) {
  std::string what = e.what();
  auto at = what.find(": ", what.find(']'));
  std::string reason = at == std::string::npos ? what : what.substr(at + 2);
  return reason.empty() ? "syntax error" : reason;
}

// Any other library message without its "[json.exception.out_of_range.406] " prefix, cut to 200 bytes: it
// may quote a number of a megabyte of digits.
std::string reason_of(const nlohmann::json::exception& e) {
  std::string what = e.what();
  auto at = what.find("] ");
  std::string reason = at == std::string::npos ? what : what.substr(at + 2);
  return reason.size() > 200 ? reason.substr(0, 200) + "..." : reason;
}

std::string line_and_column(std::string_view text, std::size_t byte) {
  // nlohmann's byte is one past the character that failed.
  std::size_t end = std::min(byte > 0 ? byte - 1 : 0, text.size());
  std::size_t line = 1, column = 1;
  for (std::size_t i = 0; i < end; ++i) {
    if (text[i] == '\n') {
      ++line;
      column = 1;
    } else {
      ++column;
    }
  }
  return "line " + std::to_string(line) + ", column " + std::to_string(column);
}

}  // namespace

input_error::input_error(std::string file_, std::string field_, const std::string& message)
    : std::runtime_error(file_ + ": " + (field_.empty() ? std::string() : field_ + ": ") + message),
      file(std::move(file_)),
      field(std::move(field_)) {}

nlohmann::json parse_json(std::string_view text, const std::string& file, const json_limits& limits) {
  if (text.size() > limits.max_bytes) {
    throw input_error(file, "", "larger than the limit of " + std::to_string(limits.max_bytes) + " bytes");
  }
  const int max_depth = limits.max_depth;
  nlohmann::json::parser_callback_t cb = [max_depth](int depth, nlohmann::json::parse_event_t event,
                                                     nlohmann::json&) {
    // `depth` counts the enclosing containers; an opening bracket at depth d starts level d + 1.
    const bool opens =
        event == nlohmann::json::parse_event_t::object_start || event == nlohmann::json::parse_event_t::array_start;
    if (opens && depth + 1 > max_depth) throw too_deep{};
    return true;
  };
  try {
    return nlohmann::json::parse(text.begin(), text.end(), cb);
  } catch (const too_deep&) {
    throw input_error(file, "", "nested deeper than the limit of " + std::to_string(max_depth) + " levels");
  } catch (const nlohmann::json::parse_error& e) {
    throw input_error(file, "", line_and_column(text, e.byte) + ": " + reason_of(e));
  } catch (const nlohmann::json::exception& e) {
    // A number literal beyond a double (1e400) is out_of_range, not a parse_error.
    throw input_error(file, "", reason_of(e));
  }
}

nlohmann::json read_json_file(const std::filesystem::path& path, const json_limits& limits) {
  const std::string shown = path == "-" ? "standard input" : path.string();
  std::string text;
  try {
    text = read_file(path, limits.max_bytes);
  } catch (const io_error& e) {
    // read_file's message already names the path.
    std::string what = e.what();
    const std::string prefix = shown + ": ";
    throw input_error(shown, "", what.rfind(prefix, 0) == 0 ? what.substr(prefix.size()) : what);
  }
  return parse_json(text, shown, limits);
}

std::string json_field(const std::string& parent, std::string_view key) {
  return parent.empty() ? std::string(key) : parent + "." + std::string(key);
}

std::string json_field(const std::string& parent, std::size_t index) {
  return parent + "[" + std::to_string(index) + "]";
}

std::string json_type_name(const nlohmann::json& value) {
  switch (value.type()) {
    case nlohmann::json::value_t::null: return "null";
    case nlohmann::json::value_t::object: return "an object";
    case nlohmann::json::value_t::array: return "an array";
    case nlohmann::json::value_t::string: return "a string";
    case nlohmann::json::value_t::boolean: return "a boolean";
    case nlohmann::json::value_t::number_integer:
    case nlohmann::json::value_t::number_unsigned: return "an integer";
    case nlohmann::json::value_t::number_float: return "a number";
    case nlohmann::json::value_t::binary: return "binary data";
    case nlohmann::json::value_t::discarded: return "nothing";
  }
  return "a value";
}

}  // namespace coroscope::support
