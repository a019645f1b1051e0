#pragma once
// The whole coroscope-conform command line as a function, so a runtime's own executable is one file:
//
//   int main(int argc, char** argv) {
//     std::vector<std::unique_ptr<conform::adapter>> mine;
//     mine.push_back(std::make_unique<my_adapter>());
//     return conform::main(argc, argv, std::move(mine));
//   }
//
// It behaves exactly like coroscope-conform (list, features, runtimes, run, fuzz and every flag) with the
// built-in `reference` adapter plus `extra`.
#include <conform/adapter.hpp>

#include <memory>
#include <string>
#include <vector>

namespace conform {

// Where the scenarios (DATA/scenarios) and the oracle (DATA/oracle/oracle.py) are when no flag says.
struct main_defaults {
  std::string data_dir;  // a directory holding scenarios/ and oracle/; empty: none known
  std::string python;    // the python3 that runs the oracle; empty: python3 on PATH
};

// The command line with explicit defaults. The default data directory is, in this order:
// <directory of the executable>/../share/coroscope (an installed layout); the directory named in
// <directory of the executable>/coroscope-conform-data (coroscope's own build tree); defaults.data_dir.
int main_with_defaults(int argc, char** argv, std::vector<std::unique_ptr<adapter>> extra,
                       const main_defaults& defaults);

// CONFORM_DATA_DIR is defined for the caller by the installed package (find_package(coroscope COMPONENTS
// conform): its share/coroscope) and, in coroscope's own tree, for its targets (the source tree).
inline int main(int argc, char** argv, std::vector<std::unique_ptr<adapter>> extra) {
  main_defaults d;
#ifdef CONFORM_DATA_DIR
  d.data_dir = CONFORM_DATA_DIR;
#endif
#ifdef CONFORM_PYTHON
  d.python = CONFORM_PYTHON;
#endif
  return main_with_defaults(argc, argv, std::move(extra), d);
}

}  // namespace conform
