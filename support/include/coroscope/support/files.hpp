// Files for the command-line tools: outputs that are never half-written or silently lost, inputs that are
// never mistaken for outputs, temporary files nobody else can predict.
#pragma once

#include <filesystem>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace coroscope::support {

// An I/O failure; what() names the path and the system's reason.
struct io_error : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// Writes `content` to `path` so that a reader sees the old file or the new one, never a mix: a temporary file
// beside the target (mkstemp), every write checked, fsync, then rename over the target. The target is
// replaced, not written through: a symlink named `path` becomes a regular file and its target is untouched.
// An existing target that is not a regular file (/dev/null, /dev/full, a FIFO, a terminal) is written in place
// with every write and the close checked. "-" is standard output. Throws io_error.
void write_file(const std::filesystem::path& path, std::string_view content);

// Writes to standard output and flushes; a failed write (a full disk, a closed pipe) throws io_error.
void write_stdout(std::string_view content);

// Throws io_error("OUT: refusing to overwrite the input IN") when `out` names the same file as one of
// `inputs`: the same device and inode, or, while `out` does not exist, the same canonical path. "-" names no
// file and is never refused.
void refuse_output_over_inputs(const std::filesystem::path& out, const std::vector<std::filesystem::path>& inputs);

// The whole content of a file ("-": standard input). Throws io_error, naming the path, for a directory, a file
// that cannot be read, or one larger than `max_bytes`.
std::string read_file(const std::filesystem::path& path, std::size_t max_bytes);

// A new file under $TMPDIR (or /tmp) with an unpredictable name, created with O_EXCL (never through a
// symlink) and mode 0600; removed when the object is destroyed, on every exit path that unwinds.
class temp_file {
 public:
  explicit temp_file(std::string_view prefix);
  temp_file(temp_file&& other) noexcept;
  temp_file& operator=(temp_file&&) = delete;
  temp_file(const temp_file&) = delete;
  ~temp_file();
  const std::filesystem::path& path() const { return path_; }
  int fd() const { return fd_; }

 private:
  std::filesystem::path path_;
  int fd_ = -1;
};

// A new directory under $TMPDIR (or /tmp), mode 0700, removed with its content when destroyed.
class temp_dir {
 public:
  explicit temp_dir(std::string_view prefix);
  temp_dir(temp_dir&& other) noexcept;
  temp_dir& operator=(temp_dir&&) = delete;
  temp_dir(const temp_dir&) = delete;
  ~temp_dir();
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

}  // namespace coroscope::support
