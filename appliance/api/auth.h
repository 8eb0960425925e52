// Authenticator: who a request comes from. Three ways in:
//   - a session cookie ("signet_session", HttpOnly, Secure, SameSite=Strict) made by a password
//     login (Argon2id, libargon2) or by a client certificate that the appliance CA issued to an
//     operator (mTLS); state-changing requests of a session must echo its CSRF token in the
//     X-CSRF-Token header. Sessions expire after an idle time and an absolute lifetime, and
//     end when the operator's password changes or the operator is disabled (generation).
//   - an API token, "Authorization: Bearer sgt_<16 hex id>_<secret>", of which only the
//     SHA-256 hash is stored (a per-request Argon2 would sink throughput); compared in
//     constant time.
//   - nothing: anonymous.
// Repeated password failures back off and lock the operator for a while; the failed-login
// audit events are rate-limited (one per operator and minute, counting what was suppressed)
// so that a password-guessing client cannot fill the disk.
//
// Sessions live in memory: a restart of signetd logs everyone out.
// Thread-safe.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "appliance/api/principal.h"
#include "appliance/server/http.h"
#include "base/clock.h"
#include "base/result.h"
#include "base/rng.h"
#include "base/secure_buffer.h"
#include "ca/operators.h"
#include "ca/records.h"

namespace signet::appliance {

struct AuthPolicy {
  std::chrono::seconds session_idle{15 * 60};
  std::chrono::seconds session_lifetime{8 * 60 * 60};
  std::uint32_t failures_before_lockout = 5;
  std::chrono::seconds lockout{15 * 60};
  std::chrono::seconds failed_login_audit_interval{60};
  // Argon2id cost (OWASP's minimum: 19 MiB, 2 passes, 1 lane).
  std::uint32_t argon2_memory_kib = 19 * 1024;
  std::uint32_t argon2_passes = 2;
  std::size_t max_sessions = 10'000;
  std::size_t min_password_length = 12;
};

struct NewSession {
  std::string session_id;  // the cookie value (shown once, only its hash is kept)
  std::string csrf_token;
  Principal principal;
  base::TimePoint expires{};
};

struct NewApiToken {
  ca::ApiTokenRecord record;
  std::string token;  // "sgt_<id>_<secret>": shown once, never stored
};

class Authenticator {
 public:
  Authenticator(ca::OperatorDirectory& operators, ca::AuditSink& audit, const base::Clock& clock,
                base::Rng& rng, AuthPolicy policy = {});

  // ---- request authentication ----
  // The principal of `request`: from its bearer token or session cookie, else anonymous.
  // kPermissionDenied ("unauthenticated") for a token or session that is presented but not
  // valid (wrong, expired, revoked), so a client learns its credential is bad.
  base::Result<Principal> authenticate(const http::Request& request);
  // Whether a state-changing request by `principal` carries the right CSRF token (sessions
  // only; tokens are not ambient credentials).
  bool csrf_ok(const http::Request& request, const Principal& principal) const;

  // ---- sessions ----
  base::Result<NewSession> login_password(std::string_view name, const base::SecureBuffer& password,
                                          std::string_view remote);
  // The operator whose certificate (verified by TLS against the appliance CA) is presented.
  base::Result<NewSession> login_certificate(base::ByteView certificate_der,
                                             std::string_view remote);
  void logout(const http::Request& request);
  // "signet_session=...; Path=/; HttpOnly; Secure; SameSite=Strict; Max-Age=..."
  std::string session_cookie(const NewSession& session) const;
  static std::string expired_session_cookie();
  // Whether authenticate() looks at the request's session cookie: it has one and no
  // Authorization header (which takes precedence).
  static bool authenticates_by_session_cookie(const http::Request& request);

  // ---- operators ----
  // Hashes `password` (Argon2id) after checking the policy (length); kInvalidArgument naming
  // the rule otherwise.
  base::Result<std::string> hash_password(const base::SecureBuffer& password) const;
  bool verify_password(const std::string& phc, const base::SecureBuffer& password) const;
  // Ends every session of `name` (password change, role change, disable, delete).
  void end_sessions_of(std::string_view name);

  // ---- API tokens ----
  // A new token for `owner` (the record is stored by the caller with its audit event).
  NewApiToken make_api_token(std::string name, std::string owner, ca::Role role,
                             std::vector<std::string> profiles,
                             std::optional<base::TimePoint> expires);

  // When the API token `id` last authenticated a request since signetd started (kept in
  // memory: a write per request would cost the store a commit); nullopt: not since then.
  std::optional<base::TimePoint> token_last_used(std::string_view id) const;

  // The session times (a configuration reload); sessions already open follow the new ones.
  void set_session_times(std::chrono::seconds idle, std::chrono::seconds lifetime);
  std::size_t session_count() const;

 private:
  struct Session {
    Principal principal;
    base::TimePoint created{};
    base::TimePoint last_seen{};
  };
  base::Result<NewSession> open_session(const ca::OperatorRecord& op, PrincipalKind kind,
                                        std::string_view remote);
  base::Result<Principal> from_session(std::string_view cookie_value);
  base::Result<Principal> from_token(std::string_view bearer);
  void record_failure(const ca::OperatorRecord* op, std::string_view name, std::string_view remote,
                      std::string_view why);
  void prune_sessions_locked(base::TimePoint now);

  ca::OperatorDirectory& operators_;
  ca::AuditSink& audit_;
  const base::Clock& clock_;
  base::Rng& rng_;
  AuthPolicy policy_;  // policy_.session_idle and session_lifetime are guarded by mutex_

  mutable std::mutex mutex_;  // guards sessions_, failed_audit_, token_last_used_, session times
  std::map<std::string, Session, std::less<>> sessions_;  // keyed by SHA-256(cookie) hex
  struct FailedAudit {
    base::TimePoint last_written{};
    std::uint64_t suppressed = 0;
  };
  std::map<std::string, FailedAudit, std::less<>> failed_audit_;
  std::map<std::string, base::TimePoint, std::less<>> token_last_used_;  // by token id
};

}  // namespace signet::appliance
