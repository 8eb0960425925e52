// Running another program and collecting what it printed and what it cost: wall time and its
// peak resident memory. signet-crl-bench uses it to measure a CRL in a fresh copy of itself, so
// that the peak memory is the CRL's alone, and to time `openssl ca`.
//
// Linux quirk: a process's ru_maxrss starts at the peak RSS of the image it replaced at exec,
// and a child made by fork or posix_spawn (vfork) replaces a copy of (or shares) its parent's,
// so a program started from a large process reports at least the parent's RSS. The program's
// own peak is therefore read either by the program itself (VmHWM in /proc/self/status, which
// belongs to the new image only), or by run_measured(), which starts it from a small,
// freshly executed relay: this bench re-executed with --exec-measured (see exec_measured()).
// Thread-safe (each call makes its own pipe and child).
#pragma once

#include <string>
#include <vector>

#include "base/result.h"

namespace signet::bench {

struct ChildRun {
  int exit_status = -1;  // the exit code; 128 + the signal when a signal ended it
  std::string output;    // everything written to its standard output
  double seconds = 0;    // wall time from spawn to exit
  long maxrss_kb = -1;   // its own peak resident set (run_measured() only; -1: unknown)
};

// Runs argv[0] (looked up on PATH when it has no '/') with these arguments; its standard
// error goes to ours. An error when it cannot be started; a failing exit is a ChildRun.
base::Result<ChildRun> run_child(const std::vector<std::string>& argv);

// The same, through the relay, so that maxrss_kb is the program's own peak. `self` is this
// bench's executable.
base::Result<ChildRun> run_measured(const std::string& self, const std::vector<std::string>& argv);

// The relay: main() calls it first thing when argv[1] is "--exec-measured". Runs argv[2..]
// as its child, passes its exit status on, and prints its ru_maxrss as the last line of
// standard output ("exec-measured maxrss_kb N").
inline constexpr const char* kExecMeasured = "--exec-measured";
int exec_measured(int argc, char** argv);

}  // namespace signet::bench
