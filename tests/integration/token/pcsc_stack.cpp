#include "tests/integration/token/pcsc_stack.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <stdexcept>
#include <thread>

#include "token/readers.h"

namespace signet::test {
namespace {

// vicc (Debian 12) imports PyCrypto's `Crypto`; pycryptodome installs it as `Cryptodome`.
constexpr const char* kCryptodome = "/usr/lib/python3/dist-packages/Cryptodome";
constexpr const char* kViccModules = "/usr/lib/python3/site-packages/virtualsmartcard";

// Without reaping it (WNOWAIT), so that kill_group still owns the exit status.
bool process_alive(pid_t pid) {
  if (pid <= 0) return false;
  siginfo_t info{};
  if (::waitid(P_PID, static_cast<id_t>(pid), &info, WEXITED | WNOHANG | WNOWAIT) != 0) {
    return false;
  }
  return info.si_pid == 0;
}

}  // namespace

bool PcscStack::wait_until(const std::function<bool()>& condition,
                           std::chrono::milliseconds limit) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < deadline) {
    if (condition()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return condition();
}

PcscStack::PcscStack() {
  std::filesystem::create_directory(dir_ / "python");
  std::filesystem::create_directory_symlink(kCryptodome, dir_ / "python" / "Crypto");
  start_pcscd();
}

PcscStack::~PcscStack() {
  kill_group(vicc_, std::chrono::seconds(5));
  kill_group(pcscd_, std::chrono::seconds(10));
}

pid_t PcscStack::spawn(const std::vector<std::string>& argv, const std::vector<std::string>& env,
                       const std::string& log_name) {
  // Everything the child needs is made before fork: this process has other threads (the
  // watcher), so the child only calls async-signal-safe functions before exec.
  const std::string log = (dir_ / log_name).string();
  std::vector<std::string> environment = env;
  for (char** entry = environ; *entry != nullptr; ++entry) environment.emplace_back(*entry);
  std::vector<char*> envp;
  for (auto& assignment : environment) envp.push_back(assignment.data());
  envp.push_back(nullptr);
  std::vector<std::string> arguments = argv;
  std::vector<char*> args;
  for (auto& arg : arguments) args.push_back(arg.data());
  args.push_back(nullptr);
  const pid_t parent = ::getpid();
  const pid_t pid = ::fork();
  if (pid < 0) throw std::runtime_error("fork failed");
  if (pid == 0) {
    // Should the test process die without its destructors (a crash, an abort), pcscd and vicc
    // must not outlive it: they get SIGTERM when it goes.
    ::prctl(PR_SET_PDEATHSIG, SIGTERM);
    if (::getppid() != parent) ::_exit(1);
    ::setpgid(0, 0);  // its own group: kill_group reaches its children too
    const int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    if (fd >= 0) {
      ::dup2(fd, 1);
      ::dup2(fd, 2);
      ::close(fd);
    }
    ::execve(args[0], args.data(), envp.data());
    ::_exit(127);
  }
  ::setpgid(pid, pid);  // also from the parent, so that the group exists before any kill
  return pid;
}

void PcscStack::kill_group(pid_t& leader, std::chrono::milliseconds grace) {
  if (leader <= 0) return;
  ::kill(-leader, SIGTERM);
  const bool ended = wait_until(
      [&] {
        int status = 0;
        return ::waitpid(leader, &status, WNOHANG) == leader;
      },
      grace);
  if (!ended) {
    ::kill(-leader, SIGKILL);
    int status = 0;
    ::waitpid(leader, &status, 0);
  }
  // Stragglers of the group (none expected): make sure nothing outlives the test.
  ::kill(-leader, SIGKILL);
  leader = -1;
}

std::string PcscStack::logs() const {
  std::string out;
  for (const char* name : {"pcscd.log", "vicc.log"}) {
    if (std::filesystem::exists(dir_ / name)) {
      out += std::string("--- ") + name + "\n" + read_text(dir_ / name);
    }
  }
  return out;
}

void PcscStack::start_pcscd() {
  if (pcscd_ > 0) return;
  if (std::filesystem::exists("/run/pcscd/pcscd.comm")) {
    // A socket left by a pcscd we did not start: another pcscd runs (or died uncleanly).
    auto probe = token::PcscContext::establish();
    if (probe) {
      throw std::runtime_error(
          "another pcscd is already running on /run/pcscd/pcscd.comm; stop it first (these "
          "tests start their own)");
    }
  }
  ++pcscd_starts_;
  // --foreground: a child we own and can stop; --info: readers and cards in its log.
  pcscd_ = spawn({"/usr/sbin/pcscd", "--foreground", "--info"}, {}, "pcscd.log");
  const bool ready = wait_until([this] {
    if (!process_alive(pcscd_)) return true;
    auto context = token::PcscContext::establish();
    if (!context) return false;
    auto readers = token::list_readers(*context);
    return readers && readers->size() >= 1;
  });
  if (!ready || !process_alive(pcscd_)) {
    const std::string why = logs();
    kill_group(pcscd_, std::chrono::seconds(5));
    throw std::runtime_error(
        "pcscd did not start with the virtual readers (is vsmartcard-vpcd "
        "installed, /etc/reader.conf.d/vpcd present?)\n" +
        why);
  }
}

void PcscStack::stop_pcscd() {
  kill_group(pcscd_, std::chrono::seconds(10));
  // vicc loses its connection and exits; reap it.
  kill_group(vicc_, std::chrono::seconds(5));
}

bool PcscStack::card_present() const {
  auto context = token::PcscContext::establish();
  if (!context) return false;
  auto reader = token::find_reader(*context, kReader);
  return reader && reader->card_present;
}

void PcscStack::insert_card() {
  if (vicc_ > 0) throw std::logic_error("a virtual card is already inserted");
  const std::string pythonpath =
      std::string("PYTHONPATH=") + kViccModules + ":" + (dir_ / "python").string();
  // vicc exits when it cannot reach vpcd (pcscd still loading the driver): start it again.
  for (int attempt = 0; attempt < 5; ++attempt) {
    ++vicc_starts_;
    vicc_ = spawn({"/usr/bin/python3", "/usr/bin/vicc", "-t", "iso7816", "-v"}, {pythonpath},
                  "vicc.log");
    if (wait_until([this] { return card_present() || !process_alive(vicc_); })) {
      if (card_present()) return;
    }
    kill_group(vicc_, std::chrono::seconds(2));
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
  }
  throw std::runtime_error("the virtual card (vicc) did not connect to vpcd\n" + logs());
}

void PcscStack::remove_card() {
  kill_group(vicc_, std::chrono::seconds(5));
  if (!wait_until([this] { return !card_present(); })) {
    throw std::runtime_error("pcscd still reports a card after vicc was killed\n" + logs());
  }
}

}  // namespace signet::test
