// SeccompPolicy: signetd's seccomp-bpf allowlist (libseccomp), installed once start-up is
// over: the PKCS#11 module loaded and logged in, the store open, the TLS context built, the
// listeners bound, privileges dropped and the server threads running.
//
// What is not allowed kills the whole process (SCMP_ACT_KILL_PROCESS, the signal is SIGSYS),
// except socket (EACCES, see install_seccomp_policy) and clone3, which fails with ENOSYS so that
// glibc falls back to clone(2), whose flags a filter can see: clone is allowed only with
// CLONE_THREAD (new threads, never new processes). ioctl is allowed only for FIONBIO and FIONREAD.
// The allowlist was derived by running the end-to-end tests (issue, revoke, CRL, OCSP, sessions,
// shutdown) under `strace -f -c` against SoftHSMv2 and LMDB; see docs/THREAT-MODEL.md. A vendor
// PKCS#11 module adds what it needs through `seccomp_allow` on its [[pkcs11.modules]] entry.
//
// The filter is synchronised to every thread of the process (SECCOMP_FILTER_FLAG_TSYNC) and
// inherited by threads created later. Installing it is irreversible; call from one thread.
#pragma once

#include <span>
#include <string>
#include <vector>

#include "base/result.h"
#include "firmware-config/configuration.h"

namespace signet::appliance {

// The syscalls (by name) signetd, OpenSSL, LMDB and SoftHSMv2 use after start-up.
std::span<const char* const> seccomp_base_allowlist();

// Checks that every name is a syscall libseccomp knows on this architecture.
base::Result<void> check_syscall_names(const std::vector<std::string>& names);

// Whether signetd installs the filter for the module it loaded, with which extra syscalls,
// and why not when it does not.
struct SeccompPlan {
  bool enabled = false;
  std::vector<std::string> extra;  // the module's seccomp_allow
  std::string reason;              // why the filter is off (empty when enabled)
};

// On when [hardening] seccomp is true and the loaded module (`module_path`) is SoftHSMv2 or a
// configured module that declares `seccomp_allow`; off in builds with AddressSanitizer (its
// runtime, and LeakSanitizer's exit-time check with ptrace, need syscalls the filter kills).
SeccompPlan plan_seccomp(const firmware_config::Configuration& config,
                         const std::string& module_path);

// `extra` plus what libpcsclite's client needs to talk to pcscd beyond the base allowlist
// (poll/ppoll while it waits for pcscd's answers; its socket and connect come with
// SocketPolicy::kLocal), for signetd with smart-card support ([cards]).
std::vector<std::string> with_pcsc_client(std::vector<std::string> extra);

// Which sockets signetd's threads may open after start-up (audit forwarding reconnects):
//   kRefused     socket fails with EACCES (SoftHSMv2's syslog(3) on its error path must not
//                kill signetd); no forwarding;
//   kLocal       AF_UNIX sockets and connect (syslog on /dev/log or unix:, journald); IP
//                families fail with EACCES;
//   kLocalAndIp  also AF_INET and AF_INET6 (a udp: or tcp: syslog target).
enum class SocketPolicy { kRefused, kLocal, kLocalAndIp };

// What audit forwarding needs: kRefused without it, kLocalAndIp for a udp:/tcp: syslog
// target, kLocal otherwise.
SocketPolicy forwarding_socket_policy(const firmware_config::AuditSettings& audit);

// Installs the base allowlist plus `extra` (syscall names) for every thread of the process,
// with `sockets` as above. A module that lists socket keeps its plain allow.
base::Result<void> install_seccomp_policy(const std::vector<std::string>& extra,
                                          SocketPolicy sockets = SocketPolicy::kRefused);

}  // namespace signet::appliance
