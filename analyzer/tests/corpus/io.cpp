// Categories file-io, net-io, dns, process and console; operator calls (std::cin >> x, file << x) and
// exemptions that depend on arguments (MSG_DONTWAIT, WNOHANG, string streams).
#include "coro.hpp"

#include <cstdio>
#include <cstdlib>
#include <fcntl.h>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <netdb.h>
#include <sstream>
#include <string>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

corpus::Task<> files(const char* path) {
  co_await corpus::tick();
  int fd = open(path, O_RDONLY);  // expect: blocking-call
  char buf[64];
  (void)read(fd, buf, sizeof buf);  // expect: blocking-call
  (void)::write(fd, buf, 1);  // expect: blocking-call
  FILE* f = std::fopen(path, "r");  // expect: blocking-call
  (void)std::fgets(buf, sizeof buf, f);  // expect: blocking-call
  std::fprintf(f, "%d", 1);  // expect: blocking-call
  struct stat st;
  (void)stat(path, &st);  // expect: blocking-call
  std::ifstream in(path);  // expect: blocking-call
  std::ofstream out;  // default-constructed: nothing opened yet
  out.open(path);  // expect: blocking-call
  std::string line;
  std::getline(in, line);  // expect: blocking-call
  int n = 0;
  in >> n;  // expect: blocking-call
  out << n << line;  // expect: blocking-call
  std::istringstream text("1 2");
  text >> n;  // memory only
  std::getline(text, line);
  (void)std::filesystem::exists(path);  // expect: blocking-call
  (void)std::filesystem::exists(std::filesystem::file_status{});  // inspects a value
  for (const auto& entry : std::filesystem::directory_iterator(path))  // expect: blocking-call
    (void)entry;
}

corpus::Task<> network(int sock, sockaddr* addr, socklen_t len) {
  co_await corpus::tick();
  (void)connect(sock, addr, len);  // expect: blocking-call
  (void)accept(sock, nullptr, nullptr);  // expect: blocking-call
  char buf[16];
  (void)recv(sock, buf, sizeof buf, 0);  // expect: blocking-call
  (void)recv(sock, buf, sizeof buf, MSG_DONTWAIT);  // non-blocking by flag
  (void)send(sock, buf, 1, MSG_NOSIGNAL | MSG_DONTWAIT);
  (void)send(sock, buf, 1, MSG_NOSIGNAL);  // expect: blocking-call
  addrinfo* res = nullptr;
  (void)getaddrinfo("example.org", "80", nullptr, &res);  // expect: blocking-call
  (void)gethostbyname("example.org");  // expect: blocking-call
}

corpus::Task<> processes(pid_t pid) {
  co_await corpus::tick();
  (void)std::system("true");  // expect: blocking-call
  FILE* p = popen("ls", "r");  // expect: blocking-call
  (void)pclose(p);  // expect: blocking-call
  int status = 0;
  (void)waitpid(pid, &status, 0);  // expect: blocking-call
  (void)waitpid(pid, &status, WNOHANG);  // polls
}

corpus::Task<> console() {
  co_await corpus::tick();
  int n = 0;
  std::cin >> n;  // expect: blocking-call
  std::cin >> n >> n;  // expect: blocking-call
  std::string line;
  std::getline(std::cin, line);  // expect: blocking-call
  (void)std::getchar();  // expect: blocking-call
  std::cout << n;  // writing to stdout is not in the console category
}
