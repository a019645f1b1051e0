#include "Summary.h"

#include "Output.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <deque>
#include <set>
#include <tuple>
#include <stdexcept>
#include <unordered_map>

namespace coroscope::lint {

using nlohmann::json;

std::vector<Finding> solveTransitive(const std::vector<const TUSummary*>& summaries) {
  // One summary per USR: a header's function is summarised by every TU that includes it, identically.
  std::unordered_map<std::string, const FunctionSummary*> byUsr;
  std::vector<const FunctionSummary*> functions;
  for (const TUSummary* tu : summaries)
    for (const FunctionSummary& f : tu->functions)
      if (byUsr.emplace(f.usr, &f).second) functions.push_back(&f);
  std::sort(functions.begin(), functions.end(),
            [](const FunctionSummary* a, const FunctionSummary* b) { return a->usr < b->usr; });

  // Reverse edges, then a breadth-first worklist from the functions that block directly: each function is
  // reached once, by its shortest chain, so cycles (mutual recursion) end and cost nothing extra.
  std::unordered_map<std::string, std::vector<std::pair<const FunctionSummary*, const CallEdge*>>> callers;
  for (const FunctionSummary* f : functions) {
    if (f->coroutine) continue;
    for (const CallEdge& e : f->calls) callers[e.usr].emplace_back(f, &e);
  }
  struct Reach {
    const CallEdge* via = nullptr;  // the call taken towards the blocking call; nullptr when it blocks directly
  };
  std::unordered_map<const FunctionSummary*, Reach> reached;
  std::deque<const FunctionSummary*> work;
  for (const FunctionSummary* f : functions)
    if (!f->coroutine && f->direct) {
      reached[f] = Reach{};
      work.push_back(f);
    }
  while (!work.empty()) {
    const FunctionSummary* g = work.front();
    work.pop_front();
    auto it = callers.find(g->usr);
    if (it == callers.end()) continue;
    for (const auto& [f, edge] : it->second)
      if (reached.emplace(f, Reach{edge}).second) work.push_back(f);
  }

  std::vector<Finding> out;
  std::set<std::tuple<std::string, unsigned, unsigned>> places;
  for (const TUSummary* tu : summaries)
    for (const CoroutineCall& call : tu->calls) {
      auto callee = byUsr.find(call.callee_usr);
      if (callee == byUsr.end() || callee->second->coroutine) continue;
      auto r = reached.find(callee->second);
      if (r == reached.end()) continue;
      const Location& w = call.finding.where;
      if (!places.emplace(w.file, w.line, w.column).second) continue;
      Finding f = call.finding;
      std::string chain = callee->second->name;
      const FunctionSummary* at = callee->second;
      unsigned steps = 0;
      for (;;) {
        ++steps;
        const Reach& step = reached.at(at);
        if (step.via == nullptr) {
          f.notes.push_back(Note{at->direct->site.where,
                                 "'" + at->name + "' calls '" + at->direct->callee + "', which blocks (" +
                                     at->direct->category + ")",
                                 at->direct->site.source_line, std::nullopt});
          chain += " -> " + at->direct->callee;
          f.category = at->direct->category;
          break;
        }
        f.notes.push_back(Note{step.via->site.where, "'" + at->name + "' calls '" + step.via->name + "'",
                               step.via->site.source_line, std::nullopt});
        chain += " -> " + step.via->name;
        at = byUsr.at(step.via->usr);
      }
      f.callee = callee->second->name;
      f.message = "'" + callee->second->name + "' blocks the thread inside coroutine '" + f.function +
                  "': it reaches a " + f.category + " call through " + std::to_string(steps) +
                  (steps == 1 ? " call" : " calls") + " (" + chain + ")";
      out.push_back(std::move(f));
    }
  return out;
}

namespace {

json location(const Location& l, const std::string& root) {
  return {{"file", displayPath(l.file, root)}, {"line", l.line}, {"column", l.column}};
}

// A field of an object, with an error naming it when missing or of the wrong type.
template <typename T>
T field(const json& j, const char* name) {
  if (!j.is_object() || !j.contains(name)) throw std::runtime_error(std::string("missing field '") + name + "'");
  try {
    return j.at(name).get<T>();
  } catch (const json::exception&) {
    throw std::runtime_error(std::string("field '") + name + "' has the wrong type");
  }
}

Location locationFrom(const json& j) {
  return Location{field<std::string>(j, "file"), field<unsigned>(j, "line"), field<unsigned>(j, "column")};
}

json site(const SummarySite& s, const std::string& root) {
  json j = location(s.where, root);
  j["source_line"] = s.source_line;
  return j;
}

SummarySite siteFrom(const json& j) { return SummarySite{locationFrom(j), field<std::string>(j, "source_line")}; }

}  // namespace

json toJson(const Finding& f, const std::string& root) {
  json notes = json::array();
  for (const auto& n : f.notes) {
    json note = location(n.where, root);
    note["message"] = n.message;
    note["source_line"] = n.source_line;
    if (n.fixit)
      note["fixit"] = {{"file", displayPath(n.fixit->begin.file, root)},
                       {"line", n.fixit->begin.line},
                       {"column", n.fixit->begin.column},
                       {"end_line", n.fixit->end.line},
                       {"end_column", n.fixit->end.column},
                       {"replacement", n.fixit->replacement}};
    notes.push_back(std::move(note));
  }
  json item = location(f.where, root);
  item["rule"] = f.rule;
  item["message"] = f.message;
  item["function"] = f.function;
  item["callee"] = f.callee;
  item["category"] = f.category;
  item["source_line"] = f.source_line;
  item["notes"] = std::move(notes);
  return item;
}

Finding findingFromJson(const json& j) {
  Finding f;
  f.where = locationFrom(j);
  f.rule = field<std::string>(j, "rule");
  f.message = field<std::string>(j, "message");
  f.function = field<std::string>(j, "function");
  f.callee = field<std::string>(j, "callee");
  f.category = field<std::string>(j, "category");
  f.source_line = j.value("source_line", std::string());
  for (const json& n : field<json>(j, "notes")) {
    Note note{locationFrom(n), field<std::string>(n, "message"), n.value("source_line", std::string()),
              std::nullopt};
    if (n.contains("fixit")) {
      const json& x = n.at("fixit");
      const std::string file = field<std::string>(x, "file");
      note.fixit = FixIt{Location{file, field<unsigned>(x, "line"), field<unsigned>(x, "column")},
                         Location{file, field<unsigned>(x, "end_line"), field<unsigned>(x, "end_column")},
                         field<std::string>(x, "replacement")};
    }
    f.notes.push_back(std::move(note));
  }
  return f;
}

json toJson(const TUSummary& summary, const std::string& root) {
  json functions = json::array();
  for (const FunctionSummary& f : summary.functions) {
    json calls = json::array();
    for (const CallEdge& e : f.calls) {
      json c = site(e.site, root);
      c["usr"] = e.usr;
      c["name"] = e.name;
      calls.push_back(std::move(c));
    }
    json item = {{"usr", f.usr}, {"name", f.name}, {"coroutine", f.coroutine}, {"calls", std::move(calls)}};
    if (f.direct) {
      json d = site(f.direct->site, root);
      d["callee"] = f.direct->callee;
      d["category"] = f.direct->category;
      item["direct"] = std::move(d);
    }
    functions.push_back(std::move(item));
  }
  json calls = json::array();
  for (const CoroutineCall& c : summary.calls)
    calls.push_back({{"callee_usr", c.callee_usr}, {"callee_name", c.callee_name}, {"finding", toJson(c.finding, root)}});
  return {{"functions", std::move(functions)}, {"coroutine_calls", std::move(calls)}};
}

TUSummary summaryFromJson(const json& j) {
  TUSummary out;
  for (const json& f : field<json>(j, "functions")) {
    FunctionSummary s;
    s.usr = field<std::string>(f, "usr");
    s.name = field<std::string>(f, "name");
    s.coroutine = field<bool>(f, "coroutine");
    for (const json& c : field<json>(f, "calls"))
      s.calls.push_back(CallEdge{field<std::string>(c, "usr"), field<std::string>(c, "name"), siteFrom(c)});
    if (f.contains("direct")) {
      const json& d = f.at("direct");
      s.direct = DirectBlock{field<std::string>(d, "callee"), field<std::string>(d, "category"), siteFrom(d)};
    }
    out.functions.push_back(std::move(s));
  }
  for (const json& c : field<json>(j, "coroutine_calls"))
    out.calls.push_back(CoroutineCall{field<std::string>(c, "callee_usr"), field<std::string>(c, "callee_name"),
                                      findingFromJson(field<json>(c, "finding"))});
  return out;
}

}  // namespace coroscope::lint
