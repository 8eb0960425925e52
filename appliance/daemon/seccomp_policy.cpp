#include "appliance/daemon/seccomp_policy.h"

#include <sys/socket.h>

#include <sched.h>
#include <seccomp.h>
#include <sys/ioctl.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <memory>

#include "base/sanitizers.h"

namespace signet::appliance {

using base::Error;
using base::ErrorCode;
using base::Result;

namespace {

// Derived with `strace -f -c` over the end-to-end tests (docs/THREAT-MODEL.md, "seccomp"):
// what signetd's threads call after start-up, grouped by purpose. Everything used only while
// starting (execve, bind, listen, socket, setuid and friends, prctl, setrlimit, dlopen's
// first mappings) is absent on purpose.
constexpr const char* kBaseAllowlist[] = {
    // memory (glibc malloc, OpenSSL, LMDB's map, SecureBuffer's mlock'ed pages)
    "brk",
    "mmap",
    "munmap",
    "mprotect",
    "mremap",
    "madvise",
    "mlock",
    "munlock",
    // threads, locks, time, signals (asio, std::thread, sigwait in main; abort() for a clear
    // SIGABRT instead of SIGSYS)
    "futex",
    "set_robust_list",
    "rseq",
    "sched_yield",
    "gettid",
    "getpid",
    "tgkill",
    "exit",
    "exit_group",
    "restart_syscall",
    "rt_sigprocmask",
    "rt_sigaction",
    "rt_sigreturn",
    "rt_sigtimedwait",
    "clock_gettime",
    "clock_nanosleep",
    "nanosleep",
    "getrandom",
    // files: LMDB (pwrite, fdatasync), SoftHSM's token objects (open, fcntl locks, directory
    // scans, object files created and deleted), the appliance CA file, free-space metrics
    "openat",
    "close",
    "read",
    "write",
    "writev",
    "pread64",
    "pwrite64",
    "lseek",
    "fstat",
    "newfstatat",
    "statx",
    "fcntl",
    "flock",
    "fsync",
    "fdatasync",
    "ftruncate",
    "getdents64",
    "rename",
    "unlink",
    "chmod",
    "statfs",
    "fstatfs",
    // network: the bound listeners (accept, TLS records, graceful close), asio's reactor
    "accept",
    "accept4",
    "recvfrom",
    "sendto",
    "sendmsg",
    "shutdown",
    "setsockopt",
    "getsockname",
    "getpeername",
    "epoll_wait",
    "epoll_pwait",
    "epoll_ctl",
    "eventfd2",
    "timerfd_settime",
};

struct ContextDeleter {
  void operator()(scmp_filter_ctx ctx) const { seccomp_release(ctx); }
};
using ContextPtr = std::unique_ptr<void, ContextDeleter>;

Error libseccomp_error(const std::string& what, int rc) {
  return Error(ErrorCode::kInternal, "seccomp: " + what + ": " + std::strerror(-rc));
}

Result<int> resolve(const std::string& name) {
  const int number = seccomp_syscall_resolve_name(name.c_str());
  if (number == __NR_SCMP_ERROR) {
    return Error(ErrorCode::kInvalidArgument,
                 "seccomp: '" + name + "' is not a system call on this architecture");
  }
  return number;
}

Result<void> allow(scmp_filter_ctx ctx, const std::string& name) {
  SIGNET_ASSIGN_OR_RETURN(int number, resolve(name));
  if (int rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, number, 0); rc != 0) {
    return libseccomp_error("cannot allow " + name, rc);
  }
  return base::ok();
}

// What SCMP_A0..SCMP_A5 with SCMP_CMP_EQ build, with datum_b named: clang's
// -Wmissing-field-initializers objects to the macros leaving it out.
scmp_arg_cmp argument_equals(unsigned int argument, scmp_datum_t value) {
  return scmp_arg_cmp{argument, SCMP_CMP_EQ, value, 0};
}

// clone only for threads; clone3 hides its flags from the filter, so it fails with ENOSYS and
// glibc falls back to clone. ioctl only for the requests asio makes
// (non-blocking mode, bytes available).
Result<void> add_argument_rules(scmp_filter_ctx ctx) {
  int rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(clone), 1,
                            SCMP_A0(SCMP_CMP_MASKED_EQ, CLONE_THREAD, CLONE_THREAD));
  if (rc != 0) return libseccomp_error("cannot allow clone for threads", rc);
  rc = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(ENOSYS), SCMP_SYS(clone3), 0);
  if (rc != 0) return libseccomp_error("cannot refuse clone3", rc);
  for (unsigned long request :
       {static_cast<unsigned long>(FIONBIO), static_cast<unsigned long>(FIONREAD)}) {
    rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(ioctl), 1, argument_equals(1, request));
    if (rc != 0) return libseccomp_error("cannot allow ioctl", rc);
  }
  return base::ok();
}

}  // namespace

SeccompPlan plan_seccomp(const firmware_config::Configuration& config,
                         const std::string& module_path) {
  SeccompPlan plan;
  if (!config.hardening.seccomp) {
    plan.reason = "[hardening] seccomp = false";
    return plan;
  }
#if defined(SIGNET_ADDRESS_SANITIZER)
  plan.reason = "this build has AddressSanitizer, whose runtime needs syscalls the filter kills";
  return plan;
#endif
  const std::string file = std::filesystem::path(module_path).filename().string();
  const bool softhsm = file.find("softhsm") != std::string::npos;
  for (const auto& module : config.pkcs11.modules) {
    if (module.path == module_path && module.seccomp_allow) {
      plan.enabled = true;
      plan.extra = *module.seccomp_allow;
      return plan;
    }
  }
  if (softhsm) {
    plan.enabled = true;
    return plan;
  }
  plan.reason = "the PKCS#11 module '" + module_path +
                "' is not SoftHSMv2 and declares no seccomp_allow in [[pkcs11.modules]]";
  return plan;
}

std::span<const char* const> seccomp_base_allowlist() { return kBaseAllowlist; }

Result<void> check_syscall_names(const std::vector<std::string>& names) {
  for (const auto& name : names) SIGNET_TRY(resolve(name));
  return base::ok();
}

// socket(2) and connect(2), unless the module's seccomp_allow lists them itself:
// - with audit forwarding (audit_forwarder.h), whose thread (re)connects while signetd runs:
//   socket for AF_UNIX, and for IP only with an IP target, and connect;
// - without it, socket fails with EACCES instead of killing the process: SoftHSMv2 reports its
//   errors with syslog(3), whose socket to /dev/log must not take signetd down (a key created
//   or destroyed while other threads sign can make SoftHSM log a transient error).
Result<void> add_socket_rules(scmp_filter_ctx ctx, const std::vector<std::string>& extra,
                              SocketPolicy sockets) {
  const auto listed = [&extra](const char* name) {
    return std::find(extra.begin(), extra.end(), name) != extra.end();
  };
  if (listed("socket")) return base::ok();
  if (sockets == SocketPolicy::kRefused) {
    int rc = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EACCES), SCMP_SYS(socket), 0);
    if (rc != 0) return libseccomp_error("cannot refuse socket", rc);
    return base::ok();
  }
  const bool ip = sockets == SocketPolicy::kLocalAndIp;
  for (int domain : {AF_UNIX, AF_INET, AF_INET6}) {
    const std::uint32_t action = domain == AF_UNIX || ip ? SCMP_ACT_ALLOW : SCMP_ACT_ERRNO(EACCES);
    int rc = seccomp_rule_add(ctx, action, SCMP_SYS(socket), 1,
                              argument_equals(0, static_cast<scmp_datum_t>(domain)));
    if (rc != 0) return libseccomp_error("cannot add a socket rule", rc);
  }
  return listed("connect") ? base::ok() : allow(ctx, "connect");
}

std::vector<std::string> with_pcsc_client(std::vector<std::string> extra) {
  for (const char* name : {"poll", "ppoll"}) {
    if (std::find(extra.begin(), extra.end(), name) == extra.end()) extra.emplace_back(name);
  }
  return extra;
}

SocketPolicy forwarding_socket_policy(const firmware_config::AuditSettings& audit) {
  if (audit.forward.empty()) return SocketPolicy::kRefused;
  const bool syslog =
      std::find(audit.forward.begin(), audit.forward.end(), "syslog") != audit.forward.end();
  const auto& address = audit.syslog_address;
  if (syslog && (address.starts_with("udp:") || address.starts_with("tcp:"))) {
    return SocketPolicy::kLocalAndIp;
  }
  return SocketPolicy::kLocal;
}

Result<void> install_seccomp_policy(const std::vector<std::string>& extra, SocketPolicy sockets) {
  ContextPtr ctx(seccomp_init(SCMP_ACT_KILL_PROCESS));
  if (!ctx) return Error(ErrorCode::kInternal, "seccomp: cannot create a filter");
  if (int rc = seccomp_attr_set(ctx.get(), SCMP_FLTATR_CTL_TSYNC, 1); rc != 0) {
    return libseccomp_error("cannot synchronise the filter to every thread", rc);
  }
  for (const char* name : kBaseAllowlist) SIGNET_TRY(allow(ctx.get(), name));
  for (const auto& name : extra) SIGNET_TRY(allow(ctx.get(), name));
  SIGNET_TRY(add_argument_rules(ctx.get()));
  SIGNET_TRY(add_socket_rules(ctx.get(), extra, sockets));
  if (int rc = seccomp_load(ctx.get()); rc != 0) return libseccomp_error("cannot load", rc);
  return base::ok();
}

}  // namespace signet::appliance
