// EventLog: records ReaderEvents from a ReaderWatcher's thread and lets the test wait, with a
// bound, for the events it expects. Thread-safe.
#pragma once

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <string>
#include <vector>

#include "token/reader_watcher.h"

namespace signet::test {

class EventLog {
 public:
  using Kind = token::ReaderEvent::Kind;

  void record(const token::ReaderEvent& event) {
    {
      std::lock_guard lock(mutex_);
      events_.push_back(event);
    }
    changed_.notify_all();
  }

  // Waits up to `limit` for an event of `kind` (for `reader`, if given) at or after index
  // `from`; returns its index, or -1 on timeout.
  long wait_for(Kind kind, const std::string& reader = "", std::size_t from = 0,
                std::chrono::milliseconds limit = std::chrono::seconds(20)) {
    std::unique_lock lock(mutex_);
    long found = -1;
    changed_.wait_for(lock, limit, [&] {
      for (std::size_t i = from; i < events_.size(); ++i) {
        if (events_[i].kind == kind && (reader.empty() || events_[i].reader == reader)) {
          found = static_cast<long>(i);
          return true;
        }
      }
      return false;
    });
    return found;
  }

  std::vector<token::ReaderEvent> events() const {
    std::lock_guard lock(mutex_);
    return events_;
  }
  std::size_t size() const {
    std::lock_guard lock(mutex_);
    return events_.size();
  }

  // "reader-added 'Virtual PCD 00 00' (initial)\n...", for failure messages.
  std::string describe() const {
    std::string out;
    for (const auto& e : events()) {
      out += std::string(token::to_string(e.kind)) + " '" + e.reader + "' " + e.atr_hex +
             (e.initial ? " (initial)" : "") + (e.message.empty() ? "" : " " + e.message) + "\n";
    }
    return out;
  }

 private:
  mutable std::mutex mutex_;  // guards events_
  std::condition_variable changed_;
  std::vector<token::ReaderEvent> events_;
};

}  // namespace signet::test
