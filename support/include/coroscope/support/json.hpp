// JSON input for the command-line tools: size and depth limits enforced while parsing, and errors that name
// the file, the place and the field, never a bare library message.
#pragma once

#include <cstddef>
#include <filesystem>
#include <stdexcept>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

namespace coroscope::support {

struct json_limits {
  std::size_t max_bytes = std::size_t{64} << 20;
  // Deeper documents are refused while parsing, so no later recursive walk over a document can overflow.
  int max_depth = 256;
};

// Bad input. what() is "FILE: FIELD: MESSAGE", or "FILE: MESSAGE" when the error belongs to no field.
// FIELD is a path in the form `main[1].op`.
struct input_error : std::runtime_error {
  input_error(std::string file, std::string field, const std::string& message);
  std::string file, field;
};

// Parses `text` (read from `file`, which only names it in errors). Syntax errors read
// "FILE: line L, column C: ...". Throws input_error.
nlohmann::json parse_json(std::string_view text, const std::string& file, const json_limits& limits = {});

// read_file + parse_json; an unreadable, oversized or directory path is an input_error too.
nlohmann::json read_json_file(const std::filesystem::path& path, const json_limits& limits = {});

// "FIELD.key" and "FIELD[i]", for building the FIELD of an input_error while walking a document.
std::string json_field(const std::string& parent, std::string_view key);
std::string json_field(const std::string& parent, std::size_t index);

// The JSON type of a value as a user reads it ("a string", "an array", ...), for "expected X, got Y".
std::string json_type_name(const nlohmann::json& value);

}  // namespace coroscope::support
