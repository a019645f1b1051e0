#include "log.hpp"

#include <cstdio>

namespace {
void write_header(const char* path) {
  std::FILE* f = std::fopen(path, "a");
  if (f != nullptr) std::fclose(f);
}
}  // namespace

void open_log(const char* path) { write_header(path); }

int parse_config(const char* text) { return text[0] == '#' ? 0 : 1; }
