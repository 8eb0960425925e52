#include "bench/timed_run.h"

#include <thread>
#include <vector>

namespace signet::bench {

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
  std::this_thread::sleep_until(interval.end);
  if (at_end) at_end();
  for (auto& thread : pool) thread.join();

  RunResult result;
  result.seconds = std::chrono::duration<double>(measure).count();
  for (const auto& tally : tallies) result.tally.merge(tally);
  return result;
}

}  // namespace signet::bench
