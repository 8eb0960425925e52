#include "appliance/core/softhsm_state.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>

namespace signet::appliance {

using base::Error;
using base::ErrorCode;
using base::Result;
namespace fs = std::filesystem;

namespace {

class Fd {
 public:
  explicit Fd(int fd) : fd_(fd) {}
  ~Fd() {
    if (fd_ >= 0) ::close(fd_);
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int get() const { return fd_; }

 private:
  int fd_;
};

Error io_error(const std::string& what, const fs::path& path) {
  return Error(ErrorCode::kIoError, what + " '" + path.string() + "': " + std::strerror(errno));
}

// Takes SoftHSM's own whole-file fcntl lock on token.object (it locks the file while it
// rewrites it), so that we never read or replace it mid-write.
Result<void> lock_file(int fd, short type, const fs::path& path) {
  struct flock lock {};
  lock.l_type = type;
  lock.l_whence = SEEK_SET;
  while (::fcntl(fd, F_SETLKW, &lock) != 0) {
    if (errno != EINTR) return io_error("cannot lock", path);
  }
  return base::ok();
}

Result<std::string> read_all(int fd, const fs::path& path) {
  std::string data;
  char chunk[4096];
  if (::lseek(fd, 0, SEEK_SET) < 0) return io_error("cannot read", path);
  for (;;) {
    ssize_t n = ::read(fd, chunk, sizeof(chunk));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return io_error("cannot read", path);
    if (n == 0) return data;
    data.append(chunk, static_cast<std::size_t>(n));
  }
}

// Writes a file beside `target` and renames it over `target`, fsynced: never torn.
Result<void> replace_file(const fs::path& target, const std::string& data) {
  const fs::path temp = target.string() + ".signet-tmp";
  {
    Fd fd(::open(temp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600));
    if (fd.get() < 0) return io_error("cannot write", temp);
    if (::write(fd.get(), data.data(), data.size()) != static_cast<ssize_t>(data.size()) ||
        ::fsync(fd.get()) != 0) {
      return io_error("cannot write", temp);
    }
  }
  if (::rename(temp.c_str(), target.c_str()) != 0) return io_error("cannot replace", target);
  Fd dir(::open(target.parent_path().c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (dir.get() >= 0) ::fsync(dir.get());
  return base::ok();
}

Result<bool> guard_token(const fs::path& token, const fs::path& copy) {
  const fs::path live = token / "token.object";
  Fd fd(::open(live.c_str(), O_RDWR | O_CLOEXEC));
  if (fd.get() < 0) return false;  // not a token directory (or not ours to fix)
  SIGNET_TRY(lock_file(fd.get(), F_WRLCK, live));
  SIGNET_ASSIGN_OR_RETURN(std::string current, read_all(fd.get(), live));
  std::string saved;
  if (std::ifstream in(copy, std::ios::binary); in) {
    saved.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  }
  if (!saved.empty() && current.size() < saved.size()) {
    // Restore in place while holding the lock, so a SoftHSM in another process sees either
    // the torn file or the whole copy, never a half-restored one.
    if (::ftruncate(fd.get(), 0) != 0 ||
        ::pwrite(fd.get(), saved.data(), saved.size(), 0) != static_cast<ssize_t>(saved.size()) ||
        ::fsync(fd.get()) != 0) {
      return io_error("cannot restore", live);
    }
    return true;
  }
  if (!current.empty() && current != saved) SIGNET_TRY(replace_file(copy, current));
  return false;
}

}  // namespace

std::optional<fs::path> softhsm_token_dir() {
  const char* conf = std::getenv("SOFTHSM2_CONF");
  if (conf == nullptr || *conf == '\0') return std::nullopt;
  std::ifstream in(conf);
  std::string line;
  auto trim = [](std::string s) {
    s.erase(0, s.find_first_not_of(" \t"));
    s.erase(s.find_last_not_of(" \t\r") + 1);
    return s;
  };
  while (std::getline(in, line)) {
    auto eq = line.find('=');
    if (line.empty() || line[0] == '#' || eq == std::string::npos) continue;
    if (trim(line.substr(0, eq)) == "directories.tokendir")
      return fs::path(trim(line.substr(eq + 1)));
  }
  return std::nullopt;
}

Result<GuardReport> guard_softhsm_tokens(const fs::path& token_dir, const fs::path& copies_dir) {
  GuardReport report;
  std::error_code error;
  if (!fs::is_directory(token_dir, error)) return report;
  fs::create_directories(copies_dir, error);
  if (error) {
    return Error(ErrorCode::kIoError,
                 "cannot create '" + copies_dir.string() + "': " + error.message());
  }
  for (const auto& entry : fs::directory_iterator(token_dir, error)) {
    if (!entry.is_directory()) continue;
    const fs::path copy = copies_dir / (entry.path().filename().string() + ".token.object");
    SIGNET_ASSIGN_OR_RETURN(bool restored, guard_token(entry.path(), copy));
    if (restored) report.restored.push_back(entry.path().string());
  }
  return report;
}

}  // namespace signet::appliance
