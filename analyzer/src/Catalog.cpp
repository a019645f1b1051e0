#include "Catalog.h"

#include "Region.h"

#include <clang/AST/ASTContext.h>
#include <clang/AST/DeclCXX.h>
#include <clang/AST/DeclTemplate.h>
#include <clang/AST/Expr.h>
#include <clang/AST/ExprCXX.h>
#include <clang/AST/RecursiveASTVisitor.h>
#include <clang/AST/StmtCXX.h>
#include <clang/Basic/SourceManager.h>
#include <clang/Lex/Lexer.h>

#include <algorithm>
#include <deque>

namespace coroscope::lint {

using namespace clang;

namespace {

std::vector<std::string> keysFor(const Expr& e);

std::string recordName(const CXXRecordDecl& rd) {
  if (rd.isLambda()) return "(lambda)";
  if (const auto* spec = dyn_cast<ClassTemplateSpecializationDecl>(&rd))
    return spec->getSpecializedTemplate()->getNameAsString();
  if (rd.getName().empty()) return "(anonymous)";
  return rd.getNameAsString();
}

// Inline namespaces (std::__cxx11, std::_V2) are how libstdc++ versions its ABI; users never spell them.
std::string contextPrefix(const DeclContext* dc) {
  std::vector<std::string> parts;
  for (; dc != nullptr; dc = dc->getParent()) {
    if (const auto* ns = dyn_cast<NamespaceDecl>(dc)) {
      if (ns->isInline()) continue;
      parts.push_back(ns->isAnonymousNamespace() ? "(anonymous namespace)" : ns->getNameAsString());
    } else if (const auto* rd = dyn_cast<CXXRecordDecl>(dc)) {
      parts.push_back(recordName(*rd));
    } else if (const auto* fd = dyn_cast<FunctionDecl>(dc)) {
      parts.push_back(fd->getNameAsString());
    }
  }
  std::string out;
  for (auto it = parts.rbegin(); it != parts.rend(); ++it) out += *it + "::";
  return out;
}

const Expr* argAt(const Expr& call, int index) {
  if (index < 0) return nullptr;
  const auto i = static_cast<unsigned>(index);
  if (const auto* c = dyn_cast<CallExpr>(&call)) return i < c->getNumArgs() ? c->getArg(i) : nullptr;
  if (const auto* c = dyn_cast<CXXConstructExpr>(&call)) return i < c->getNumArgs() ? c->getArg(i) : nullptr;
  return nullptr;
}

std::vector<std::string> classChain(QualType type) {
  std::vector<std::string> names;
  type = type.getNonReferenceType();
  if (type->isPointerType()) type = type->getPointeeType();
  const CXXRecordDecl* start = type->getAsCXXRecordDecl();
  if (start == nullptr) return names;
  std::deque<const CXXRecordDecl*> queue{start};
  while (!queue.empty()) {
    const CXXRecordDecl* rd = queue.front();
    queue.pop_front();
    names.push_back(className(*rd));
    if (!rd->hasDefinition()) continue;
    for (const auto& base : rd->bases())
      if (const auto* b = base.getType()->getAsCXXRecordDecl()) queue.push_back(b);
  }
  return names;
}

bool chainHas(QualType type, std::initializer_list<std::string_view> classes) {
  for (const auto& name : classChain(type))
    if (std::find(classes.begin(), classes.end(), name) != classes.end()) return true;
  return false;
}

std::string sourceText(const Expr& e, ASTContext& ctx) {
  return Lexer::getSourceText(CharSourceRange::getTokenRange(e.getSourceRange()), ctx.getSourceManager(),
                              ctx.getLangOpts())
      .str();
}

bool mentionsWord(const std::string& text, std::string_view word) {
  auto isIdent = [](char c) { return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '_'; };
  for (std::size_t pos = text.find(word); pos != std::string::npos; pos = text.find(word, pos + 1)) {
    const bool startOk = pos == 0 || !isIdent(text[pos - 1]);
    const bool endOk = pos + word.size() >= text.size() || !isIdent(text[pos + word.size()]);
    if (startOk && endOk) return true;
  }
  return false;
}

std::optional<std::int64_t> constantInt(const Expr* e, ASTContext& ctx) {
  if (e == nullptr || e->isValueDependent() || e->isTypeDependent()) return std::nullopt;
  Expr::EvalResult result;
  if (!e->EvaluateAsInt(result, ctx)) return std::nullopt;
  return result.Val.getInt().getExtValue();
}

// A std::chrono::duration is a struct holding one number; a constant one is zero when that number is.
bool isZeroDuration(const Expr* e, ASTContext& ctx) {
  e = stripImplicit(e);
  if (e == nullptr || e->isValueDependent() || e->isTypeDependent()) return false;
  Expr::EvalResult result;
  if (!e->EvaluateAsRValue(result, ctx)) return false;
  const APValue& v = result.Val;
  if (v.isInt()) return v.getInt().isZero();
  if (v.isFloat()) return v.getFloat().isZero();
  if (v.isStruct() && v.getStructNumFields() == 1) {
    const APValue& f = v.getStructField(0);
    if (f.isInt()) return f.getInt().isZero();
    if (f.isFloat()) return f.getFloat().isZero();
  }
  return false;
}

bool refersToStdin(const Expr* e) {
  const auto* ref = dyn_cast_or_null<DeclRefExpr>(stripImplicit(e));
  if (ref == nullptr) return false;
  const auto* var = dyn_cast<VarDecl>(ref->getDecl());
  if (var == nullptr) return false;
  const std::string name = contextPrefix(var->getDeclContext()) + var->getNameAsString();
  return name == "std::cin" || name == "std::wcin";
}

bool exempt(const BlockingEntry& entry, const Expr& call, ASTContext& ctx) {
  const Expr* arg = argAt(call, entry.arg);
  if (arg != nullptr) arg = arg->IgnoreParenImpCasts();  // the argument as written, not as converted
  switch (entry.exemption) {
    case Exemption::None:
      return false;
    case Exemption::ZeroTimeout: {
      auto v = constantInt(arg, ctx);
      return v && *v == 0;
    }
    case Exemption::ZeroDuration:
      return isZeroDuration(arg, ctx);
    case Exemption::Flag: {
      if (arg == nullptr) return false;
      if (mentionsWord(sourceText(*arg, ctx), entry.flag)) return true;
      auto v = constantInt(arg, ctx);
      return v && (*v & entry.bit) != 0;
    }
    case Exemption::UnlessStdin:
      return !refersToStdin(arg);
    case Exemption::UnlessFileStream:
      return arg == nullptr ||
             !chainHas(arg->getType(), {"std::basic_ifstream", "std::basic_ofstream", "std::basic_fstream"});
    case Exemption::LockTag: {
      const auto* ctor = dyn_cast<CXXConstructExpr>(&call);
      if (ctor == nullptr) return false;
      if (ctor->getNumArgs() == 0 || ctor->getConstructor()->isCopyOrMoveConstructor()) return true;
      for (const Expr* a : ctor->arguments())
        if (chainHas(a->getType(), {"std::defer_lock_t", "std::try_to_lock_t", "std::adopt_lock_t"})) return true;
      return false;
    }
    case Exemption::CopyOrMove: {
      const auto* ctor = dyn_cast<CXXConstructExpr>(&call);
      return ctor != nullptr && (ctor->getNumArgs() == 0 || isa<CXXDefaultArgExpr>(ctor->getArg(0)) ||
                                 ctor->getConstructor()->isCopyOrMoveConstructor());
    }
    case Exemption::FileStatus:
      return arg != nullptr && chainHas(arg->getType(), {"std::filesystem::file_status"});
  }
  return false;
}

// The catalog names a call or construction can be listed under: constructors as Class::Class; members and
// operators under each class of the object (as written, before the implicit derived-to-base cast to the
// class declaring the member: libstdc++ declares future::wait in __basic_future), then the function's own
// qualified name.
std::vector<std::string> keysFor(const Expr& e) {
  std::vector<std::string> keys;
  if (const auto* ctor = dyn_cast<CXXConstructExpr>(&e)) {
    if (const CXXConstructorDecl* cd = ctor->getConstructor())
      keys.push_back(className(*cd->getParent()) + "::" + recordName(*cd->getParent()));
  } else if (const auto* call = dyn_cast<CallExpr>(&e)) {
    const FunctionDecl* fd = call->getDirectCallee();
    if (fd == nullptr) return keys;
    const Expr* object = nullptr;
    if (const auto* member = dyn_cast<CXXMemberCallExpr>(call))
      object = member->getImplicitObjectArgument();
    else if (const auto* op = dyn_cast<CXXOperatorCallExpr>(call); op != nullptr && op->getNumArgs() > 0)
      object = op->getArg(0);
    if (object != nullptr)
      for (const auto& cls : classChain(object->IgnoreParenImpCasts()->getType()))
        keys.push_back(cls + "::" + fd->getNameAsString());
    keys.push_back(qualifiedName(*fd));
  }
  return keys;
}

// Whether an executor (or a smart pointer to one) is a thread pool; nullopt when the table does not know it.
std::optional<bool> executorOffLoop(QualType type) {
  static const std::vector<ExecutorSpec> executors = builtinExecutors();
  type = type.getNonReferenceType();
  if (type->isPointerType()) type = type->getPointeeType();
  if (const auto* spec = dyn_cast_or_null<ClassTemplateSpecializationDecl>(type->getAsCXXRecordDecl())) {
    const std::string name = className(*spec);
    if ((name == "std::shared_ptr" || name == "std::unique_ptr") && spec->getTemplateArgs().size() > 0 &&
        spec->getTemplateArgs()[0].getKind() == TemplateArgument::Type)
      type = spec->getTemplateArgs()[0].getAsType();
  }
  for (const auto& cls : classChain(type))
    for (const ExecutorSpec& ex : executors)
      if (ex.name == cls) return ex.off_loop;
  return std::nullopt;
}

}  // namespace

std::string className(const CXXRecordDecl& record) {
  return contextPrefix(record.getDeclContext()) + recordName(record);
}

std::string qualifiedName(const FunctionDecl& fn) {
  std::string leaf;
  if (const auto* ctor = dyn_cast<CXXConstructorDecl>(&fn))
    leaf = recordName(*ctor->getParent());
  else if (const auto* dtor = dyn_cast<CXXDestructorDecl>(&fn))
    leaf.append(1, '~').append(recordName(*dtor->getParent()));
  else
    leaf = fn.getNameAsString();
  return contextPrefix(fn.getDeclContext()) + leaf;
}

std::string functionDisplayName(const FunctionDecl& fn) {
  const FunctionDecl* f = fn.getTemplateInstantiationPattern();
  if (f == nullptr) f = &fn;
  std::string name = qualifiedName(*f);
  if (const auto* method = dyn_cast<CXXMethodDecl>(f); method != nullptr && method->getParent()->isLambda()) {
    const std::string suffix = "::operator()";
    if (name.size() > suffix.size() && name.compare(name.size() - suffix.size(), suffix.size(), suffix) == 0)
      name.erase(name.size() - suffix.size());
  }
  return name;
}

void Catalog::add(BlockingEntry entry) {
  auto& list = entries_[entry.name];
  list.push_back(std::move(entry));
}

void Catalog::addOrOverride(BlockingEntry entry) {
  auto it = entries_.find(entry.name);
  if (it == entries_.end()) {
    if (entry.category.empty()) entry.category = "custom";
    add(std::move(entry));
    return;
  }
  for (auto& existing : it->second) {
    if (!entry.replacement.empty()) existing.replacement = entry.replacement;
    if (!entry.category.empty()) existing.category = entry.category;
  }
}

void Catalog::enableCategory(const std::string& category, bool on) {
  if (on)
    disabled_categories_.erase(category);
  else
    disabled_categories_.insert(category);
}

bool Catalog::categoryEnabled(const std::string& category) const {
  return disabled_categories_.count(category) == 0;
}

const BlockingEntry* Catalog::lookup(const std::string& key, const Expr& call, ASTContext& ctx,
                                     const FunctionDecl* within) const {
  auto it = entries_.find(key);
  if (it == entries_.end()) return nullptr;
  for (const auto& entry : it->second) {
    if (!categoryEnabled(entry.category) || exempt(entry, call, ctx)) continue;
    // Every net-io entry takes the socket first.
    if (entry.category == "net-io" && nonBlockingSocket(call, ctx, within)) continue;
    return &entry;
  }
  return nullptr;
}

std::optional<BlockingHit> Catalog::classify(const Stmt& s, ASTContext& ctx, const FunctionDecl* within) const {
  if (isa<WhileStmt, DoStmt, ForStmt>(&s)) {
    const Expr* spin = spinLoopCall(s);
    if (spin == nullptr) return std::nullopt;
    const auto* call = cast<CallExpr>(spin);
    std::string name = call->getDirectCallee() != nullptr ? qualifiedName(*call->getDirectCallee()) : "atomic";
    if (const auto* member = dyn_cast<CXXMemberCallExpr>(call))
      if (auto chain = classChain(member->getImplicitObjectArgument()->IgnoreParenImpCasts()->getType());
          !chain.empty())
        name = chain.front() + "::" + member->getMethodDecl()->getNameAsString();
    if (isAllowed(name)) return std::nullopt;
    if (const BlockingEntry* entry = lookup(std::string(kSpinLoop), *spin, ctx, within))
      return BlockingHit{entry, spin, "spin loop on '" + name + "'"};
    return std::nullopt;
  }
  const auto* e = dyn_cast<Expr>(&s);
  if (e == nullptr || e->isTypeDependent()) return std::nullopt;
  for (const auto& key : keysFor(*e)) {
    if (isAllowed(key)) return std::nullopt;
    if (const BlockingEntry* entry = lookup(key, *e, ctx, within)) return BlockingHit{entry, e, key};
  }
  return std::nullopt;
}

std::optional<bool> Catalog::hop(const CoawaitExpr& await, ASTContext&) const {
  const auto* call = dyn_cast_or_null<CallExpr>(stripImplicit(await.getOperand()));
  if (call == nullptr || call->getDirectCallee() == nullptr) return std::nullopt;
  static const std::vector<HopSpec> hops = builtinHops();
  for (const auto& key : keysFor(*call))
    for (const HopSpec& h : hops) {
      if (h.name != key) continue;
      if (h.kind != HopKind::ByExecutor) return h.kind == HopKind::Off;
      const Expr* arg = argAt(*call, h.arg);
      if (arg == nullptr) return true;
      return executorOffLoop(arg->IgnoreParenImpCasts()->getType()).value_or(true);
    }
  return std::nullopt;
}

bool Catalog::isSpawn(const CallExpr& call) const {
  static const std::vector<std::string_view> spawns = builtinSpawns();
  for (const auto& key : keysFor(call))
    if (std::find(spawns.begin(), spawns.end(), key) != spawns.end()) return true;
  return false;
}

bool Catalog::isLockGuard(const CXXRecordDecl& guard) const {
  auto it = entries_.find(className(guard) + "::" + recordName(guard));
  if (it == entries_.end()) return false;
  return std::any_of(it->second.begin(), it->second.end(),
                     [](const BlockingEntry& e) { return e.exemption == Exemption::LockTag; });
}

bool Catalog::guardBlocksThread(const CXXRecordDecl& guard) const {
  const auto* spec = dyn_cast<ClassTemplateSpecializationDecl>(&guard);
  if (spec == nullptr) return false;
  auto mutexBlocks = [&](QualType t) {
    const CXXRecordDecl* rd = t.isNull() ? nullptr : t->getAsCXXRecordDecl();
    return rd != nullptr && threadMutex(*rd);
  };
  for (const TemplateArgument& arg : spec->getTemplateArgs().asArray()) {
    if (arg.getKind() == TemplateArgument::Type && mutexBlocks(arg.getAsType())) return true;
    if (arg.getKind() == TemplateArgument::Pack)
      for (const TemplateArgument& p : arg.pack_elements())
        if (p.getKind() == TemplateArgument::Type && mutexBlocks(p.getAsType())) return true;
  }
  return false;
}

bool Catalog::threadMutex(const CXXRecordDecl& mutex) const {
  auto listedLock = [&](const std::string& key) {
    auto it = entries_.find(key);
    return it != entries_.end() && std::any_of(it->second.begin(), it->second.end(), [](const BlockingEntry& e) {
             return e.category == "lock" || e.category == "spin";
           });
  };
  for (const auto& cls : classChain(QualType(mutex.getTypeForDecl(), 0)))
    if (listedLock(cls + "::lock") || listedLock(cls + "::lock_shared")) return true;
  // A mutex of the program: its lock() spins, or takes a thread mutex the catalog knows.
  if (!mutex.hasDefinition()) return false;
  for (const CXXMethodDecl* m : mutex.methods()) {
    if (m->getNameAsString() != "lock") continue;
    const FunctionDecl* def = m->getDefinition();
    if (def == nullptr || def->getBody() == nullptr) continue;
    const Region body = buildRegion(*def);
    for (const auto& node : body.nodes) {
      const Stmt* st = node.get<Stmt>();
      if (st == nullptr) continue;
      if (isa<WhileStmt, DoStmt, ForStmt>(st) && spinLoopCall(*st) != nullptr) return true;
      if (const auto* e = dyn_cast<Expr>(st))
        for (const auto& key : keysFor(*e))
          if (listedLock(key)) return true;
    }
  }
  return false;
}

namespace {

bool expandedFrom(SourceLocation loc, const SourceManager& sm, const LangOptions& lo,
                  std::initializer_list<std::string_view> names) {
  for (int guard = 0; loc.isMacroID() && guard < 16; ++guard) {
    const StringRef name = Lexer::getImmediateMacroName(loc, sm, lo);
    if (std::find(names.begin(), names.end(), std::string_view(name.data(), name.size())) != names.end())
      return true;
    loc = sm.getImmediateMacroCallerLoc(loc);
  }
  return false;
}

// The flag appears in `e`: as a macro (O_NONBLOCK), an enumerator (glibc's SOCK_NONBLOCK), or a set bit.
bool mentionsFlag(const Expr* e, ASTContext& ctx, std::initializer_list<std::string_view> names, std::int64_t bit) {
  if (e == nullptr) return false;
  if (auto v = constantInt(e, ctx); v && bit != 0) return (*v & bit) != 0;
  std::vector<const Stmt*> todo{e};
  while (!todo.empty()) {
    const Stmt* s = todo.back();
    todo.pop_back();
    if (s == nullptr) continue;
    if (expandedFrom(s->getBeginLoc(), ctx.getSourceManager(), ctx.getLangOpts(), names)) return true;
    if (const auto* ref = dyn_cast<DeclRefExpr>(s))
      if (const auto* ec = dyn_cast<EnumConstantDecl>(ref->getDecl()))
        if (std::find(names.begin(), names.end(), std::string_view(ec->getName().data(), ec->getName().size())) !=
            names.end())
          return true;
    for (const Stmt* child : s->children()) todo.push_back(child);
  }
  return false;
}

const ValueDecl* fdDecl(const Expr* e) {
  e = stripImplicit(e);
  if (const auto* ref = dyn_cast_or_null<DeclRefExpr>(e)) return ref->getDecl();
  if (const auto* member = dyn_cast_or_null<MemberExpr>(e)) return member->getMemberDecl();
  return nullptr;
}

constexpr std::int64_t kNonBlockBit = 04000;  // O_NONBLOCK and SOCK_NONBLOCK on Linux

// A call that creates an fd already non-blocking: socket(..., SOCK_NONBLOCK), accept4(..., SOCK_NONBLOCK),
// open(..., O_NONBLOCK).
bool createsNonBlocking(const Expr* init, ASTContext& ctx) {
  const auto* call = dyn_cast_or_null<CallExpr>(stripImplicit(init));
  const FunctionDecl* fd = call != nullptr ? call->getDirectCallee() : nullptr;
  if (fd == nullptr) return false;
  const std::string name = qualifiedName(*fd);
  int flagArg = -1;
  if (name == "socket") flagArg = 1;
  else if (name == "accept4") flagArg = 3;
  else if (name == "open") flagArg = 1;
  else if (name == "openat") flagArg = 2;
  if (flagArg < 0 || static_cast<unsigned>(flagArg) >= call->getNumArgs()) return false;
  return mentionsFlag(call->getArg(static_cast<unsigned>(flagArg))->IgnoreParenImpCasts(), ctx,
                      {"SOCK_NONBLOCK", "O_NONBLOCK"}, kNonBlockBit);
}

class EvidenceWalker : public RecursiveASTVisitor<EvidenceWalker> {
 public:
  EvidenceWalker(ASTContext& ctx, bool& handles, std::set<const ValueDecl*>& nonBlocking)
      : ctx_(ctx), handles_(handles), non_blocking_(nonBlocking) {}
  bool VisitExpr(Expr* e) {
    if (!handles_ && e->getBeginLoc().isMacroID() &&
        expandedFrom(e->getBeginLoc(), ctx_.getSourceManager(), ctx_.getLangOpts(),
                     {"EAGAIN", "EWOULDBLOCK", "EINPROGRESS"}))
      handles_ = true;
    if (const auto* ref = dyn_cast<DeclRefExpr>(e))
      if (const auto* ec = dyn_cast<EnumConstantDecl>(ref->getDecl()))
        if (ec->getName() == "operation_would_block" || ec->getName() == "resource_unavailable_try_again" ||
            ec->getName() == "operation_in_progress")
          handles_ = true;
    if (const auto* call = dyn_cast<CallExpr>(e); call != nullptr && call->getDirectCallee() != nullptr) {
      const std::string name = qualifiedName(*call->getDirectCallee());
      if (name == "fcntl" && call->getNumArgs() >= 3 &&
          mentionsFlag(call->getArg(2)->IgnoreParenImpCasts(), ctx_, {"O_NONBLOCK"}, kNonBlockBit))
        add(call->getArg(0));
      if (name == "ioctl" && call->getNumArgs() >= 2 &&
          mentionsFlag(call->getArg(1)->IgnoreParenImpCasts(), ctx_, {"FIONBIO"}, 0))
        add(call->getArg(0));
    }
    if (const auto* assign = dyn_cast<BinaryOperator>(e);
        assign != nullptr && assign->isAssignmentOp() && createsNonBlocking(assign->getRHS(), ctx_))
      add(assign->getLHS());
    return true;
  }
  bool VisitVarDecl(VarDecl* var) {
    if (var->getInit() != nullptr && createsNonBlocking(var->getInit(), ctx_)) non_blocking_.insert(var);
    return true;
  }

 private:
  void add(const Expr* fd) {
    if (const ValueDecl* d = fdDecl(fd)) non_blocking_.insert(d);
  }
  ASTContext& ctx_;
  bool& handles_;
  std::set<const ValueDecl*>& non_blocking_;
};

}  // namespace

const Catalog::SocketEvidence& Catalog::socketEvidence(const FunctionDecl& fn, ASTContext& ctx) const {
  auto [it, inserted] = socket_evidence_.try_emplace(&fn);
  if (inserted && fn.getBody() != nullptr) {
    EvidenceWalker walker(ctx, it->second.handles_would_block, it->second.non_blocking);
    walker.TraverseStmt(fn.getBody());
  }
  return it->second;
}

bool Catalog::nonBlockingSocket(const Expr& call, ASTContext& ctx, const FunctionDecl* within) const {
  if (within == nullptr) return false;
  const SocketEvidence& evidence = socketEvidence(*within, ctx);
  if (evidence.handles_would_block) return true;
  const ValueDecl* fd = fdDecl(argAt(call, 0));
  return fd != nullptr && evidence.non_blocking.count(fd) != 0;
}

const Expr* spinLoopCall(const Stmt& s) {
  const Expr* cond = nullptr;
  const Stmt* body = nullptr;
  if (const auto* w = dyn_cast<WhileStmt>(&s)) cond = w->getCond(), body = w->getBody();
  else if (const auto* d = dyn_cast<DoStmt>(&s)) cond = d->getCond(), body = d->getBody();
  else if (const auto* f = dyn_cast<ForStmt>(&s)) cond = f->getCond(), body = f->getBody();
  if (cond == nullptr) return nullptr;
  const Expr* found = nullptr;
  std::vector<const Stmt*> todo{cond};
  while (!todo.empty() && found == nullptr) {
    const Stmt* n = todo.back();
    todo.pop_back();
    if (n == nullptr) continue;
    if (const auto* call = dyn_cast<CallExpr>(n); call != nullptr && call->getDirectCallee() != nullptr) {
      const FunctionDecl* fd = call->getDirectCallee();
      const std::string leaf = fd->getNameAsString();
      const std::string name = qualifiedName(*fd);
      if (name == "std::atomic_flag_test_and_set" || name == "std::atomic_flag_test_and_set_explicit" ||
          name == "std::atomic_exchange" || name == "std::atomic_exchange_explicit") {
        found = call;
      } else if (const auto* member = dyn_cast<CXXMemberCallExpr>(call);
                 member != nullptr && (leaf == "test_and_set" || leaf == "exchange") &&
                 chainHas(member->getImplicitObjectArgument()->IgnoreParenImpCasts()->getType(),
                          {"std::atomic_flag", "std::__atomic_flag_base", "std::atomic", "std::__atomic_base",
                           "std::atomic_ref"})) {
        found = call;
      }
    }
    for (const Stmt* child : n->children()) todo.push_back(child);
  }
  if (found == nullptr) return nullptr;
  // A loop that suspends between tries is an async wait, not a spin.
  std::vector<const Stmt*> todo2{body};
  while (!todo2.empty()) {
    const Stmt* n = todo2.back();
    todo2.pop_back();
    if (n == nullptr || isa<LambdaExpr>(n)) continue;
    if (isa<CoawaitExpr, DependentCoawaitExpr, CoyieldExpr>(n)) return nullptr;
    for (const Stmt* child : n->children()) todo2.push_back(child);
  }
  return found;
}

std::string fillReplacement(const std::string& pattern, const Expr& call, ASTContext& ctx) {
  std::vector<std::string> args;
  auto collect = [&](auto range) {
    for (const Expr* a : range)
      if (!isa<CXXDefaultArgExpr>(a)) args.push_back(sourceText(*a, ctx));
  };
  if (const auto* c = dyn_cast<CXXConstructExpr>(&call))
    collect(c->arguments());
  else if (const auto* c2 = dyn_cast<CXXMemberCallExpr>(&call))
    collect(c2->arguments());
  else if (const auto* c3 = dyn_cast<CallExpr>(&call))
    collect(c3->arguments());
  std::string out;
  for (std::size_t i = 0; i < pattern.size(); ++i) {
    if (pattern[i] == '{') {
      const auto close = pattern.find('}', i);
      if (close != std::string::npos) {
        const std::string key = pattern.substr(i + 1, close - i - 1);
        if (key == "args") {
          for (std::size_t a = 0; a < args.size(); ++a) out += (a != 0 ? ", " : "") + args[a];
          i = close;
          continue;
        }
        if (!key.empty() && std::all_of(key.begin(), key.end(), [](char c) { return c >= '0' && c <= '9'; })) {
          const auto index = std::stoul(key);
          out += index < args.size() ? args[index] : "";
          i = close;
          continue;
        }
      }
    }
    out += pattern[i];
  }
  return out;
}

}  // namespace coroscope::lint
