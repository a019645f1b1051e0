// Loopback TCP plumbing shared by the echo workloads: a listening socket on 127.0.0.1 with a kernel-chosen
// port, and connected pairs. Runtimes then drive the fds their own way.
#pragma once

#include <string>
#include <utility>
#include <vector>

namespace bench {

struct socket_pair_list {
  std::vector<int> clients, servers;  // clients[i] is connected to servers[i]
  socket_pair_list() = default;
  socket_pair_list(const socket_pair_list&) = delete;
  socket_pair_list& operator=(const socket_pair_list&) = delete;
  ~socket_pair_list();
};

// Opens `n` connected, non-blocking TCP pairs over loopback with TCP_NODELAY. Throws std::runtime_error
// naming the failing call.
void open_loopback_pairs(int n, socket_pair_list& out);

}  // namespace bench
