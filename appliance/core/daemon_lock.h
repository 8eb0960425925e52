// DaemonLock: signetd's claim on a state directory. While signetd runs it owns the store (its
// caches, its group-commit writer and its sessions would go stale under writes made beside
// it), so it holds an exclusive flock(2) on <state>/signetd.lock for its whole life and
// writes there where it listens. The `signet` CLI checks the lock before opening the store
// and, when a daemon holds it, works through the daemon's API instead (--server).
// A killed daemon releases the lock with its file descriptor: no stale-lock clean-up.
#pragma once

#include <filesystem>
#include <optional>
#include <string>

#include "base/result.h"

namespace signet::appliance {

struct DaemonInfo {
  long pid = 0;
  std::string https_url;  // "https://127.0.0.1:8443"
  std::string http_url;   // "http://127.0.0.1:8080"
};

class DaemonLock {
 public:
  // Takes the lock; kUnavailable naming the running daemon's pid when another holds it.
  static base::Result<DaemonLock> acquire(const std::filesystem::path& state_dir);
  DaemonLock(DaemonLock&& other) noexcept;
  DaemonLock& operator=(DaemonLock&& other) noexcept;
  DaemonLock(const DaemonLock&) = delete;
  DaemonLock& operator=(const DaemonLock&) = delete;
  ~DaemonLock();

  // Records where the daemon listens (read by running_daemon()).
  base::Result<void> publish(const DaemonInfo& info);

 private:
  explicit DaemonLock(int fd, std::filesystem::path path) : fd_(fd), path_(std::move(path)) {}
  int fd_ = -1;
  std::filesystem::path path_;
};

// The daemon that holds the state directory's lock, if one runs.
std::optional<DaemonInfo> running_daemon(const std::filesystem::path& state_dir);

}  // namespace signet::appliance
