// The knowledge of what blocks: a table of names (built in, plus the config's additions) and the lookup
// that decides whether one call or construction in the AST is one of them.
#pragma once

#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace clang {
class ASTContext;
class CXXRecordDecl;
class Expr;
class FunctionDecl;
class Stmt;
}  // namespace clang

namespace coroscope::lint {

// When a listed function does not block after all, decided from the call's arguments.
enum class Exemption : std::uint8_t {
  None,
  ZeroTimeout,      // argument `arg` is a constant 0 (poll(fds, n, 0))
  ZeroDuration,     // argument `arg` is a zero duration (wait_for(0s))
  Flag,             // argument `arg` names `flag` or has bit `bit` set (MSG_DONTWAIT, WNOHANG, LOCK_NB)
  UnlessStdin,      // reported only when argument `arg` is std::cin / std::wcin
  UnlessFileStream, // reported only when argument `arg` is a file stream
  LockTag,          // a guard built with defer_lock/try_to_lock/adopt_lock, or with no mutex, does not lock
  CopyOrMove,       // copy/move construction or default construction does not block
  FileStatus,       // std::filesystem::exists(file_status) only inspects a value
};

// One line of the built-in table. `name` is qualified without a leading "::":
//   "sleep"                             a C function (std::sleep is the same declaration)
//   "std::this_thread::sleep_for"       a namespaced function
//   "std::future::get"                  a member, matched on the object's class or any base
//   "std::jthread::jthread"             a constructor
//   "std::basic_istream::operator>>"    an operator, matched on its left operand's class
struct BlockingSpec {
  std::string_view category;
  std::string_view name;
  Exemption exemption = Exemption::None;
  int arg = -1;
  std::string_view flag = {};
  std::int64_t bit = 0;
  std::string_view replacement = {};  // {0}, {1}, {args}: the call's argument text
};

struct BlockingEntry {
  std::string category;
  std::string name;
  Exemption exemption = Exemption::None;
  int arg = -1;
  std::string flag;
  std::int64_t bit = 0;
  std::string replacement;
};

struct BlockingHit {
  const BlockingEntry* entry = nullptr;
  const clang::Expr* expr = nullptr;  // the call or construction
  std::string callee;                 // the catalog name that matched
};

std::vector<BlockingSpec> builtinBlockingSpecs();
std::vector<std::string_view> builtinCategories();
bool categoryEnabledByDefault(std::string_view category);

class Catalog {
 public:
  void add(BlockingEntry entry);
  // A user entry naming a known function changes its replacement (and category, when given) instead of
  // adding a second entry, so a config can pick the sleep replacement of its own runtime.
  void addOrOverride(BlockingEntry entry);
  void allow(std::string name) { allowed_.insert(std::move(name)); }
  void enableCategory(const std::string& category, bool on);
  bool categoryEnabled(const std::string& category) const;

  // Whether `name` (a function's qualified name) was allowed by the config.
  bool isAllowed(const std::string& name) const { return allowed_.count(name) != 0; }

  // The blocking entry `s` matches, when `s` is a call or construction of something listed, its category is
  // enabled and no exemption applies.
  std::optional<BlockingHit> classify(const clang::Stmt& s, clang::ASTContext& ctx) const;

 private:
  const BlockingEntry* lookup(const std::string& key, const clang::Expr& call,
                              clang::ASTContext& ctx) const;
  std::unordered_map<std::string, std::vector<BlockingEntry>> entries_;
  std::set<std::string> allowed_;
  std::set<std::string> disabled_categories_;
};

// Qualified names as the catalog spells them: no template arguments, no inline namespaces, no leading "::".
std::string qualifiedName(const clang::FunctionDecl& fn);
std::string className(const clang::CXXRecordDecl& record);
// How findings name a function: the template pattern's name, "f::(lambda)" for a lambda in f.
std::string functionDisplayName(const clang::FunctionDecl& fn);

// The catalog's replacement with {0}, {1}, {args} filled from the call's argument text.
std::string fillReplacement(const std::string& pattern, const clang::Expr& call, clang::ASTContext& ctx);

}  // namespace coroscope::lint
