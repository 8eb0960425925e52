// TokenEventAudit: signetd's audit trail of its tokens. It receives the events the PKCS#11 layer
// reports (hsm/token_events.h: logins, refused logins, operations that failed with a token error,
// lost sessions) and writes each as an audit event, acting as "signetd":
//   token.logged_in      signetd logged in to the token (its PIN source or an operator's PIN)
//   token.login_refused  the token refused a login (wrong or locked PIN, device error)
//   token.error          an operation (sign, generate_key, open_session...) failed on the token
//   token.session_lost   a session died underneath (token removed, device reset)
// with the operation, the C_ function, the CKR_ name and value, and the token's label and
// serial (object "token:<serial>").
//
// Rate-limited, so that a dead HSM failing every request cannot flood the log: one event per
// token, kind, operation and return value per interval; the events suppressed meanwhile are
// counted in the next one written for that key ("suppressed_since_last_event"), and flush()
// writes the counts still untold (signetd calls it at shutdown).
//
// Thread-safe: record() is called on whatever thread met the event; the decision is made under
// a mutex, the audit write outside it.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>

#include "base/clock.h"
#include "ca/records.h"
#include "hsm/token_events.h"

namespace signet::appliance {

class TokenEventAudit {
 public:
  // `audit` and `clock` must outlive this object.
  TokenEventAudit(ca::AuditSink& audit, const base::Clock& clock,
                  std::chrono::seconds interval = std::chrono::seconds(60));

  void record(const hsm::TokenEvent& event);
  // Writes one event for each key whose suppressed events were not told yet.
  void flush();

  // "token.error" etc. for a kind.
  static std::string action_of(hsm::TokenEvent::Kind kind);

 private:
  struct Entry {
    hsm::TokenEvent last;  // the latest event of its key
    base::TimePoint written{};
    std::uint64_t suppressed = 0;
  };
  void write(const hsm::TokenEvent& event, base::TimePoint now, std::uint64_t suppressed,
             bool summary);

  ca::AuditSink& audit_;
  const base::Clock& clock_;
  const std::chrono::seconds interval_;
  std::mutex mutex_;                                   // guards entries_
  std::map<std::string, Entry, std::less<>> entries_;  // by token, kind, operation, rv
};

}  // namespace signet::appliance
