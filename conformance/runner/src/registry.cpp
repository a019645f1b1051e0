#include <conform/adapter.hpp>

namespace conform {

std::vector<std::unique_ptr<adapter>> make_adapters() {
  std::vector<std::unique_ptr<adapter>> all;
  all.push_back(make_reference_adapter());
#ifdef CONFORM_HAVE_ASIO
  all.push_back(make_asio_adapter());
#endif
  return all;
}

}  // namespace conform
