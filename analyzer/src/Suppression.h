// NOLINT comments, read from a file's text: `// NOLINT`, `// NOLINT(rule, ...)`, `// NOLINTNEXTLINE(rule)`,
// and `// NOLINTBEGIN(rule)` ... `// NOLINTEND(rule)`. Without a list they cover every rule; a list names
// rules by id (blocking-call) or with the clang-tidy module prefix (coroscope-blocking-call), `*` for all.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace coroscope::lint {

class SuppressionIndex {
 public:
  explicit SuppressionIndex(std::string_view text);
  bool suppressed(std::string_view rule, unsigned line) const;

 private:
  struct Span {
    unsigned first;
    unsigned last;
    std::vector<std::string> rules;  // empty: every rule
  };
  std::vector<Span> spans_;
};

}  // namespace coroscope::lint
