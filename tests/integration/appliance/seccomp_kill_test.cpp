// signetd's seccomp allowlist, installed by the same code signetd runs
// (install_seccomp_policy), in a forked child: what it allows still works, what it does not
// allow kills the process with SIGSYS (socket fails with EACCES instead). The parent reads the
// child's fate from waitpid().
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/ptrace.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <syslog.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cerrno>
#include <cstdlib>
#include <functional>
#include <thread>

#include "appliance/daemon/seccomp_policy.h"
#include "base/sanitizers.h"

using signet::appliance::check_syscall_names;
using signet::appliance::install_seccomp_policy;
using signet::appliance::plan_seccomp;
using signet::appliance::seccomp_base_allowlist;

namespace {

struct Fate {
  bool exited = false;
  int exit_code = -1;
  int signal = 0;
};

// The child's end: exit_group(2) itself. Not _exit(), which the sanitizer runtimes intercept
// (LeakSanitizer checks for leaks there, with syscalls the filter kills). Deliberately not
// [[noreturn]]: ASan puts __asan_handle_no_return, which calls sigaltstack(2), before every
// call to a noreturn function, and the filter kills sigaltstack.
void end_child(int code) { ::syscall(SYS_exit_group, code); }

// Forks; the child installs the filter (with `extra` and the socket policy), runs `body` and
// ends with its return value (never through atexit handlers, which sanitizer runtimes use).
Fate run_filtered(
    std::vector<std::string> extra, const std::function<int()>& body,
    signet::appliance::SocketPolicy sockets = signet::appliance::SocketPolicy::kRefused) {
  const pid_t child = ::fork();
  REQUIRE(child >= 0);
  if (child == 0) {
    if (!install_seccomp_policy(extra, sockets)) end_child(100);
    end_child(body());
  }
  int status = 0;
  REQUIRE(::waitpid(child, &status, 0) == child);
  Fate fate;
  fate.exited = WIFEXITED(status);
  if (fate.exited) fate.exit_code = WEXITSTATUS(status);
  if (WIFSIGNALED(status)) fate.signal = WTERMSIG(status);
  return fate;
}

}  // namespace

TEST_CASE("a filtered process keeps the syscalls signetd needs") {
  auto fate = run_filtered({}, [] {
    const auto pid = ::getpid();
    const int written = static_cast<int>(::write(STDERR_FILENO, "", 0));
    return pid > 0 && written == 0 ? 7 : 2;
  });
  CHECK(fate.exited);
  CHECK(fate.exit_code == 7);
}

TEST_CASE("execve is stopped with SIGSYS") {
  auto fate = run_filtered({}, [] {
    char* const argv[] = {const_cast<char*>("/bin/true"), nullptr};
    ::execv("/bin/true", argv);
    return 9;  // execve failed in some other way
  });
  CHECK_FALSE(fate.exited);
  CHECK(fate.signal == SIGSYS);
}

TEST_CASE("ptrace is stopped with SIGSYS") {
  auto fate = run_filtered({}, [] {
    ::ptrace(PTRACE_TRACEME, 0, nullptr, nullptr);
    return 9;
  });
  CHECK(fate.signal == SIGSYS);
}

TEST_CASE("fork (clone without CLONE_THREAD) is stopped with SIGSYS") {
  auto fate = run_filtered({}, [] {
    const pid_t grandchild = ::fork();
    if (grandchild == 0) ::_exit(0);
    return 9;
  });
  CHECK(fate.signal == SIGSYS);
}

#if !defined(SIGNET_ADDRESS_SANITIZER)
// Under AddressSanitizer its thread start-up needs syscalls beyond the list (signetd turns
// the filter off in such builds, see plan_seccomp).
TEST_CASE("threads can still be created under the filter") {
  auto fate = run_filtered({}, [] {
    int value = 0;
    std::thread worker([&value] { value = 42; });
    worker.join();
    return value == 42 ? 5 : 2;
  });
  CHECK(fate.exited);
  CHECK(fate.exit_code == 5);
}
#endif

TEST_CASE("a module's seccomp_allow adds syscalls to the list") {
  const auto call_getppid = [] { return ::getppid() > 0 ? 6 : 2; };
  auto without = run_filtered({}, call_getppid);
  CHECK(without.signal == SIGSYS);
  auto with = run_filtered({"getppid"}, call_getppid);
  CHECK(with.exited);
  CHECK(with.exit_code == 6);
}

TEST_CASE("unknown syscall names are refused before anything is installed") {
  auto checked = check_syscall_names({"getppid", "no_such_syscall"});
  REQUIRE_FALSE(checked);
  CHECK(checked.error().message().find("no_such_syscall") != std::string::npos);
}

TEST_CASE("the filter is planned for SoftHSM and for modules that declare their syscalls") {
  auto config = signet::firmware_config::Configuration::defaults("/usr/lib/softhsm/libsofthsm2.so");
  auto plan = plan_seccomp(config, "/usr/lib/softhsm/libsofthsm2.so");
#if defined(SIGNET_ADDRESS_SANITIZER)
  CHECK_FALSE(plan.enabled);
  CHECK(plan.reason.find("AddressSanitizer") != std::string::npos);
#else
  CHECK(plan.enabled);
  CHECK(plan.extra.empty());

  auto vendor = plan_seccomp(config, "/opt/vendor/libp11.so");
  CHECK_FALSE(vendor.enabled);
  CHECK(vendor.reason.find("/opt/vendor/libp11.so") != std::string::npos);

  config.pkcs11.modules.push_back(
      {"vendor", "/opt/vendor/libp11.so", std::vector<std::string>{"socket", "connect"}});
  vendor = plan_seccomp(config, "/opt/vendor/libp11.so");
  CHECK(vendor.enabled);
  CHECK(vendor.extra == std::vector<std::string>{"socket", "connect"});
#endif
  config.hardening.seccomp = false;
  CHECK_FALSE(plan_seccomp(config, "/usr/lib/softhsm/libsofthsm2.so").enabled);
  CHECK(seccomp_base_allowlist().size() > 20);
}

namespace {

// run_filtered with only the socket policy chosen (audit forwarding's outbound sockets).
Fate run_filtered_sockets(signet::appliance::SocketPolicy sockets,
                          const std::function<int()>& body) {
  return run_filtered({}, body, sockets);
}

}  // namespace

TEST_CASE("without forwarding socket fails with EACCES, so syslog(3) cannot kill signetd") {
  auto fate = run_filtered_sockets(signet::appliance::SocketPolicy::kRefused, [] {
    const int fd = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd >= 0 || errno != EACCES) return 2;
    ::syslog(LOG_ERR, "signet seccomp test: SoftHSM logs its errors like this");
    return 8;
  });
  CHECK(fate.exited);
  CHECK(fate.exit_code == 8);
}

TEST_CASE("with forwarding unix and IP sockets connect; other families are stopped") {
  auto allowed = run_filtered_sockets(signet::appliance::SocketPolicy::kLocalAndIp, [] {
    const int fd = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return 2;
    sockaddr_in to{};
    to.sin_family = AF_INET;
    to.sin_port = htons(9);
    to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    const int connected = ::connect(fd, reinterpret_cast<const sockaddr*>(&to), sizeof(to));
    const int local = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    return connected == 0 && local >= 0 ? 9 : 3;
  });
  CHECK(allowed.exited);
  CHECK(allowed.exit_code == 9);
  auto netlink = run_filtered_sockets(signet::appliance::SocketPolicy::kLocalAndIp, [] {
    return ::socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, 0) >= 0 ? 4 : 5;
  });
  CHECK(netlink.signal == SIGSYS);
}

TEST_CASE("with only local forwarding targets unix sockets open and IP sockets are refused") {
  auto fate = run_filtered_sockets(signet::appliance::SocketPolicy::kLocal, [] {
    const int local = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (local < 0) return 2;
    const int ip4 = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (ip4 >= 0 || errno != EACCES) return 3;
    const int ip6 = ::socket(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (ip6 >= 0 || errno != EACCES) return 4;
    return 10;
  });
  CHECK(fate.exited);
  CHECK(fate.exit_code == 10);
}

TEST_CASE("IP sockets are opened up only for a udp: or tcp: syslog target") {
  using signet::appliance::forwarding_socket_policy;
  using signet::appliance::SocketPolicy;
  signet::firmware_config::AuditSettings audit;
  CHECK(forwarding_socket_policy(audit) == SocketPolicy::kRefused);
  audit.forward = {"journald"};
  CHECK(forwarding_socket_policy(audit) == SocketPolicy::kLocal);
  audit.forward = {"syslog"};
  audit.syslog_address = "/dev/log";
  CHECK(forwarding_socket_policy(audit) == SocketPolicy::kLocal);
  audit.syslog_address = "udp:127.0.0.1:514";
  CHECK(forwarding_socket_policy(audit) == SocketPolicy::kLocalAndIp);
  audit.syslog_address = "tcp:[::1]:601";
  CHECK(forwarding_socket_policy(audit) == SocketPolicy::kLocalAndIp);
  audit.forward = {"journald"};  // the address is not used without syslog
  CHECK(forwarding_socket_policy(audit) == SocketPolicy::kLocal);
}
