#include "token/reader_watcher.h"

#include <winscard.h>

#include <algorithm>
#include <map>
#include <vector>

#include "token/internal/pcsc_call.h"
#include "token/readers.h"

namespace signet::token {

std::string_view to_string(ReaderEvent::Kind kind) {
  switch (kind) {
    case ReaderEvent::Kind::kReaderAdded:
      return "reader-added";
    case ReaderEvent::Kind::kReaderRemoved:
      return "reader-removed";
    case ReaderEvent::Kind::kCardInserted:
      return "card-inserted";
    case ReaderEvent::Kind::kCardRemoved:
      return "card-removed";
    case ReaderEvent::Kind::kServiceLost:
      return "service-lost";
    case ReaderEvent::Kind::kServiceRestored:
      return "service-restored";
  }
  return "unknown";
}

// The watching thread's state and its steps. Lives on the watching thread only.
class ReaderWatcher::Loop {
 public:
  explicit Loop(ReaderWatcher& owner) : owner_(owner) {}

  void run() {
    auto backoff = owner_.options_.min_backoff;
    bool lost = false;  // kServiceLost reported and not yet restored
    bool first = true;  // no context has been established yet
    while (!owner_.stopping()) {
      auto context = PcscContext::establish();
      if (!context) {
        if (!lost)
          emit({ReaderEvent::Kind::kServiceLost, "", "", false, context.error().message()});
        lost = true;
        if (!owner_.pause(backoff)) break;
        backoff = std::min(backoff * 2, owner_.options_.max_backoff);
        continue;
      }
      if (lost) emit({ReaderEvent::Kind::kServiceRestored, "", "", false, ""});
      lost = false;
      backoff = owner_.options_.min_backoff;
      initial_ = first;
      first = false;
      owner_.set_active(&*context);
      std::string why = watch(*context);
      owner_.set_active(nullptr);
      if (why.empty()) break;  // stopping
      forget_all();
      emit({ReaderEvent::Kind::kServiceLost, "", "", false, why});
      lost = true;
      if (!owner_.pause(backoff)) break;
    }
  }

 private:
  struct Known {
    DWORD current_state = SCARD_STATE_UNAWARE;  // what we pass back to SCardGetStatusChange
    bool present = false;
    std::string atr_hex;
    bool initial = false;  // attached when watching started; its first state is initial too
  };

  void emit(ReaderEvent event) {
    // Once stop() was asked (possibly by the previous callback), no more events.
    if (owner_.stopping()) return;
    try {
      owner_.callback_(event);
    } catch (...) {
      // The callback must not throw (see the header); if it does, the event is dropped rather
      // than ending the watching thread, which would silently stop all later events.
    }
  }

  // Watches one context until stopping (returns "") or pcscd is lost (returns why).
  std::string watch(const PcscContext& context) {
    DWORD pnp_state = SCARD_STATE_UNAWARE;
    // A pcscd without PnP notification answers SCARD_STATE_UNKNOWN for the pseudo-reader, at
    // once and every time: leave it out then, and see readers come and go by relisting after
    // each bounded wait.
    bool use_pnp = true;
    while (!owner_.stopping()) {
      auto readers = list_names(context);
      if (!readers) return readers.error().message();
      sync_readers(*readers);
      initial_ = false;

      std::vector<std::string> names;
      for (const auto& [name, known] : known_) names.push_back(name);
      std::vector<SCARD_READERSTATE> states(names.size() + (use_pnp ? 1 : 0));
      for (std::size_t i = 0; i < names.size(); ++i) {
        states[i].szReader = names[i].c_str();
        states[i].dwCurrentState = known_[names[i]].current_state;
      }
      if (use_pnp) {
        states.back().szReader = kPnpNotificationReader;
        states.back().dwCurrentState = pnp_state;
      }
      if (states.empty()) {
        // No reader and no PnP notification: nothing to wait on but time.
        if (!owner_.pause(owner_.options_.max_wait)) break;
        continue;
      }

      const LONG rc = ::SCardGetStatusChange(context.handle(),
                                             static_cast<DWORD>(owner_.options_.max_wait.count()),
                                             states.data(), static_cast<DWORD>(states.size()));
      if (rc == SCARD_E_CANCELLED || rc == SCARD_E_TIMEOUT) continue;
      if (rc == SCARD_E_UNKNOWN_READER) continue;  // a reader left: list again
      if (rc != SCARD_S_SUCCESS) return internal::pcsc_error(rc, "SCardGetStatusChange").message();
      for (std::size_t i = 0; i < names.size(); ++i) update(names[i], states[i]);
      if (use_pnp) {
        pnp_state = states.back().dwEventState & ~static_cast<DWORD>(SCARD_STATE_CHANGED);
        use_pnp = (states.back().dwEventState & SCARD_STATE_UNKNOWN) == 0;
      }
    }
    return "";
  }

  base::Result<std::vector<std::string>> list_names(const PcscContext& context) {
    SIGNET_ASSIGN_OR_RETURN(auto readers, list_readers(context));
    std::vector<std::string> names;
    for (const auto& reader : readers) names.push_back(reader.name);
    return names;
  }

  // Reports readers that left (with their card) and readers that arrived.
  void sync_readers(const std::vector<std::string>& names) {
    for (auto it = known_.begin(); it != known_.end();) {
      if (std::find(names.begin(), names.end(), it->first) == names.end()) {
        forget(it->first, it->second);
        it = known_.erase(it);
      } else {
        ++it;
      }
    }
    for (const auto& name : names) {
      if (known_.count(name) != 0) continue;
      Known fresh;
      fresh.initial = initial_;
      known_.emplace(name, fresh);
      emit({ReaderEvent::Kind::kReaderAdded, name, "", initial_, ""});
    }
  }

  void update(const std::string& name, const SCARD_READERSTATE& state) {
    Known& known = known_[name];
    const bool was_unaware = known.current_state == SCARD_STATE_UNAWARE;
    const DWORD event_state = state.dwEventState;
    if (!was_unaware && (event_state & SCARD_STATE_CHANGED) == 0) return;
    ReaderState now;
    apply_event_state(event_state, state.rgbAtr, state.cbAtr, now);
    // pcsc-lite counts insertions and removals in the upper 16 bits.
    const bool counter_moved = !was_unaware && (event_state >> 16) != (known.current_state >> 16);
    const bool swapped = known.present && now.card_present && counter_moved;
    if (known.present && (!now.card_present || swapped)) {
      emit({ReaderEvent::Kind::kCardRemoved, name, "", false, ""});
      known.present = false;
    }
    if (!known.present && now.card_present) {
      known.present = true;
      known.atr_hex = now.atr_hex();
      emit({ReaderEvent::Kind::kCardInserted, name, known.atr_hex, known.initial && was_unaware,
            ""});
    }
    known.initial = false;
    known.current_state = event_state & ~static_cast<DWORD>(SCARD_STATE_CHANGED);
  }

  void forget(const std::string& name, const Known& known) {
    if (known.present) emit({ReaderEvent::Kind::kCardRemoved, name, "", false, ""});
    emit({ReaderEvent::Kind::kReaderRemoved, name, "", false, ""});
  }

  void forget_all() {
    for (const auto& [name, known] : known_) forget(name, known);
    known_.clear();
  }

  ReaderWatcher& owner_;
  std::map<std::string, Known> known_;
  bool initial_ = false;
};

ReaderWatcher::ReaderWatcher(Callback callback, Options options)
    : callback_(std::move(callback)), options_(options) {}

std::unique_ptr<ReaderWatcher> ReaderWatcher::start(Callback callback, Options options) {
  std::unique_ptr<ReaderWatcher> watcher(new ReaderWatcher(std::move(callback), options));
  watcher->thread_ = std::thread([raw = watcher.get()] {
    Loop loop(*raw);
    loop.run();
  });
  return watcher;
}

ReaderWatcher::~ReaderWatcher() { stop(); }

void ReaderWatcher::stop() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
    if (active_ != nullptr) active_->cancel();
  }
  wake_.notify_all();
  if (thread_.joinable() && thread_.get_id() != std::this_thread::get_id()) thread_.join();
}

bool ReaderWatcher::stopping() const {
  std::lock_guard lock(mutex_);
  return stopping_;
}

bool ReaderWatcher::pause(std::chrono::milliseconds delay) {
  std::unique_lock lock(mutex_);
  wake_.wait_for(lock, delay, [this] { return stopping_; });
  return !stopping_;
}

void ReaderWatcher::set_active(const PcscContext* context) {
  std::lock_guard lock(mutex_);
  active_ = context;
}

}  // namespace signet::token
