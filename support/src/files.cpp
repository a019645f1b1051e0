#include <coroscope/support/files.hpp>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <system_error>

namespace coroscope::support {
namespace fs = std::filesystem;

namespace {

[[noreturn]] void fail(const fs::path& shown, std::string_view what, int err) {
  throw io_error(shown.string() + ": " + std::string(what) + ": " + std::strerror(err));
}

void write_all(int fd, std::string_view data, const fs::path& shown) {
  while (!data.empty()) {
    ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      fail(shown, "cannot write", errno);
    }
    data.remove_prefix(static_cast<std::size_t>(n));
  }
}

mode_t current_umask() {
  // umask can only be read by setting it; the tools are single-threaded where they write files.
  mode_t mask = ::umask(022);
  ::umask(mask);
  return mask;
}

fs::path temp_root() {
  const char* dir = std::getenv("TMPDIR");
  return dir && *dir ? fs::path(dir) : fs::path("/tmp");
}

}  // namespace

void write_stdout(std::string_view content) {
  if (!content.empty() && std::fwrite(content.data(), 1, content.size(), stdout) != content.size()) {
    throw io_error(std::string("standard output: cannot write: ") + std::strerror(errno));
  }
  if (std::fflush(stdout) != 0 || std::ferror(stdout)) {
    throw io_error(std::string("standard output: cannot write: ") + std::strerror(errno));
  }
}

void write_file(const fs::path& path, std::string_view content) {
  if (path == "-") return write_stdout(content);
  struct stat st {};
  const bool exists = ::stat(path.c_str(), &st) == 0;
  if (exists && S_ISDIR(st.st_mode)) throw io_error(path.string() + ": is a directory");
  if (exists && !S_ISREG(st.st_mode)) {
    int fd = ::open(path.c_str(), O_WRONLY | O_CLOEXEC | O_NOCTTY);
    if (fd < 0) fail(path, "cannot open", errno);
    try {
      write_all(fd, content, path);
    } catch (...) {
      ::close(fd);
      throw;
    }
    if (::close(fd) != 0) fail(path, "cannot write", errno);
    return;
  }

  fs::path dir = path.parent_path();
  if (dir.empty()) dir = ".";
  std::string tmp = (dir / ("." + path.filename().string() + ".tmp-XXXXXX")).string();
  int fd = ::mkstemp(tmp.data());
  if (fd < 0) fail(path, "cannot create a temporary file beside it", errno);
  try {
    // mkstemp creates 0600: give the file the mode a plain create would, or keep the replaced file's mode.
    const mode_t mode = exists ? (st.st_mode & 07777) : (0666 & ~current_umask());
    if (::fchmod(fd, mode) != 0) fail(path, "cannot set the mode of its temporary file", errno);
    write_all(fd, content, path);
    if (::fsync(fd) != 0) fail(path, "cannot write", errno);
    int rc = ::close(fd);
    fd = -1;
    if (rc != 0) fail(path, "cannot write", errno);
    if (::rename(tmp.c_str(), path.c_str()) != 0) fail(path, "cannot replace", errno);
  } catch (...) {
    if (fd >= 0) ::close(fd);
    ::unlink(tmp.c_str());
    throw;
  }
  // Makes the rename itself durable; a directory that cannot be synced loses nothing already written.
  int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd >= 0) {
    ::fsync(dfd);
    ::close(dfd);
  }
}

void refuse_output_over_inputs(const fs::path& out, const std::vector<fs::path>& inputs) {
  if (out.empty() || out == "-") return;
  struct stat so {};
  const bool out_exists = ::stat(out.c_str(), &so) == 0;
  std::error_code ec;
  const fs::path out_canon = fs::weakly_canonical(out, ec);
  for (const fs::path& in : inputs) {
    if (in.empty() || in == "-") continue;
    bool same = false;
    struct stat si {};
    if (out_exists) {
      same = ::stat(in.c_str(), &si) == 0 && si.st_dev == so.st_dev && si.st_ino == so.st_ino;
    } else {
      std::error_code ec2;
      const fs::path in_canon = fs::weakly_canonical(in, ec2);
      same = !ec && !ec2 && in_canon == out_canon;
    }
    if (same) throw io_error(out.string() + ": refusing to overwrite the input " + in.string());
  }
}

std::string read_file(const fs::path& path, std::size_t max_bytes) {
  const bool is_stdin = path == "-";
  const fs::path shown = is_stdin ? fs::path("standard input") : path;
  int fd = is_stdin ? 0 : ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY);
  if (fd < 0) fail(shown, "cannot open", errno);
  struct Closer {
    int fd;
    bool owned;
    ~Closer() {
      if (owned) ::close(fd);
    }
  } closer{fd, !is_stdin};
  struct stat st {};
  if (::fstat(fd, &st) != 0) fail(shown, "cannot read", errno);
  if (S_ISDIR(st.st_mode)) throw io_error(shown.string() + ": is a directory, not a file");
  std::string content;
  char buf[1 << 16];
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR) continue;
      fail(shown, "cannot read", errno);
    }
    if (n == 0) break;
    if (content.size() + static_cast<std::size_t>(n) > max_bytes) {
      throw io_error(shown.string() + ": larger than the limit of " + std::to_string(max_bytes) + " bytes");
    }
    content.append(buf, static_cast<std::size_t>(n));
  }
  return content;
}

temp_file::temp_file(std::string_view prefix) {
  std::string tmpl = (temp_root() / (std::string(prefix) + "-XXXXXX")).string();
  fd_ = ::mkstemp(tmpl.data());
  if (fd_ < 0) fail(tmpl, "cannot create a temporary file", errno);
  ::fcntl(fd_, F_SETFD, FD_CLOEXEC);
  path_ = tmpl;
}

temp_file::temp_file(temp_file&& other) noexcept : path_(std::move(other.path_)), fd_(other.fd_) {
  other.path_.clear();
  other.fd_ = -1;
}

temp_file::~temp_file() {
  if (fd_ >= 0) ::close(fd_);
  if (!path_.empty()) ::unlink(path_.c_str());
}

temp_dir::temp_dir(std::string_view prefix) {
  std::string tmpl = (temp_root() / (std::string(prefix) + "-XXXXXX")).string();
  if (::mkdtemp(tmpl.data()) == nullptr) fail(tmpl, "cannot create a temporary directory", errno);
  path_ = tmpl;
}

temp_dir::temp_dir(temp_dir&& other) noexcept : path_(std::move(other.path_)) { other.path_.clear(); }

temp_dir::~temp_dir() {
  if (path_.empty()) return;
  std::error_code ec;
  fs::remove_all(path_, ec);
}

}  // namespace coroscope::support
