// Cross-translation-unit transitive analysis, as map and reduce. The map step (one per TU, what -j runs in
// parallel) writes a summary of every function body it saw, keyed by USR: the first blocking call it makes
// directly, the plain functions it calls, and the calls coroutines make to plain functions. The reduce step
// (solveTransitive) links all summaries of the program and finds which functions reach a blocking call,
// over any number of TUs and through cycles, and turns each coroutine call to one into a finding that names
// the chain (`open_log -> write_header -> fopen`).
#pragma once

#include "Finding.h"

#include <nlohmann/json_fwd.hpp>

#include <optional>
#include <string>
#include <vector>

namespace coroscope::lint {

struct SummarySite {
  Location where;
  std::string source_line;
};

struct DirectBlock {
  std::string callee;  // the catalog name
  std::string category;
  SummarySite site;
};

struct CallEdge {
  std::string usr;   // the callee
  std::string name;  // its display name
  SummarySite site;
};

struct FunctionSummary {
  std::string usr;
  std::string name;        // display name
  bool coroutine = false;  // checked on its own, never followed through
  std::optional<DirectBlock> direct;
  std::vector<CallEdge> calls;  // plain functions it may call, first site of each
};

// A call in an async coroutine to a plain function: a finding once the reduce step knows the callee blocks.
struct CoroutineCall {
  std::string callee_usr;
  std::string callee_name;
  Finding finding;  // where, function and source line filled in; message and notes come from the reduce
};

struct TUSummary {
  std::vector<FunctionSummary> functions;
  std::vector<CoroutineCall> calls;
};

// The reduce step. Deterministic: the same summaries in any order give the same findings (for each function
// the shortest chain, ties broken by call order then USR).
std::vector<Finding> solveTransitive(const std::vector<const TUSummary*>& summaries);

// JSON round trip (summary files, the cache, shard outputs). Locations are written through `path` so reports
// can use paths relative to their root; fromJson throws std::runtime_error naming the field on bad input.
nlohmann::json toJson(const TUSummary& summary, const std::string& root);
TUSummary summaryFromJson(const nlohmann::json& j);
nlohmann::json toJson(const Finding& finding, const std::string& root);
Finding findingFromJson(const nlohmann::json& j);

}  // namespace coroscope::lint
