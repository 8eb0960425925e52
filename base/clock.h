// Clock: the time source, injected so that tests can fix "now". Implementations are
// thread-safe.
#pragma once

#include <atomic>
#include <chrono>

namespace signet::base {

using TimePoint = std::chrono::system_clock::time_point;

class Clock {
 public:
  virtual ~Clock() = default;
  virtual TimePoint now() const = 0;
};

class SystemClock final : public Clock {
 public:
  TimePoint now() const override { return std::chrono::system_clock::now(); }
};

// A clock that stands still until told to move; for tests.
class FixedClock final : public Clock {
 public:
  explicit FixedClock(TimePoint start) : now_(start.time_since_epoch().count()) {}
  TimePoint now() const override { return TimePoint(TimePoint::duration(now_.load())); }
  void set(TimePoint t) { now_.store(t.time_since_epoch().count()); }
  void advance(TimePoint::duration d) { now_.fetch_add(d.count()); }

 private:
  std::atomic<TimePoint::rep> now_;
};

// Seconds since the Unix epoch, for records and display.
inline std::int64_t to_unix_seconds(TimePoint t) {
  return std::chrono::duration_cast<std::chrono::seconds>(t.time_since_epoch()).count();
}
// Saturates outside what a TimePoint holds (about 1677 to 2262 with nanosecond ticks): a
// certificate valid "until 9999-12-31" (RFC 5280 §4.1.2.5) then reads as valid until 2262,
// instead of overflowing.
inline TimePoint from_unix_seconds(std::int64_t s) {
  constexpr std::int64_t kLimit =
      std::chrono::duration_cast<std::chrono::seconds>(TimePoint::duration::max()).count();
  if (s >= kLimit) return TimePoint::max();
  if (s <= -kLimit) return TimePoint::min();
  return TimePoint(std::chrono::seconds(s));
}

}  // namespace signet::base
