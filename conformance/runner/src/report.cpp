#include <conform/report.hpp>

#include <algorithm>
#include <cstdio>
#include <map>
#include <sstream>

namespace conform {

namespace {

std::string xml_escape(const std::string& s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&apos;"; break;
      default:
        // XML 1.0 forbids most control characters, even escaped.
        if (static_cast<unsigned char>(c) < 0x20 && c != '\n' && c != '\t' && c != '\r') out += '?';
        else out += c;
    }
  }
  return out;
}

std::string md_escape(const std::string& s) {
  std::string out;
  for (char c : s) {
    if (c == '|') out += "\\|";
    else out += c;
  }
  return out;
}

// A matrix cell: the status, with why for the statuses that need one.
std::string md_cell(const scenario_result& r) {
  if (r.status == "unsupported" && !r.missing.empty()) {
    std::string out = "unsupported (needs ";
    for (std::size_t i = 0; i < r.missing.size(); ++i) out += (i ? ", `" : "`") + r.missing[i] + "`";
    return out + ")";
  }
  if (r.status == "crash" || r.status == "timeout") return "**" + r.status + "**: " + md_escape(r.message);
  return r.status;
}

json trace_json(const std::vector<event>& t) {
  json a = json::array();
  for (const auto& e : t) a.push_back(to_json(e));
  return a;
}

std::string seconds(double ms) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.4f", ms / 1000.0);
  return buf;
}

}  // namespace

std::size_t runtime_result::count(const std::string& status) const {
  return static_cast<std::size_t>(
      std::count_if(results.begin(), results.end(), [&](const scenario_result& r) { return r.status == status; }));
}

std::string report_text(const std::vector<runtime_result>& runs) {
  std::ostringstream o;
  for (const auto& run : runs) {
    for (const auto& r : run.results) {
      if (r.status == "crash" || r.status == "timeout") {
        o << (r.status == "crash" ? "CRASH " : "TIMEOUT ") << run.runtime << " " << r.s->id << ": " << r.s->title
          << "\n  " << r.s->file << "\n  " << r.message << "\n\n";
        continue;
      }
      if (r.status != "fail" && r.status != "note") continue;
      o << (r.status == "fail" ? "FAIL " : "NOTE ") << run.runtime << " " << r.s->id << " (" << r.s->authority
        << (r.s->version_specific() ? ", version-specific" : "") << "): " << r.s->title << "\n"
        << "  " << r.s->file << "\n  " << r.message << "\n"
        << side_by_side(r.s->expected, r.actual) << "\n";
    }
  }
  for (const auto& run : runs) {
    o << run.runtime << ": " << run.results.size() << " scenarios, " << run.count("pass") << " pass, "
      << run.count("fail") << " fail, " << run.count("unsupported") << " unsupported, " << run.count("note")
      << " note, " << run.count("crash") << " crash, " << run.count("timeout") << " timeout\n";
  }
  return o.str();
}

json report_json(const std::vector<runtime_result>& runs) {
  json out{{"tool", "coroscope-conform"}, {"schema", 1}, {"runs", json::array()}};
  for (const auto& run : runs) {
    json summary{{"total", run.results.size()}};
    for (const auto& st : all_statuses()) summary[st] = run.count(st);
    json scenarios = json::array();
    for (const auto& r : run.results) {
      scenarios.push_back({{"id", r.s->id},
                           {"group", r.s->group},
                           {"title", r.s->title},
                           {"authority", r.s->authority},
                           {"tags", r.s->tags},
                           {"status", r.status},
                           {"duration", r.duration_ms / 1000.0},
                           {"message", r.message},
                           {"missing_features", r.missing},
                           {"expected", trace_json(r.s->expected)},
                           {"actual", trace_json(r.actual)}});
    }
    out["runs"].push_back({{"runtime", run.runtime},
                           {"description", run.description},
                           {"oracle_python", run.results.empty() ? std::string() : run.results.front().s->python},
                           {"summary", summary},
                           {"scenarios", scenarios}});
  }
  return out;
}

std::string report_junit(const std::vector<runtime_result>& runs) {
  std::ostringstream o;
  o << "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites name=\"coroscope-conform\">\n";
  for (const auto& run : runs) {
    double total = 0;
    for (const auto& r : run.results) total += r.duration_ms;
    o << "  <testsuite name=\"conformance." << xml_escape(run.runtime) << "\" tests=\"" << run.results.size()
      << "\" failures=\"" << run.count("fail") << "\" errors=\"" << run.count("crash") + run.count("timeout")
      << "\" skipped=\"" << run.count("unsupported")
      << "\" time=\"" << seconds(total) << "\">\n";
    for (const auto& r : run.results) {
      o << "    <testcase classname=\"" << xml_escape(run.runtime + "." + r.s->group) << "\" name=\""
        << xml_escape(r.s->id + " " + r.s->title) << "\" time=\"" << seconds(r.duration_ms) << "\"";
      if (r.status == "pass") {
        o << "/>\n";
        continue;
      }
      o << ">\n";
      if (r.status == "fail")
        o << "      <failure message=\"" << xml_escape(r.message) << "\">"
          << xml_escape(side_by_side(r.s->expected, r.actual)) << "</failure>\n";
      else if (r.status == "crash" || r.status == "timeout")
        o << "      <error type=\"" << r.status << "\" message=\"" << xml_escape(r.status + ": " + r.message) << "\"/>\n";
      else if (r.status == "unsupported")
        o << "      <skipped message=\"" << xml_escape("unsupported: " + r.message) << "\"/>\n";
      else
        o << "      <system-out>" << xml_escape("note (informative scenario differs): " + r.message + "\n" +
                                                side_by_side(r.s->expected, r.actual))
          << "</system-out>\n";
      o << "    </testcase>\n";
    }
    o << "  </testsuite>\n";
  }
  o << "</testsuites>\n";
  return o.str();
}

std::string report_markdown(const std::vector<runtime_result>& runs) {
  std::ostringstream o;
  o << "| Scenario | Group | Authority | Title |";
  for (const auto& run : runs) o << " " << run.runtime << " |";
  o << "\n|---|---|---|---|";
  for (std::size_t i = 0; i < runs.size(); ++i) o << "---|";
  o << "\n";
  // Rows follow the first run's order; every run covers the same scenarios.
  std::map<std::string, std::vector<const scenario_result*>> by_id;
  std::vector<const scenario*> order;
  for (const auto& run : runs)
    for (const auto& r : run.results) {
      auto& v = by_id[r.s->id];
      if (v.empty()) order.push_back(r.s);
      v.push_back(&r);
    }
  for (const auto* s : order) {
    o << "| " << s->id << " | " << s->group << " | " << s->authority << (s->version_specific() ? " (VER)" : "")
      << " | " << md_escape(s->title) << " |";
    for (const auto* r : by_id[s->id]) o << " " << md_cell(*r) << " |";
    o << "\n";
  }
  o << "| **total** | | | |";
  for (const auto& run : runs)
    o << " " << run.count("pass") << " pass, " << run.count("fail") << " fail, " << run.count("unsupported")
      << " unsupported, " << run.count("note") << " note, " << run.count("crash") << " crash, " << run.count("timeout")
      << " timeout |";
  o << "\n";
  return o.str();
}

}  // namespace conform
