#include "bench/child_process.h"

#include <fcntl.h>
#include <spawn.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <string>

extern char** environ;

namespace signet::bench {

using base::Error;
using base::ErrorCode;
using base::Result;

namespace {

// Both ends of a pipe, closed on destruction.
struct Pipe {
  int fds[2] = {-1, -1};
  ~Pipe() {
    for (int fd : fds) {
      if (fd >= 0) ::close(fd);
    }
  }
  void close_end(int end) {
    ::close(fds[end]);
    fds[end] = -1;
  }
};

struct SpawnActions {
  posix_spawn_file_actions_t actions;
  SpawnActions() { posix_spawn_file_actions_init(&actions); }
  ~SpawnActions() { posix_spawn_file_actions_destroy(&actions); }
};

}  // namespace

Result<ChildRun> run_child(const std::vector<std::string>& argv) {
  if (argv.empty()) return Error(ErrorCode::kInvalidArgument, "no program to run");
  Pipe out;
  if (::pipe2(out.fds, O_CLOEXEC) != 0) {
    return Error(ErrorCode::kIoError, std::string("pipe: ") + std::strerror(errno));
  }
  SpawnActions spawn;
  posix_spawn_file_actions_adddup2(&spawn.actions, out.fds[1], STDOUT_FILENO);
  std::vector<char*> args;
  for (const auto& arg : argv) args.push_back(const_cast<char*>(arg.c_str()));
  args.push_back(nullptr);

  const auto start = std::chrono::steady_clock::now();
  pid_t pid = 0;
  const int spawned =
      argv[0].find('/') == std::string::npos
          ? ::posix_spawnp(&pid, args[0], &spawn.actions, nullptr, args.data(), environ)
          : ::posix_spawn(&pid, args[0], &spawn.actions, nullptr, args.data(), environ);
  if (spawned != 0) {
    return Error(ErrorCode::kIoError, "cannot run " + argv[0] + ": " + std::strerror(spawned));
  }
  out.close_end(1);
  ChildRun run;
  char buffer[4096];
  for (;;) {
    const ssize_t n = ::read(out.fds[0], buffer, sizeof buffer);
    if (n > 0) {
      run.output.append(buffer, static_cast<std::size_t>(n));
    } else if (n == 0 || errno != EINTR) {
      break;
    }
  }
  int status = 0;
  rusage usage{};
  while (::wait4(pid, &status, 0, &usage) < 0) {
    if (errno != EINTR) {
      return Error(ErrorCode::kInternal, "waiting for " + argv[0] + ": " + std::strerror(errno));
    }
  }
  run.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  run.exit_status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return run;
}

Result<ChildRun> run_measured(const std::string& self, const std::vector<std::string>& argv) {
  std::vector<std::string> relayed = {self, kExecMeasured};
  relayed.insert(relayed.end(), argv.begin(), argv.end());
  SIGNET_ASSIGN_OR_RETURN(auto run, run_child(relayed));
  const std::string marker = "exec-measured maxrss_kb ";
  if (const auto at = run.output.rfind(marker); at != std::string::npos) {
    run.maxrss_kb = std::stol(run.output.substr(at + marker.size()));
    run.output.erase(at);
  }
  return run;
}

int exec_measured(int argc, char** argv) {
  if (argc < 3) return 2;
  std::fflush(stdout);
  pid_t pid = 0;
  if (::posix_spawnp(&pid, argv[2], nullptr, nullptr, argv + 2, environ) != 0) return 127;
  int status = 0;
  rusage usage{};
  while (::wait4(pid, &status, 0, &usage) < 0) {
    if (errno != EINTR) return 126;
  }
  std::printf("\nexec-measured maxrss_kb %ld\n", usage.ru_maxrss);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

}  // namespace signet::bench
