// A runner with three test runtimes built on the reference runtime:
//   misbehaving    segfaults on CAN-001, spins forever on CAN-002 and allocates without bound on CAN-003a
//                  (Conformance.Isolation.*: each becomes that scenario's status, every other is judged);
//   uncancellable  claims no cancellation at all (Conformance.Fuzz*: the fuzzer still finds programs to run);
//   inert          supports no feature (a fuzz run in which nothing runs must fail).
#include <conform/main.hpp>

#include <cstdint>
#include <functional>
#include <set>
#include <string>
#include <memory>
#include <vector>

namespace {

class misbehaving final : public conform::adapter {
public:
  std::string name() const override { return "misbehaving"; }
  std::string description() const override { return "the reference runtime, crashing, hanging and leaking on purpose"; }
  bool supports(const std::string& f) const override { return inner_->supports(f); }
  long long time_tolerance_ms(const conform::run_options& o) const override { return inner_->time_tolerance_ms(o); }
  std::vector<conform::event> run(const conform::scenario& s, const conform::run_options& o) override {
    if (s.id == "CAN-001") {
      volatile std::uintptr_t address = 8;  // not a constant null: the write must happen
      *reinterpret_cast<volatile int*>(address) = 1;
    }
    if (s.id == "CAN-002") {
      volatile std::uint64_t spins = 0;
      for (;;) spins = static_cast<std::uint64_t>(spins + 1);  // an observable side effect: not UB
    }
#ifndef CONFORM_NO_HOARD
    if (s.id == "CAN-003a") {
      std::vector<std::unique_ptr<char[]>> hoard;
      for (;;) hoard.push_back(std::make_unique_for_overwrite<char[]>(std::size_t{64} << 20));
    }
#endif
    return inner_->run(s, o);
  }

private:
  std::unique_ptr<conform::adapter> inner_ = conform::make_reference_adapter();
};

// The reference runtime with a narrower feature list.
class restricted final : public conform::adapter {
public:
  restricted(std::string name, std::function<bool(const std::string&)> keep) : name_(std::move(name)), keep_(std::move(keep)) {}
  std::string name() const override { return name_; }
  std::string description() const override { return "the reference runtime, declaring fewer features"; }
  bool supports(const std::string& f) const override { return keep_(f) && inner_->supports(f); }
  long long time_tolerance_ms(const conform::run_options& o) const override { return inner_->time_tolerance_ms(o); }
  std::vector<conform::event> run(const conform::scenario& s, const conform::run_options& o) override {
    return inner_->run(s, o);
  }

private:
  std::string name_;
  std::function<bool(const std::string&)> keep_;
  std::unique_ptr<conform::adapter> inner_ = conform::make_reference_adapter();
};

// What a runtime without cancellation lacks (ADAPTERS.md, "A runtime without cancellation").
bool cancels(const std::string& f) {
  static const std::set<std::string> cancelling{"call:task.cancel",  "call:task.cancelled", "call:task.cancelling",
                                                "call:task.uncancel", "raise:cancelled_error", "op:wait_for",
                                                "op:timeout",         "op:shield",          "op:task_group"};
  return cancelling.count(f) != 0;
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::unique_ptr<conform::adapter>> extra;
  extra.push_back(std::make_unique<misbehaving>());
  extra.push_back(std::make_unique<restricted>("uncancellable", [](const std::string& f) { return !cancels(f); }));
  extra.push_back(std::make_unique<restricted>("inert", [](const std::string&) { return false; }));
  return conform::main(argc, argv, std::move(extra));
}
