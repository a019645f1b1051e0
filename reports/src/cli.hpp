#pragma once

#include <iosfwd>
#include <string>
#include <vector>

namespace coroscope::report {

// The whole command line tool, minus main(): returns the exit code (0 ok, 1 failure, 2 bad input).
int run_cli(const std::vector<std::string>& args, std::ostream& out, std::ostream& err);

}  // namespace coroscope::report
