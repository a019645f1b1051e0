#pragma once

#include "model.hpp"

#include <string>
#include <vector>

namespace coroscope::report::testing {

inline std::string fixture(const std::string& name) { return std::string(COROSCOPE_REPORT_FIXTURES) + "/" + name; }

inline bench_case make_case(const std::string& name, std::vector<double> cpu) {
  bench_case c;
  c.name = name;
  c.real_ns = cpu;
  c.cpu_ns = std::move(cpu);
  return c;
}

// n samples around `center`, spread evenly over +-spread (relative), with no two equal.
inline std::vector<double> spread(double center, int n, double spread, double offset = 0) {
  std::vector<double> v;
  for (int i = 0; i < n; ++i) {
    const double t = n == 1 ? 0 : (static_cast<double>(i) / (n - 1) - 0.5) * 2;  // -1..1
    v.push_back(center * (1 + spread * t) + offset * (i + 1));
  }
  return v;
}

}  // namespace coroscope::report::testing
