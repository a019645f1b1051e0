// A runner whose `misbehaving` runtime is the reference runtime with three defects planted on purpose:
// it segfaults on CAN-001, spins forever on CAN-002 and allocates without bound on CAN-003a. The ctests
// Conformance.Isolation.* check that each becomes that scenario's status and every other scenario is
// still judged.
#include <conform/main.hpp>

#include <cstdint>
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

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::unique_ptr<conform::adapter>> extra;
  extra.push_back(std::make_unique<misbehaving>());
  return conform::main(argc, argv, std::move(extra));
}
