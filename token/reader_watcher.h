// ReaderWatcher: watches PC/SC readers and cards on a thread of its own and reports every
// change as a ReaderEvent to a callback: readers attached and detached (through PC/SC's
// "\\?PnP?\Notification" pseudo-reader), cards inserted (with their ATR) and removed, and the
// PC/SC daemon going away and coming back.
//
// The events always describe a consistent state: the stream starts with the readers and cards
// present when watching begins (marked `initial`); when pcscd stops or restarts, every card is
// reported removed and every reader detached, then kServiceLost; the watcher establishes a new
// context with exponential back-off (min_backoff doubling up to max_backoff) and, once pcscd
// answers, reports kServiceRestored followed by the readers and cards it finds. If pcscd is not
// running when watching starts, the first event is kServiceLost. A card swapped between two
// looks (pcsc-lite's event counter moved while the card stayed present) is reported as a
// removal and an insertion.
//
// Ownership and threads: start() spawns the watching thread; stop() (or the destructor) wakes
// it with SCardCancel and joins it. The callback runs on the watching thread, one event at a
// time, in order; it must not block for long and must not destroy the watcher (stop() from the
// callback is allowed: it only asks, and the thread ends after the callback returns). No event
// is delivered after stop() was called.
// stop() and the destructor may be called from any other thread.
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>

#include "base/result.h"
#include "token/pcsc_context.h"

namespace signet::token {

struct ReaderEvent {
  enum class Kind {
    kReaderAdded,
    kReaderRemoved,
    kCardInserted,
    kCardRemoved,
    kServiceLost,      // pcscd is not running, stopped or restarted; `message` says which
    kServiceRestored,  // a new context was established after kServiceLost
  };
  Kind kind = Kind::kReaderAdded;
  std::string reader;    // empty for the service events
  std::string atr_hex;   // kCardInserted: the card's ATR, uppercase hex ("" for a mute card)
  bool initial = false;  // part of the state found when watching started
  std::string message;   // kServiceLost: why
};

// "reader-added", "reader-removed", "card-inserted", "card-removed", "service-lost",
// "service-restored".
std::string_view to_string(ReaderEvent::Kind kind);

class ReaderWatcher {
 public:
  using Callback = std::function<void(const ReaderEvent&)>;

  struct Options {
    std::chrono::milliseconds min_backoff{100};
    std::chrono::milliseconds max_backoff{2000};
    // Upper bound of one SCardGetStatusChange wait; stop() normally interrupts it at once
    // with SCardCancel, this bounds the rare case of a cancel arriving between two waits.
    std::chrono::milliseconds max_wait{2000};
  };

  static std::unique_ptr<ReaderWatcher> start(Callback callback, Options options);
  static std::unique_ptr<ReaderWatcher> start(Callback callback) {
    return start(std::move(callback), Options());
  }

  ~ReaderWatcher();
  ReaderWatcher(const ReaderWatcher&) = delete;
  ReaderWatcher& operator=(const ReaderWatcher&) = delete;

  // Asks the thread to finish and, unless called from the callback, waits until it has.
  void stop();

 private:
  class Loop;
  ReaderWatcher(Callback callback, Options options);

  // The watching thread's side of the shared state (see reader_watcher.cpp).
  bool stopping() const;
  // Sleeps up to `delay`, waking early on stop(); false when stopping.
  bool pause(std::chrono::milliseconds delay);
  // The context the thread is blocked on, so that stop() can cancel it; nullptr: none.
  void set_active(const PcscContext* context);

  Callback callback_;
  Options options_;
  mutable std::mutex mutex_;  // guards stopping_ and active_
  std::condition_variable wake_;
  bool stopping_ = false;
  const PcscContext* active_ = nullptr;
  std::thread thread_;
};

}  // namespace signet::token
