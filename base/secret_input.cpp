#include "base/secret_input.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace signet::base {
namespace {

constexpr std::size_t kMaxSecretSize = 4096;

class FileDescriptor {
 public:
  explicit FileDescriptor(int fd) : fd_(fd) {}
  ~FileDescriptor() {
    if (fd_ >= 0) ::close(fd_);
  }
  FileDescriptor(const FileDescriptor&) = delete;
  FileDescriptor& operator=(const FileDescriptor&) = delete;
  int get() const { return fd_; }

 private:
  int fd_;
};

std::string errno_text() { return std::strerror(errno); }

void drop_trailing_newline(SecureBuffer& buffer) {
  auto bytes = buffer.view();
  std::size_t size = bytes.size();
  if (size > 0 && bytes[size - 1] == '\n') --size;
  if (size > 0 && bytes[size - 1] == '\r') --size;
  buffer.truncate(size);
}

}  // namespace

Result<SecureBuffer> read_secret_file(const std::string& path) {
  FileDescriptor fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW));
  if (fd.get() < 0) {
    const auto code = errno == ENOENT ? ErrorCode::kNotFound : ErrorCode::kPermissionDenied;
    return Error(code, "cannot open secret file '" + path + "': " + errno_text());
  }
  struct stat info {};
  if (::fstat(fd.get(), &info) != 0) {
    return Error(ErrorCode::kIoError, "cannot stat secret file '" + path + "': " + errno_text());
  }
  if (!S_ISREG(info.st_mode)) {
    return Error(ErrorCode::kInvalidArgument, "secret file '" + path + "' is not a regular file");
  }
  if ((info.st_mode & (S_IRWXG | S_IRWXO)) != 0) {
    return Error(ErrorCode::kPermissionDenied,
                 "secret file '" + path +
                     "' can be read or written by group or others; restrict it with chmod 600");
  }
  if (info.st_size <= 0 || static_cast<std::size_t>(info.st_size) > kMaxSecretSize) {
    return Error(ErrorCode::kInvalidArgument,
                 "secret file '" + path + "' must hold 1 to 4096 bytes");
  }
  SecureBuffer buffer(static_cast<std::size_t>(info.st_size));
  std::size_t done = 0;
  while (done < buffer.size()) {
    ssize_t n = ::read(fd.get(), buffer.mutable_view().data() + done, buffer.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      return Error(ErrorCode::kIoError, "cannot read secret file '" + path + "'");
    }
    done += static_cast<std::size_t>(n);
  }
  drop_trailing_newline(buffer);
  if (buffer.empty()) {
    return Error(ErrorCode::kInvalidArgument, "secret file '" + path + "' is empty");
  }
  return buffer;
}

Result<SecureBuffer> prompt_secret(std::string_view prompt) {
  FileDescriptor tty(::open("/dev/tty", O_RDWR | O_CLOEXEC | O_NOCTTY));
  if (tty.get() < 0 || !::isatty(tty.get())) {
    return Error(ErrorCode::kUnavailable,
                 "no terminal to prompt on; give the secret in a file (e.g. --pin-file)");
  }
  termios saved{};
  if (::tcgetattr(tty.get(), &saved) != 0) {
    return Error(ErrorCode::kIoError, "cannot read terminal settings: " + errno_text());
  }
  termios quiet = saved;
  quiet.c_lflag &= ~static_cast<tcflag_t>(ECHO);
  quiet.c_lflag |= ECHONL;
  (void)::write(tty.get(), prompt.data(), prompt.size());
  if (::tcsetattr(tty.get(), TCSAFLUSH, &quiet) != 0) {
    return Error(ErrorCode::kIoError, "cannot turn terminal echo off: " + errno_text());
  }
  SecureBuffer buffer(kMaxSecretSize);
  std::size_t done = 0;
  while (done < buffer.size()) {
    char c = 0;
    ssize_t n = ::read(tty.get(), &c, 1);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0 || c == '\n') break;
    buffer.mutable_view()[done++] = static_cast<std::uint8_t>(c);
  }
  ::tcsetattr(tty.get(), TCSAFLUSH, &saved);
  buffer.truncate(done);
  drop_trailing_newline(buffer);
  if (buffer.empty()) return Error(ErrorCode::kInvalidArgument, "no secret was entered");
  return buffer;
}

Result<void> write_secret_file(const std::string& path, ByteView secret) {
  FileDescriptor fd(
      ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600));
  if (fd.get() < 0) {
    return Error(ErrorCode::kIoError, "cannot create secret file '" + path + "': " + errno_text());
  }
  std::size_t done = 0;
  while (done < secret.size()) {
    ssize_t n = ::write(fd.get(), secret.data() + done, secret.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return Error(ErrorCode::kIoError, "cannot write secret file '" + path + "'");
    done += static_cast<std::size_t>(n);
  }
  if (::fsync(fd.get()) != 0) {
    return Error(ErrorCode::kIoError, "cannot sync secret file '" + path + "': " + errno_text());
  }
  return ok();
}

}  // namespace signet::base
