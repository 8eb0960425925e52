#include "appliance/daemon/hardening.h"

#include <grp.h>
#include <linux/capability.h>
#include <pwd.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <vector>

namespace signet::appliance {

using base::Error;
using base::ErrorCode;
using base::Result;

namespace {

std::string errno_text() { return std::strerror(errno); }

std::string octal(mode_t mode) {
  char text[8];
  std::snprintf(text, sizeof(text), "%04o", static_cast<unsigned>(mode & 07777));
  return text;
}

Result<void> set_dumpable_off() {
  if (::prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) != 0) {
    return Error(ErrorCode::kInternal, "cannot mark signetd non-dumpable: " + errno_text());
  }
  return base::ok();
}

// True when the calling thread holds no capability at all (permitted and effective).
bool holds_no_capability() {
  __user_cap_header_struct header{_LINUX_CAPABILITY_VERSION_3, 0};
  __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3] = {};
  if (::syscall(SYS_capget, &header, data) != 0) return false;
  for (const auto& word : data) {
    if (word.permitted != 0 || word.effective != 0) return false;
  }
  return true;
}

}  // namespace

Result<void> disable_core_dumps() {
  const rlimit no_core{0, 0};
  if (::setrlimit(RLIMIT_CORE, &no_core) != 0) {
    return Error(ErrorCode::kInternal, "cannot set the core file size limit to 0: " + errno_text());
  }
  ::umask(077);
  return set_dumpable_off();
}

Result<void> check_private_state(const std::filesystem::path& state_dir,
                                 const std::string& pin_file) {
  struct stat info {};
  if (::stat(state_dir.c_str(), &info) != 0) {
    return Error(ErrorCode::kIoError,
                 "cannot stat the state directory '" + state_dir.string() + "': " + errno_text());
  }
  if (!S_ISDIR(info.st_mode)) {
    return Error(ErrorCode::kInvalidArgument,
                 "the state directory '" + state_dir.string() + "' is not a directory");
  }
  if ((info.st_mode & (S_IRWXG | S_IRWXO)) != 0) {
    return Error(ErrorCode::kPermissionDenied,
                 "the state directory '" + state_dir.string() + "' has mode " +
                     octal(info.st_mode) +
                     ": group or others can enter it; it holds the token and the store, so "
                     "signetd refuses it (chmod 700 '" +
                     state_dir.string() + "')");
  }
  if (pin_file.empty()) return base::ok();
  if (::stat(pin_file.c_str(), &info) != 0) {
    return Error(ErrorCode::kNotFound,
                 "cannot stat the PIN file '" + pin_file + "': " + errno_text());
  }
  if ((info.st_mode & (S_IRWXG | S_IRWXO)) != 0) {
    return Error(ErrorCode::kPermissionDenied,
                 "the PIN file '" + pin_file + "' has mode " + octal(info.st_mode) +
                     ": group or others can read or write it; signetd refuses it (chmod 600 '" +
                     pin_file + "')");
  }
  return base::ok();
}

Result<PrivilegeDrop> PrivilegeDrop::begin(const std::string& user,
                                           const std::filesystem::path& state_dir) {
  PrivilegeDrop drop;
  if (user.empty()) return drop;
  std::vector<char> buffer(16384);
  passwd entry{};
  passwd* found = nullptr;
  if (::getpwnam_r(user.c_str(), &entry, buffer.data(), buffer.size(), &found) != 0 ||
      found == nullptr) {
    return Error(ErrorCode::kNotFound,
                 "hardening.user '" + user + "' is not a user of this system");
  }
  if (found->pw_uid == 0) {
    return Error(ErrorCode::kInvalidArgument,
                 "hardening.user '" + user + "' is root; name an unprivileged user");
  }
  if (::geteuid() != 0) {
    if (::geteuid() == found->pw_uid) return drop;  // already that user: nothing to drop
    return Error(ErrorCode::kPermissionDenied,
                 "hardening.user is '" + user + "', but signetd was started as uid " +
                     std::to_string(::geteuid()) +
                     ": start it as root (it drops to the user) or as that user");
  }
  drop.uid_ = found->pw_uid;
  drop.gid_ = found->pw_gid;
  struct stat info {};
  if (::stat(state_dir.c_str(), &info) != 0) {
    std::error_code error;
    std::filesystem::create_directories(state_dir, error);
    if (error || ::chmod(state_dir.c_str(), 0700) != 0 ||
        ::chown(state_dir.c_str(), drop.uid_, drop.gid_) != 0 ||
        ::stat(state_dir.c_str(), &info) != 0) {
      return Error(ErrorCode::kIoError, "cannot create the state directory '" + state_dir.string() +
                                            "' for user '" + user + "'");
    }
  }
  if (info.st_uid != drop.uid_) {
    return Error(ErrorCode::kPermissionDenied,
                 "the state directory '" + state_dir.string() + "' belongs to uid " +
                     std::to_string(info.st_uid) + ", but signetd runs as '" + user + "' (uid " +
                     std::to_string(drop.uid_) + "): chown -R " + user + ": '" +
                     state_dir.string() + "'");
  }
  if (::setgroups(1, &drop.gid_) != 0 || ::setresgid(-1, drop.gid_, -1) != 0 ||
      ::setresuid(-1, drop.uid_, -1) != 0) {
    return Error(ErrorCode::kPermissionDenied,
                 "cannot switch to user '" + user + "': " + errno_text());
  }
  drop.active_ = true;
  SIGNET_TRY(set_dumpable_off());
  return drop;
}

Result<void> PrivilegeDrop::bind_as_root() {
  if (!active_) return base::ok();
  if (::setresuid(-1, 0, -1) != 0) {
    return Error(ErrorCode::kPermissionDenied,
                 "cannot take root back to bind the listeners: " + errno_text());
  }
  return base::ok();
}

Result<void> PrivilegeDrop::finish() {
  if (!active_) return base::ok();
  if (::setresgid(gid_, gid_, gid_) != 0 || ::setresuid(uid_, uid_, uid_) != 0) {
    return Error(ErrorCode::kPermissionDenied, "cannot drop root: " + errno_text());
  }
  uid_t real = 0, effective = 0, saved = 0;
  if (::getresuid(&real, &effective, &saved) != 0 || real != uid_ || effective != uid_ ||
      saved != uid_ || ::setuid(0) == 0 || ::seteuid(0) == 0 || !holds_no_capability()) {
    return Error(ErrorCode::kInternal,
                 "the privilege drop did not hold: signetd could take root back");
  }
  return set_dumpable_off();
}

}  // namespace signet::appliance
