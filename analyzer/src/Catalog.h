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
class CallExpr;
class CoawaitExpr;
class CXXRecordDecl;
class Expr;
class FunctionDecl;
class Stmt;
class ValueDecl;
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

// Executor hops, as data: after `co_await` of one of these the coroutine runs on another thread (Off) or is
// back on its event loop (Loop). ByExecutor decides from argument `arg`'s type, looked up in the executor
// table (through std::shared_ptr and references); an executor the table does not know counts as Off, so
// nothing after it is reported (unclear: do not report).
enum class HopKind : std::uint8_t { Off, Loop, ByExecutor };
struct HopSpec {
  std::string_view name;  // a function, or a member matched on the object's class like BlockingSpec
  HopKind kind;
  int arg = -1;
};
struct ExecutorSpec {
  std::string_view name;  // a class
  bool off_loop;          // a thread pool (true) or the event loop's own executor (false)
};

// The catalog name under which spin loops are listed (category spin).
inline constexpr std::string_view kSpinLoop = "(spin loop)";

std::vector<BlockingSpec> builtinBlockingSpecs();
std::vector<HopSpec> builtinHops();
// Functions that start a task running on its own (create_task, co_spawn, ...): matched like BlockingSpec names.
std::vector<std::string_view> builtinSpawns();
std::vector<ExecutorSpec> builtinExecutors();
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
  // `within` is the function whose body holds `s`: socket calls are exempt when that body handles
  // EAGAIN/EWOULDBLOCK/EINPROGRESS or makes the socket non-blocking (see nonBlockingSocket).
  std::optional<BlockingHit> classify(const clang::Stmt& s, clang::ASTContext& ctx,
                                      const clang::FunctionDecl* within) const;

  // Where `co_await <operand>` moves the coroutine: true off the loop, false back onto it, nullopt when it
  // is not a hop the catalog knows.
  std::optional<bool> hop(const clang::CoawaitExpr& await, clang::ASTContext& ctx) const;

  // `call` hands a task to the runtime to run on its own (a catalogue spawn function).
  bool isSpawn(const clang::CallExpr& call) const;

  // A lock guard class of the catalog (its constructor is a `lock` entry exempted by lock tags).
  bool isLockGuard(const clang::CXXRecordDecl& guard) const;
  // Whether a guard of this type blocks a thread while it waits: every mutex it is instantiated with is a
  // thread mutex, i.e. the catalog lists its lock()/lock_shared() (categories lock and spin) or its lock()
  // spins on an atomic. A coroutine mutex's guard (std::unique_lock<async_mutex>) is not.
  bool guardBlocksThread(const clang::CXXRecordDecl& guard) const;

 private:
  const BlockingEntry* lookup(const std::string& key, const clang::Expr& call, clang::ASTContext& ctx,
                              const clang::FunctionDecl* within) const;
  bool threadMutex(const clang::CXXRecordDecl& mutex) const;
  struct SocketEvidence {
    bool handles_would_block = false;            // EAGAIN / EWOULDBLOCK / EINPROGRESS in the body
    std::set<const clang::ValueDecl*> non_blocking;  // fds made non-blocking in the body
  };
  const SocketEvidence& socketEvidence(const clang::FunctionDecl& fn, clang::ASTContext& ctx) const;
  bool nonBlockingSocket(const clang::Expr& call, clang::ASTContext& ctx, const clang::FunctionDecl* within) const;
  std::unordered_map<std::string, std::vector<BlockingEntry>> entries_;
  mutable std::unordered_map<const clang::FunctionDecl*, SocketEvidence> socket_evidence_;
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

// A loop that spins on an atomic until another thread lets it through (`while (flag.test_and_set()) {}`,
// `while (locked.exchange(true)) {}`): the call that spins, or nullptr. Compare-exchange retry loops are
// lock-free progress, not waits, and are not spin loops.
const clang::Expr* spinLoopCall(const clang::Stmt& s);

}  // namespace coroscope::lint
