#include "cli.hpp"

#include <coroscope/support/files.hpp>

#include <iostream>
#include <sstream>

int main(int argc, char** argv) {
  // Standard output is collected and written with every write checked: a full disk or a closed pipe must
  // fail the run (exit 2), not lose the comparison silently.
  std::ostringstream out;
  const int code = coroscope::report::run_cli(std::vector<std::string>(argv + 1, argv + argc), out, std::cerr);
  try {
    coroscope::support::write_stdout(out.str());
  } catch (const coroscope::support::io_error& e) {
    std::cerr << "coroscope-report: " << e.what() << "\n";
    return 2;
  }
  return code;
}
