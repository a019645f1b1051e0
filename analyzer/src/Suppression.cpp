#include "Suppression.h"

#include <limits>

namespace coroscope::lint {

namespace {

std::string trim(std::string_view s) {
  const auto b = s.find_first_not_of(" \t");
  if (b == std::string_view::npos) return {};
  const auto e = s.find_last_not_of(" \t");
  return std::string(s.substr(b, e - b + 1));
}

// The rule list right after a marker, "(a, b)"; an empty vector means "every rule".
std::vector<std::string> ruleList(std::string_view rest) {
  std::vector<std::string> rules;
  if (rest.empty() || rest.front() != '(') return rules;
  const auto close = rest.find(')');
  if (close == std::string_view::npos) return rules;
  std::string_view list = rest.substr(1, close - 1);
  while (!list.empty()) {
    const auto comma = list.find(',');
    std::string item = trim(list.substr(0, comma));
    if (!item.empty()) rules.push_back(item);
    if (comma == std::string_view::npos) break;
    list.remove_prefix(comma + 1);
  }
  if (rules.empty()) rules.push_back("<none>");  // NOLINT() suppresses nothing, as in clang-tidy
  return rules;
}

bool covers(const std::vector<std::string>& rules, std::string_view rule) {
  if (rules.empty()) return true;
  for (const auto& r : rules) {
    if (r == "*" || r == "coroscope-*" || r == rule) return true;
    if (r.size() == rule.size() + 10 && r.rfind("coroscope-", 0) == 0 && std::string_view(r).substr(10) == rule)
      return true;
  }
  return false;
}

}  // namespace

SuppressionIndex::SuppressionIndex(std::string_view text) {
  constexpr auto kEnd = std::numeric_limits<unsigned>::max();
  std::vector<Span> open;
  unsigned line = 1;
  std::size_t start = 0;
  while (start <= text.size()) {
    const auto nl = text.find('\n', start);
    const std::string_view content = text.substr(start, nl == std::string_view::npos ? nl : nl - start);
    for (auto pos = content.find("NOLINT"); pos != std::string_view::npos; pos = content.find("NOLINT", pos + 1)) {
      std::string_view rest = content.substr(pos + 6);
      if (rest.rfind("NEXTLINE", 0) == 0) {
        spans_.push_back({line + 1, line + 1, ruleList(rest.substr(8))});
      } else if (rest.rfind("BEGIN", 0) == 0) {
        open.push_back({line, kEnd, ruleList(rest.substr(5))});
      } else if (rest.rfind("END", 0) == 0) {
        const auto rules = ruleList(rest.substr(3));
        for (auto it = open.rbegin(); it != open.rend(); ++it) {
          if (it->rules == rules || rules.empty()) {
            it->last = line;
            spans_.push_back(*it);
            open.erase(std::next(it).base());
            break;
          }
        }
      } else {
        spans_.push_back({line, line, ruleList(rest)});
      }
    }
    if (nl == std::string_view::npos) break;
    start = nl + 1;
    ++line;
  }
  // An unterminated NOLINTBEGIN covers the rest of the file, as clang-tidy does after reporting it.
  for (auto& span : open) spans_.push_back(span);
}

bool SuppressionIndex::suppressed(std::string_view rule, unsigned line) const {
  for (const auto& span : spans_)
    if (line >= span.first && line <= span.last && covers(span.rules, rule)) return true;
  return false;
}

}  // namespace coroscope::lint
