#include "appliance/core/daemon_lock.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <nlohmann/json.hpp>
#include <string>

namespace signet::appliance {

using base::Error;
using base::ErrorCode;
using base::Result;

namespace {

constexpr const char* kLockName = "signetd.lock";

std::string read_all(int fd) {
  std::string text;
  char buffer[1024];
  ::lseek(fd, 0, SEEK_SET);
  for (;;) {
    const ssize_t n = ::read(fd, buffer, sizeof(buffer));
    if (n <= 0) break;
    text.append(buffer, static_cast<std::size_t>(n));
    if (text.size() > 64 * 1024) break;
  }
  return text;
}

std::optional<DaemonInfo> parse_info(const std::string& text) {
  auto j = nlohmann::json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return std::nullopt;
  DaemonInfo info;
  info.pid = j.value("pid", 0L);
  info.https_url = j.value("https_url", "");
  info.http_url = j.value("http_url", "");
  return info;
}

}  // namespace

Result<DaemonLock> DaemonLock::acquire(const std::filesystem::path& state_dir) {
  const auto path = state_dir / kLockName;
  const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) {
    return Error(ErrorCode::kIoError,
                 "cannot open '" + path.string() + "': " + std::strerror(errno));
  }
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    const auto info = parse_info(read_all(fd));
    ::close(fd);
    return Error(ErrorCode::kUnavailable,
                 "another signetd (pid " + std::to_string(info ? info->pid : 0) +
                     ") already runs on the state directory '" + state_dir.string() + "'");
  }
  return DaemonLock(fd, path);
}

DaemonLock::DaemonLock(DaemonLock&& other) noexcept
    : fd_(std::exchange(other.fd_, -1)), path_(std::move(other.path_)) {}

DaemonLock& DaemonLock::operator=(DaemonLock&& other) noexcept {
  if (this != &other) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = std::exchange(other.fd_, -1);
    path_ = std::move(other.path_);
  }
  return *this;
}

DaemonLock::~DaemonLock() {
  if (fd_ < 0) return;
  // Empty the file before letting go, so that nobody reads a gone daemon's addresses.
  if (::ftruncate(fd_, 0) != 0) {
    // Nothing to do: the lock goes away with the descriptor either way.
  }
  ::close(fd_);
}

Result<void> DaemonLock::publish(const DaemonInfo& info) {
  const nlohmann::json j = {{"pid", info.pid},
                            {"https_url", info.https_url},
                            {"http_url", info.http_url}};
  const std::string text = j.dump() + "\n";
  if (::ftruncate(fd_, 0) != 0 || ::pwrite(fd_, text.data(), text.size(), 0) !=
                                      static_cast<ssize_t>(text.size())) {
    return Error(ErrorCode::kIoError,
                 "cannot write '" + path_.string() + "': " + std::strerror(errno));
  }
  return base::ok();
}

std::optional<DaemonInfo> running_daemon(const std::filesystem::path& state_dir) {
  const auto path = state_dir / kLockName;
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return std::nullopt;
  std::optional<DaemonInfo> result;
  if (::flock(fd, LOCK_SH | LOCK_NB) != 0 && errno == EWOULDBLOCK) {
    result = parse_info(read_all(fd));
    if (!result) result = DaemonInfo{};
  }
  ::close(fd);
  return result;
}

}  // namespace signet::appliance
