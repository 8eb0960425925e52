#include "bench/timed_run.h"

#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <thread>
#include <vector>

namespace signet::bench {

namespace {

struct CpuSample {
  double own = 0;    // this process, user + system
  double busy = -1;  // the whole machine, non-idle; negative when /proc/stat is unreadable
};

double seconds_of(const timeval& tv) { return static_cast<double>(tv.tv_sec) + tv.tv_usec / 1e6; }

CpuSample sample_cpu() {
  CpuSample out;
  rusage usage{};
  if (getrusage(RUSAGE_SELF, &usage) == 0) {
    out.own = seconds_of(usage.ru_utime) + seconds_of(usage.ru_stime);
  }
  // "cpu user nice system idle iowait irq softirq steal ...", in clock ticks.
  std::ifstream stat("/proc/stat");
  std::string label;
  unsigned long long user = 0, nice = 0, system = 0, idle = 0, iowait = 0, irq = 0, softirq = 0,
                     steal = 0;
  if (stat >> label >> user >> nice >> system >> idle >> iowait >> irq >> softirq >> steal &&
      label == "cpu") {
    const double ticks = static_cast<double>(sysconf(_SC_CLK_TCK));
    out.busy = static_cast<double>(user + nice + system + irq + softirq + steal) / ticks;
  }
  return out;
}

}  // namespace

void Tally::merge(const Tally& other) {
  completed += other.completed;
  if (failed == 0 && other.failed > 0) first_error = other.first_error;
  failed += other.failed;
}

RunResult run_timed(int threads, Steady::duration warmup, Steady::duration measure,
                    const Worker& worker, const std::function<void()>& at_start,
                    const std::function<void()>& at_end) {
  // The interval is fixed before the threads start; the warm-up also absorbs their start-up.
  Interval interval;
  interval.start = Steady::now() + warmup;
  interval.end = interval.start + measure;

  std::vector<Tally> tallies(static_cast<std::size_t>(threads));
  std::vector<std::thread> pool;
  pool.reserve(tallies.size());
  for (int t = 0; t < threads; ++t) {
    pool.emplace_back([&, t] { tallies[static_cast<std::size_t>(t)] = worker(t, interval); });
  }
  std::this_thread::sleep_until(interval.start);
  if (at_start) at_start();
  const CpuSample cpu_start = sample_cpu();
  std::this_thread::sleep_until(interval.end);
  const CpuSample cpu_end = sample_cpu();
  if (at_end) at_end();
  for (auto& thread : pool) thread.join();

  RunResult result;
  result.seconds = std::chrono::duration<double>(measure).count();
  for (const auto& tally : tallies) result.tally.merge(tally);
  result.own_cpu = cpu_end.own - cpu_start.own;
  if (cpu_start.busy >= 0 && cpu_end.busy >= 0) {
    result.other_cpu = std::max(0.0, cpu_end.busy - cpu_start.busy - result.own_cpu);
  }
  return result;
}

}  // namespace signet::bench
