#include "appliance/core/token_error_audit.h"

#include <nlohmann/json.hpp>
#include <vector>

namespace signet::appliance {
namespace {

constexpr std::size_t kMaxKeys = 4096;  // bounded memory whatever the tokens answer
constexpr const char* kActor = "signetd";

std::string key_of(const hsm::TokenEvent& e) {
  return e.token_serial + '\0' + e.token_label + '\0' + std::string(hsm::to_string(e.kind)) + '\0' +
         e.operation + '\0' + std::to_string(e.rv);
}

}  // namespace

TokenEventAudit::TokenEventAudit(ca::AuditSink& audit, const base::Clock& clock,
                                 std::chrono::seconds interval)
    : audit_(audit), clock_(clock), interval_(interval) {}

std::string TokenEventAudit::action_of(hsm::TokenEvent::Kind kind) {
  switch (kind) {
    case hsm::TokenEvent::Kind::kLogin:
      return "token.logged_in";
    case hsm::TokenEvent::Kind::kLoginFailed:
      return "token.login_refused";
    case hsm::TokenEvent::Kind::kError:
      return "token.error";
    case hsm::TokenEvent::Kind::kSessionLost:
      return "token.session_lost";
  }
  return "token.error";
}

void TokenEventAudit::record(const hsm::TokenEvent& event) {
  const auto now = clock_.now();
  std::uint64_t suppressed = 0;
  {
    std::lock_guard lock(mutex_);
    const std::string key = key_of(event);
    auto it = entries_.find(key);
    if (it != entries_.end() && now - it->second.written < interval_) {
      it->second.suppressed += 1;
      it->second.last = event;
      return;
    }
    if (it == entries_.end()) {
      if (entries_.size() >= kMaxKeys) entries_.clear();
      it = entries_.emplace(key, Entry{}).first;
    }
    suppressed = it->second.suppressed;
    it->second = Entry{event, now, 0};
  }
  write(event, now, suppressed, false);
}

void TokenEventAudit::flush() {
  const auto now = clock_.now();
  std::vector<std::pair<hsm::TokenEvent, std::uint64_t>> untold;
  {
    std::lock_guard lock(mutex_);
    for (auto& [key, entry] : entries_) {
      if (entry.suppressed == 0) continue;
      untold.emplace_back(entry.last, entry.suppressed);
      entry.suppressed = 0;
      entry.written = now;
    }
  }
  for (const auto& [event, suppressed] : untold) write(event, now, suppressed, true);
}

void TokenEventAudit::write(const hsm::TokenEvent& event, base::TimePoint now,
                            std::uint64_t suppressed, bool summary) {
  nlohmann::json detail = {{"operation", event.operation},
                           {"function", event.function},
                           {"rv", event.rv_name},
                           {"rv_value", event.rv},
                           {"token_label", event.token_label},
                           {"token_serial", event.token_serial},
                           {"suppressed_since_last_event", suppressed}};
  // A summary only counts what was suppressed since the last event; it is not a new failure.
  if (summary) detail["summary"] = true;
  (void)audit_.append_audit(ca::make_audit_event(now, kActor, action_of(event.kind),
                                                 "token:" + event.token_serial, detail.dump()));
}

}  // namespace signet::appliance
