// Fuzz target: one scenario file through coroscope-conform's loader and validator (load_scenario).
#include <conform/model.hpp>

#include <coroscope/support/files.hpp>

#include <nlohmann/json.hpp>

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>

namespace {

// The loader insists that the file is <group>/<id>.json; taking both from the input lets mutations get past
// that check into the trace and the program.
std::string name_from(const nlohmann::json& doc, const char* key) {
  if (!doc.is_object() || !doc.contains(key) || !doc[key].is_string()) return "fuzz";
  const std::string name = doc[key].get<std::string>();
  if (name.empty() || name.size() > 64 || name.find_first_not_of(
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-") != std::string::npos)
    return "fuzz";
  return name;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  namespace fs = std::filesystem;
  static const coroscope::support::temp_dir dir("coroscope-fuzz-scenario");
  const std::string text(reinterpret_cast<const char*>(data), size);
  const auto doc = nlohmann::json::parse(text, nullptr, false);  // discarded when invalid: the loader says why
  const fs::path group = dir.path() / name_from(doc, "group");
  const fs::path file = group / (name_from(doc, "id") + ".json");
  fs::create_directories(group);
  std::ofstream(file, std::ios::binary) << text;
  try {
    (void)conform::load_scenario(file.string());
  } catch (const conform::scenario_error&) {
    // Rejected with a message naming the file and field: the expected outcome for most mutations.
  }
  fs::remove(file);
  fs::remove(group);
  return 0;
}
