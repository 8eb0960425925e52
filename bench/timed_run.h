// Running one loop on N threads for a fixed interval and counting what completed inside it.
//
// Every thread starts at once and works through a warm-up (sessions opened, caches filled,
// the store's writer awake) and then the measured interval; an operation counts when it
// completes successfully inside the interval, wherever it started. Rates are completions per
// wall-clock second of the interval, summed over the threads. run_timed() runs the hooks on
// the calling thread at the interval's start and end, for reading counters such as the
// store's commits. Not reentrant; the worker must be safe to run on several threads.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <utility>

#include "base/result.h"

namespace signet::bench {

using Steady = std::chrono::steady_clock;

struct Interval {
  Steady::time_point start;
  Steady::time_point end;
  bool contains(Steady::time_point t) const { return t >= start && t < end; }
};

// What the threads did; failures are counted over the whole run, with the first message kept
// so that a broken set-up is reported rather than measured.
struct Tally {
  std::uint64_t completed = 0;  // successes inside the interval
  std::uint64_t failed = 0;
  std::string first_error;

  void fail(const base::Error& error) {
    if (failed++ == 0) first_error = error.describe();
  }
  void merge(const Tally& other);
};

struct RunResult {
  double seconds = 0;  // length of the measured interval
  Tally tally;
  // CPU time during the interval, in CPU-seconds: this process's (every thread, the store's
  // writer and SoftHSM included), and the rest of the machine's (from /proc/stat; negative
  // when unknown). A busy machine makes the rates meaningless; this shows when it was.
  double own_cpu = 0;
  double other_cpu = -1;
  double rate() const { return seconds > 0 ? static_cast<double>(tally.completed) / seconds : 0; }
};

using Worker = std::function<Tally(int thread, const Interval& interval)>;

RunResult run_timed(int threads, Steady::duration warmup, Steady::duration measure,
                    const Worker& worker, const std::function<void()>& at_start = {},
                    const std::function<void()>& at_end = {});

// The worker for a plain loop: calls op(i) for i = thread, thread + stride, ... until the
// interval ends. `op` returns a base::Result of anything.
template <typename Op>
Tally loop_until_end(int thread, int stride, const Interval& interval, Op&& op) {
  Tally tally;
  for (std::uint64_t i = static_cast<std::uint64_t>(thread);;
       i += static_cast<std::uint64_t>(stride)) {
    auto result = op(i);
    const auto now = Steady::now();
    if (!result) {
      tally.fail(result.error());
    } else if (interval.contains(now)) {
      ++tally.completed;
    }
    if (now >= interval.end) return tally;
  }
}

// One thread, no warm-up beyond a few calls: how long op() takes, in nanoseconds per call.
// For the per-stage breakdown; ops take a microsecond or more, so reading the clock every
// call costs little.
struct StageTime {
  double ns_per_op = 0;
  std::uint64_t ops = 0;
  std::string error;  // set when op() failed; the timing is then meaningless
};

template <typename Op>
StageTime time_stage(Steady::duration duration, Op&& op) {
  StageTime out;
  for (int i = 0; i < 16; ++i) {
    if (auto r = op(static_cast<std::uint64_t>(i)); !r) {
      out.error = r.error().describe();
      return out;
    }
  }
  const auto start = Steady::now();
  const auto end = start + duration;
  auto now = start;
  while (now < end) {
    if (auto r = op(out.ops); !r) {
      out.error = r.error().describe();
      return out;
    }
    ++out.ops;
    now = Steady::now();
  }
  out.ns_per_op =
      std::chrono::duration<double, std::nano>(now - start).count() / static_cast<double>(out.ops);
  return out;
}

}  // namespace signet::bench
