// coroscope-conform: the conformance runner with the adapters built into coroscope (reference, and asio
// when Asio is installed). A third-party runtime's runner is the same file with its own adapter.
#include <conform/main.hpp>

#ifdef CONFORM_HAVE_ASIO
namespace conform {
std::unique_ptr<adapter> make_asio_adapter();
}
#endif

int main(int argc, char** argv) {
  std::vector<std::unique_ptr<conform::adapter>> extra;
#ifdef CONFORM_HAVE_ASIO
  extra.push_back(conform::make_asio_adapter());
#endif
  return conform::main(argc, argv, std::move(extra));
}
