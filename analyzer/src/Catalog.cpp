#include "Catalog.h"

#include "Region.h"

#include <clang/AST/ASTContext.h>
#include <clang/AST/DeclCXX.h>
#include <clang/AST/DeclTemplate.h>
#include <clang/AST/Expr.h>
#include <clang/AST/ExprCXX.h>
#include <clang/Lex/Lexer.h>

#include <algorithm>
#include <deque>

namespace coroscope::lint {

using namespace clang;

namespace {

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

const BlockingEntry* Catalog::lookup(const std::string& key, const Expr& call, ASTContext& ctx) const {
  auto it = entries_.find(key);
  if (it == entries_.end()) return nullptr;
  for (const auto& entry : it->second)
    if (categoryEnabled(entry.category) && !exempt(entry, call, ctx)) return &entry;
  return nullptr;
}

std::optional<BlockingHit> Catalog::classify(const Stmt& s, ASTContext& ctx) const {
  const auto* e = dyn_cast<Expr>(&s);
  if (e == nullptr || e->isTypeDependent()) return std::nullopt;
  std::vector<std::string> keys;
  if (const auto* ctor = dyn_cast<CXXConstructExpr>(e)) {
    const CXXConstructorDecl* cd = ctor->getConstructor();
    if (cd == nullptr) return std::nullopt;
    keys.push_back(className(*cd->getParent()) + "::" + recordName(*cd->getParent()));
  } else if (const auto* call = dyn_cast<CallExpr>(e)) {
    const FunctionDecl* fd = call->getDirectCallee();
    if (fd == nullptr) return std::nullopt;
    const Expr* object = nullptr;
    if (const auto* member = dyn_cast<CXXMemberCallExpr>(call))
      object = member->getImplicitObjectArgument();
    else if (const auto* op = dyn_cast<CXXOperatorCallExpr>(call); op != nullptr && op->getNumArgs() > 0)
      object = op->getArg(0);
    // The object as written, before the implicit derived-to-base cast to the class declaring the member
    // (libstdc++ declares future::wait in __basic_future).
    if (object != nullptr)
      for (const auto& cls : classChain(object->IgnoreParenImpCasts()->getType())) keys.push_back(cls + "::" + fd->getNameAsString());
    keys.push_back(qualifiedName(*fd));
  } else {
    return std::nullopt;
  }
  for (const auto& key : keys) {
    if (isAllowed(key)) return std::nullopt;
    if (const BlockingEntry* entry = lookup(key, *e, ctx)) return BlockingHit{entry, e, key};
  }
  return std::nullopt;
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
