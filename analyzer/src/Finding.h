// What a rule reports, independent of Clang so output, baselines and the driver never touch the AST.
#pragma once

#include <optional>
#include <string>
#include <vector>

namespace coroscope::lint {

struct Location {
  std::string file;  // absolute, canonical path while analysing; made relative only when printed
  unsigned line = 0;
  unsigned column = 0;
};

struct FixIt {
  Location begin;
  Location end;  // exclusive
  std::string replacement;
};

struct Note {
  Location where;
  std::string message;
  std::string source_line;
  std::optional<FixIt> fixit;
};

struct Finding {
  std::string rule;
  Location where;
  std::string message;
  std::string function;  // the coroutine (or function) the finding is in
  std::string callee;    // what was called: the stable part of the baseline key
  std::string category;
  std::string source_line;
  std::vector<Note> notes;
};

}  // namespace coroscope::lint
