// Process hardening for signetd (docs/THREAT-MODEL.md): no core dumps, a private state
// directory, and the privilege drop when started as root with `[hardening] user`.
//
// The privilege drop happens in two steps. PrivilegeDrop::begin(), before anything is opened,
// resolves the user, creates the state directory for it when missing (chown on creation) and
// refuses one the user does not own; it then sets the supplementary groups to the user's
// primary group and switches the *effective* uid/gid to the user, keeping the saved uid 0. So
// every file signetd creates (store, token objects, certificates, the lock) belongs to the
// user, and PINs are read as the user. bind_as_root() takes the effective root back just
// long enough to bind the listeners (ports below 1024); finish() then sets real, effective
// and saved ids to the user on every thread (glibc broadcasts set*id), checks that root can
// not be regained and that no capability is left, and marks the process non-dumpable again
// (the kernel resets the flag on an id change). Used from main() before any thread starts.
#pragma once

#include <sys/types.h>

#include <filesystem>
#include <string>

#include "base/result.h"

namespace signet::appliance {

// RLIMIT_CORE 0 (soft and hard), PR_SET_DUMPABLE 0 (no core dump, no ptrace attach and
// /proc/<pid>/{mem,environ,maps} owned by root), umask 077. Called first in main().
base::Result<void> disable_core_dumps();

// Refuses a state directory that is not a directory or that group or others can enter, and a
// PIN file that group or others can read or write (messages name the path, the mode and the
// chmod that fixes it). `pin_file` may be empty.
base::Result<void> check_private_state(const std::filesystem::path& state_dir,
                                       const std::string& pin_file);

class PrivilegeDrop {
 public:
  // `user` empty: nothing to drop (every step is a no-op). Otherwise signetd must run as root
  // (or already as that user, when nothing is dropped either).
  static base::Result<PrivilegeDrop> begin(const std::string& user,
                                           const std::filesystem::path& state_dir);
  base::Result<void> bind_as_root();  // effective uid 0 again, for binding the listeners
  base::Result<void> finish();        // all ids to the user, for good
  bool active() const { return active_; }

 private:
  PrivilegeDrop() = default;
  bool active_ = false;
  uid_t uid_ = 0;
  gid_t gid_ = 0;
};

}  // namespace signet::appliance
