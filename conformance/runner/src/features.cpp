// Feature names as data: the spelling (feature_word / feature_name) and the catalogue behind
// `coroscope-conform features`. model.cpp's validator derives a scenario's features; a unit test checks that
// every feature a stored scenario needs is in this catalogue.
#include <conform/model.hpp>

#include <algorithm>
#include <cctype>

namespace conform {

std::string feature_word(const std::string& w) {
  std::string out;
  for (std::size_t i = 0; i < w.size(); ++i) {
    const auto c = static_cast<unsigned char>(w[i]);
    if (std::isupper(c) && i > 0) {
      const auto prev = static_cast<unsigned char>(w[i - 1]);
      const bool next_lower = i + 1 < w.size() && std::islower(static_cast<unsigned char>(w[i + 1]));
      // FooBar -> foo_bar, HTTPServer -> http_server, ALL_COMPLETED -> all_completed
      if (std::islower(prev) || std::isdigit(prev) || (std::isupper(prev) && next_lower)) out += '_';
    }
    out += static_cast<char>(std::tolower(c));
  }
  return out;
}

std::string feature_name(const std::string& name) {
  std::string out, word;
  for (char c : name + '\0') {
    if (c == ':' || c == '.' || c == '\0') {
      out += feature_word(word);
      if (c) out += c;
      word.clear();
    } else {
      word += c;
    }
  }
  return out;
}

namespace {

// The scenario language's kinds of object as SCENARIOS.md spells them, with how a feature line names them.
const std::vector<std::pair<std::string, std::string>> k_objects{
    {"task", "a task (create_task)"},
    {"future", "a Future (new Future, run_in_executor)"},
    {"gather", "a gather() future"},
    {"shield", "a shield() future"},
    {"handle", "a call_soon/call_later handle"},
    {"timeout", "an asyncio.timeout() context manager"},
    {"Event", "an asyncio.Event"},
    {"Lock", "an asyncio.Lock"},
    {"Semaphore", "an asyncio.Semaphore"},
    {"BoundedSemaphore", "an asyncio.BoundedSemaphore"},
    {"Condition", "an asyncio.Condition"},
    {"Barrier", "an asyncio.Barrier"},
    {"Queue", "an asyncio.Queue"},
    {"LifoQueue", "an asyncio.LifoQueue"},
    {"PriorityQueue", "an asyncio.PriorityQueue"},
};

std::string describe(const std::string& kind) {
  for (const auto& [k, d] : k_objects)
    if (k == kind) return d;
  return "a " + kind;
}

std::vector<feature_info> build() {
  std::vector<feature_info> c;
  auto add = [&](const std::string& name, const std::string& meaning) { c.push_back({feature_name(name), meaning}); };
  const std::vector<std::pair<std::string, std::string>> ops{
      {"log", "record a line in the trace"},
      {"sleep", "await asyncio.sleep(ms)"},
      {"yield", "await asyncio.sleep(0): give up exactly one loop iteration"},
      {"return", "return a value from a coroutine"},
      {"raise", "raise an exception (or re-raise the one being handled)"},
      {"new", "create an object: Future, Event, Lock, Semaphore, ..., PriorityQueue"},
      {"create_task", "asyncio.create_task(coro), optionally in a task group"},
      {"await", "await a task, future, gather, shield, as_completed item or coroutine"},
      {"call", "call a method of an object (task.cancel(), lock.acquire(), ...)"},
      {"gather", "asyncio.gather(...)"},
      {"shield", "asyncio.shield(...)"},
      {"wait", "asyncio.wait(...)"},
      {"wait_for", "asyncio.wait_for(aw, timeout) (needs cancellation to time out)"},
      {"as_completed", "for next in asyncio.as_completed(...)"},
      {"timeout", "async with asyncio.timeout(ms) / timeout_at (needs cancellation)"},
      {"task_group", "async with asyncio.TaskGroup()"},
      {"with", "async with a Lock, Semaphore, BoundedSemaphore or Condition"},
      {"try", "try / except / finally"},
      {"call_soon", "loop.call_soon(callback)"},
      {"call_later", "loop.call_later(ms, callback)"},
      {"add_done_callback", "fut.add_done_callback(callback)"},
      {"run_in_executor", "loop.run_in_executor(None, job): a job on a worker thread, as a future"},
      {"to_thread", "await asyncio.to_thread(job)"},
  };
  for (const auto& [op, meaning] : ops) add("op:" + op, meaning);
  for (const auto& [kind, methods] : method_table())
    for (const auto& m : methods)
      add("call:" + kind + "." + m,
          describe(kind) + "'s " + m + "()" + (method_awaits(kind, m) ? ", awaited" : ""));
  for (const char* k : {"task", "future", "gather", "shield", "next", "coro"})
    add(std::string("await:") + k,
        std::string("await ") + (std::string(k) == "next" ? "the next item of as_completed"
                                 : std::string(k) == "coro" ? "a coroutine directly"
                                                             : describe(k)));
  for (const char* k : {"task", "future", "gather", "shield", "coro"})
    add(std::string("arg:") + k,
        (std::string(k) == "coro" ? std::string("a coroutine") : describe(k)) +
            " as an item of gather, wait, wait_for, shield or as_completed");
  for (const char* k : {"Future", "Event", "Lock", "Semaphore", "BoundedSemaphore", "Condition", "Barrier", "Queue",
                        "LifoQueue", "PriorityQueue"})
    add(std::string("new:") + k, "create " + describe(k == std::string("Future") ? "future" : k));
  for (const char* k : {"Lock", "Semaphore", "BoundedSemaphore", "Condition"})
    add(std::string("with:") + k, "async with " + describe(k));
  for (const char* k : {"CancelledError", "TimeoutError", "InvalidStateError", "ValueError", "KeyError",
                        "RuntimeError", "TypeError", "ZeroDivisionError", "QueueEmpty", "QueueFull",
                        "BrokenBarrierError", "KeyboardInterrupt", "SystemExit"})
    add(std::string("raise:") + k, std::string("raise (or set_exception) ") + k +
                                       (std::string(k) == "KeyboardInterrupt" || std::string(k) == "SystemExit"
                                            ? " (a BaseException that ends the loop)"
                                            : ""));
  for (const char* rw : {"ALL_COMPLETED", "FIRST_COMPLETED", "FIRST_EXCEPTION"})
    add(std::string("wait:") + rw, std::string("asyncio.wait(..., return_when=") + rw + ")");
  add("wait:timeout", "asyncio.wait(..., timeout=ms)");
  add("as_completed:timeout", "asyncio.as_completed(..., timeout=ms)");
  add("timeout:at", "asyncio.timeout_at(absolute ms)");
  add("gather:return_exceptions", "asyncio.gather(..., return_exceptions=True)");
  add("create_task:group", "tg.create_task(coro) in a task group");
  add("self", "a call on the current task (asyncio.current_task())");
  add("exception_handler", "a callback raises: the loop's exception handler reports it");
  std::sort(c.begin(), c.end(), [](const feature_info& a, const feature_info& b) { return a.name < b.name; });
  c.erase(std::unique(c.begin(), c.end(), [](const feature_info& a, const feature_info& b) { return a.name == b.name; }),
          c.end());
  return c;
}

}  // namespace

const std::vector<feature_info>& feature_catalogue() {
  static const std::vector<feature_info> c = build();
  return c;
}

}  // namespace conform
