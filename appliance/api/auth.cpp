#include "appliance/api/auth.h"

#include <argon2.h>

#include <algorithm>
#include <nlohmann/json.hpp>

#include "pki/digest.h"

namespace signet::appliance {

using base::Error;
using base::ErrorCode;
using base::Result;

namespace {

constexpr std::string_view kCookieName = "signet_session";
constexpr std::string_view kTokenPrefix = "sgt_";
constexpr std::size_t kTokenIdHexLength = 16;
constexpr std::size_t kTokenSecretHexLength = 64;
constexpr std::size_t kSaltBytes = 16;
constexpr std::size_t kHashBytes = 32;

std::string random_hex(base::Rng& rng, std::size_t bytes) {
  base::Bytes buffer(bytes);
  if (!rng.fill(buffer)) std::abort();  // the kernel CSPRNG does not fail; never go on without it
  return base::to_hex(buffer);
}

std::string hash_hex(std::string_view text) {
  return base::to_hex(
      pki::sha256(base::ByteView(reinterpret_cast<const std::uint8_t*>(text.data()), text.size())));
}

std::optional<std::string_view> cookie_value(const http::Request& request, std::string_view name) {
  for (const auto& header : request.headers) {
    if (header.name != "cookie") continue;
    std::string_view rest = header.value;
    while (!rest.empty()) {
      const std::size_t end = std::min(rest.find(';'), rest.size());
      std::string_view pair = rest.substr(0, end);
      rest.remove_prefix(std::min(end + 1, rest.size()));
      while (!pair.empty() && pair.front() == ' ') pair.remove_prefix(1);
      const std::size_t eq = pair.find('=');
      if (eq != std::string_view::npos && pair.substr(0, eq) == name) return pair.substr(eq + 1);
    }
  }
  return std::nullopt;
}

bool is_lower_hex(std::string_view text) {
  return std::all_of(text.begin(), text.end(),
                     [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
}

Error unauthenticated(std::string message) {
  return Error(ErrorCode::kPermissionDenied, std::move(message));
}

}  // namespace

Authenticator::Authenticator(ca::OperatorDirectory& operators, ca::AuditSink& audit,
                             const base::Clock& clock, base::Rng& rng, AuthPolicy policy)
    : operators_(operators), audit_(audit), clock_(clock), rng_(rng), policy_(policy) {}

// ---- request authentication ----

Result<Principal> Authenticator::authenticate(const http::Request& request) {
  if (const auto authorization = request.header("authorization")) {
    constexpr std::string_view kBearer = "Bearer ";
    if (authorization->substr(0, kBearer.size()) != kBearer) {
      return unauthenticated("the Authorization header must be 'Bearer <API token>'");
    }
    return from_token(authorization->substr(kBearer.size()));
  }
  if (const auto cookie = cookie_value(request, kCookieName)) return from_session(*cookie);
  return Principal{};
}

Result<Principal> Authenticator::from_token(std::string_view token) {
  const std::size_t expected = kTokenPrefix.size() + kTokenIdHexLength + 1 + kTokenSecretHexLength;
  if (token.size() != expected || token.substr(0, kTokenPrefix.size()) != kTokenPrefix ||
      token[kTokenPrefix.size() + kTokenIdHexLength] != '_') {
    return unauthenticated("the API token is not well-formed (sgt_<id>_<secret>)");
  }
  const std::string_view id = token.substr(kTokenPrefix.size(), kTokenIdHexLength);
  if (!is_lower_hex(id)) return unauthenticated("the API token is not well-formed");
  auto found = operators_.find_api_token(id);
  if (!found) return std::move(found).error().with_context("checking an API token");
  const auto presented = pki::sha256(
      base::ByteView(reinterpret_cast<const std::uint8_t*>(token.data()), token.size()));
  // One answer for an unknown id and a wrong secret, so that ids cannot be probed.
  if (!*found || !base::constant_time_equal(presented, (*found)->secret_hash)) {
    return unauthenticated("the API token is not valid");
  }
  const ca::ApiTokenRecord& record = **found;
  const auto now = clock_.now();
  if (record.revoked) return unauthenticated("the API token " + record.id + " was revoked");
  if (record.expires && *record.expires <= now) {
    return unauthenticated("the API token " + record.id + " has expired");
  }
  auto owner = operators_.find_operator(record.owner);
  if (!owner) return std::move(owner).error().with_context("checking an API token's owner");
  if (!*owner || (*owner)->disabled) {
    return unauthenticated("the API token's operator '" + record.owner + "' is disabled or gone");
  }
  {
    std::lock_guard lock(mutex_);
    token_last_used_[record.id] = now;
  }
  Principal principal;
  principal.kind = PrincipalKind::kApiToken;
  principal.operator_name = record.owner;
  principal.role = record.role;
  principal.token_id = record.id;
  principal.profiles = record.profiles;
  return principal;
}

std::optional<base::TimePoint> Authenticator::token_last_used(std::string_view id) const {
  std::lock_guard lock(mutex_);
  const auto it = token_last_used_.find(id);
  if (it == token_last_used_.end()) return std::nullopt;
  return it->second;
}

Result<Principal> Authenticator::from_session(std::string_view cookie) {
  const std::string key = hash_hex(cookie);
  const auto now = clock_.now();
  std::lock_guard lock(mutex_);
  const auto it = sessions_.find(key);
  if (it == sessions_.end()) return unauthenticated("the session is not valid; log in again");
  Session& session = it->second;
  if (now - session.last_seen >= policy_.session_idle ||
      now - session.created >= policy_.session_lifetime) {
    sessions_.erase(it);
    return unauthenticated("the session has expired; log in again");
  }
  session.last_seen = now;
  return session.principal;
}

bool Authenticator::csrf_ok(const http::Request& request, const Principal& principal) const {
  if (principal.kind != PrincipalKind::kSession &&
      principal.kind != PrincipalKind::kClientCertificate) {
    return true;
  }
  const auto presented = request.header("x-csrf-token");
  if (!presented) return false;
  return base::constant_time_equal(
      base::ByteView(reinterpret_cast<const std::uint8_t*>(presented->data()), presented->size()),
      base::ByteView(reinterpret_cast<const std::uint8_t*>(principal.csrf_token.data()),
                     principal.csrf_token.size()));
}

// ---- sessions ----

Result<NewSession> Authenticator::login_password(std::string_view name,
                                                 const base::SecureBuffer& password,
                                                 std::string_view remote) {
  const auto now = clock_.now();
  auto found = operators_.find_operator(name);
  if (!found) return std::move(found).error().with_context("logging in");
  if (!*found) {
    // Spend the same work as a real check, so that timing does not tell names apart.
    static const std::string kDummy =
        "$argon2id$v=19$m=19456,t=2,p=1$c2lnbmV0LWR1bW15LXNhbHQ$"
        "q5nqWFvWzBvbOMu5Ru3nPXqBVCmgFtJ1ymE5bWEDQUg";
    (void)verify_password(kDummy, password);
    record_failure(nullptr, name, remote, "unknown operator");
    return unauthenticated("wrong operator name or password");
  }
  ca::OperatorRecord op = std::move(**found);
  if (op.locked_until && *op.locked_until > now) {
    const auto wait = std::chrono::duration_cast<std::chrono::seconds>(*op.locked_until - now);
    return Error(ErrorCode::kUnavailable, "too many failed logins for '" + op.name +
                                              "': try again in " +
                                              std::to_string(wait.count() + 1) + " s");
  }
  if (op.password_hash.empty() || !verify_password(op.password_hash, password)) {
    record_failure(&op, name, remote, "wrong password");
    return unauthenticated("wrong operator name or password");
  }
  if (op.disabled) {
    record_failure(nullptr, name, remote, "operator disabled");
    return unauthenticated("the operator '" + op.name + "' is disabled");
  }
  return open_session(op, PrincipalKind::kSession, remote);
}

Result<NewSession> Authenticator::login_certificate(base::ByteView certificate_der,
                                                    std::string_view remote) {
  if (certificate_der.empty()) {
    return unauthenticated("no client certificate was presented");
  }
  const auto fingerprint = pki::sha256(certificate_der);
  auto found = operators_.find_operator_by_certificate(fingerprint);
  if (!found) return std::move(found).error().with_context("logging in by certificate");
  if (!*found || (*found)->disabled) {
    record_failure(nullptr, "certificate:" + base::to_hex(fingerprint), remote,
                   "certificate not bound to an enabled operator");
    return unauthenticated("the client certificate does not belong to an enabled operator");
  }
  ca::OperatorRecord op = std::move(**found);
  return open_session(op, PrincipalKind::kClientCertificate, remote);
}

Result<NewSession> Authenticator::open_session(const ca::OperatorRecord& op, PrincipalKind kind,
                                               std::string_view remote) {
  const auto now = clock_.now();
  NewSession session;
  session.session_id = random_hex(rng_, 32);
  session.csrf_token = random_hex(rng_, 32);
  session.principal.kind = kind;
  session.principal.operator_name = op.name;
  session.principal.role = op.role;
  session.principal.csrf_token = session.csrf_token;
  {
    std::lock_guard lock(mutex_);
    session.expires = now + policy_.session_lifetime;
  }
  nlohmann::json detail = {
      {"remote", remote}, {"method", kind == PrincipalKind::kSession ? "password" : "certificate"}};
  auto logged_in = operators_.modify_operator(
      op.name, [&](ca::OperatorRecord& stored) -> Result<std::optional<ca::AuditEvent>> {
        // The credential was checked against `op`; a change since (disabled, password reset,
        // certificate unbound: a new generation) refuses the session it was checked for.
        if (stored.disabled || stored.generation != op.generation ||
            stored.certificate_fingerprint != op.certificate_fingerprint) {
          return unauthenticated("the operator '" + op.name + "' changed while logging in");
        }
        stored.failed_logins = 0;
        stored.locked_until.reset();
        stored.last_login = now;
        return std::optional(ca::make_audit_event(now, "operator:" + op.name, "operator.login",
                                                  "operator:" + op.name, detail.dump()));
      });
  if (!logged_in) return std::move(logged_in).error();
  session.principal.role = logged_in->role;
  std::lock_guard lock(mutex_);
  prune_sessions_locked(now);
  if (sessions_.size() >= policy_.max_sessions) {
    return Error(ErrorCode::kUnavailable, "too many open sessions; try again later");
  }
  sessions_[hash_hex(session.session_id)] = Session{session.principal, now, now};
  return session;
}

void Authenticator::record_failure(const ca::OperatorRecord* op, std::string_view name,
                                   std::string_view remote, std::string_view why) {
  const auto now = clock_.now();
  std::uint32_t failures = 0;
  if (op != nullptr) {
    // Counted on the stored record: concurrent failures and an administrator's unlock or role
    // change each see the others.
    (void)operators_.modify_operator(
        op->name, [&](ca::OperatorRecord& stored) -> Result<std::optional<ca::AuditEvent>> {
          stored.failed_logins += 1;
          failures = stored.failed_logins;
          // Back-off, then lockout: the first two failures cost nothing, the next ones make the
          // operator wait 1 s, 2 s... and reaching the limit locks for policy_.lockout.
          if (failures >= policy_.failures_before_lockout) {
            stored.locked_until = now + policy_.lockout;
          } else if (failures >= 3) {
            stored.locked_until = now + std::chrono::seconds(1LL << std::min(failures - 3, 5u));
          }
          return std::optional<ca::AuditEvent>();
        });
  }
  // Rate-limited audit: one event per name and interval, with what was suppressed since.
  std::uint64_t suppressed = 0;
  {
    std::lock_guard lock(mutex_);
    auto& entry = failed_audit_[std::string(name.substr(0, 128))];
    if (entry.last_written != base::TimePoint{} &&
        now - entry.last_written < policy_.failed_login_audit_interval) {
      entry.suppressed += 1;
      return;
    }
    suppressed = entry.suppressed;
    entry = FailedAudit{now, 0};
    if (failed_audit_.size() > 10'000) failed_audit_.clear();  // bounded memory
  }
  nlohmann::json detail = {{"remote", remote},
                           {"reason", why},
                           {"failed_logins", failures},
                           {"suppressed_since_last_event", suppressed}};
  (void)audit_.append_audit(ca::make_audit_event(now, "anonymous", "operator.login_failed",
                                                 "operator:" + std::string(name.substr(0, 128)),
                                                 detail.dump()));
}

void Authenticator::logout(const http::Request& request) {
  const auto cookie = cookie_value(request, kCookieName);
  if (!cookie) return;
  std::lock_guard lock(mutex_);
  sessions_.erase(hash_hex(*cookie));
}

std::string Authenticator::session_cookie(const NewSession& session) const {
  std::chrono::seconds lifetime;
  {
    std::lock_guard lock(mutex_);
    lifetime = policy_.session_lifetime;
  }
  return std::string(kCookieName) + "=" + session.session_id +
         "; Path=/; HttpOnly; Secure; SameSite=Strict; Max-Age=" + std::to_string(lifetime.count());
}

void Authenticator::set_session_times(std::chrono::seconds idle, std::chrono::seconds lifetime) {
  std::lock_guard lock(mutex_);
  policy_.session_idle = idle;
  policy_.session_lifetime = lifetime;
}

bool Authenticator::authenticates_by_session_cookie(const http::Request& request) {
  return !request.header("authorization") && cookie_value(request, kCookieName).has_value();
}

std::string Authenticator::expired_session_cookie() {
  return std::string(kCookieName) + "=; Path=/; HttpOnly; Secure; SameSite=Strict; Max-Age=0";
}

void Authenticator::end_sessions_of(std::string_view name) {
  std::lock_guard lock(mutex_);
  std::erase_if(sessions_,
                [&](const auto& entry) { return entry.second.principal.operator_name == name; });
}

void Authenticator::prune_sessions_locked(base::TimePoint now) {
  std::erase_if(sessions_, [&](const auto& entry) {
    return now - entry.second.last_seen >= policy_.session_idle ||
           now - entry.second.created >= policy_.session_lifetime;
  });
}

std::size_t Authenticator::session_count() const {
  std::lock_guard lock(mutex_);
  return sessions_.size();
}

// ---- passwords ----

Result<std::string> Authenticator::hash_password(const base::SecureBuffer& password) const {
  if (password.size() < policy_.min_password_length) {
    return Error(ErrorCode::kInvalidArgument, "the password must have at least " +
                                                  std::to_string(policy_.min_password_length) +
                                                  " characters");
  }
  if (password.size() > 1024) {
    return Error(ErrorCode::kInvalidArgument, "the password must have at most 1024 characters");
  }
  base::Bytes salt(kSaltBytes);
  if (!rng_.fill(salt)) return Error(ErrorCode::kInternal, "no random bytes for a salt");
  const std::size_t length = argon2_encodedlen(policy_.argon2_passes, policy_.argon2_memory_kib, 1,
                                               kSaltBytes, kHashBytes, Argon2_id);
  std::string encoded(length, '\0');
  const int rc = argon2id_hash_encoded(policy_.argon2_passes, policy_.argon2_memory_kib, 1,
                                       password.view().data(), password.size(), salt.data(),
                                       salt.size(), kHashBytes, encoded.data(), encoded.size());
  if (rc != ARGON2_OK) {
    return Error(ErrorCode::kInternal,
                 std::string("Argon2id hashing failed: ") + argon2_error_message(rc));
  }
  encoded.resize(std::char_traits<char>::length(encoded.c_str()));
  return encoded;
}

bool Authenticator::verify_password(const std::string& phc,
                                    const base::SecureBuffer& password) const {
  if (phc.rfind("$argon2id$", 0) != 0) return false;
  return argon2id_verify(phc.c_str(), password.view().data(), password.size()) == ARGON2_OK;
}

// ---- API tokens ----

NewApiToken Authenticator::make_api_token(std::string name, std::string owner, ca::Role role,
                                          std::vector<std::string> profiles,
                                          std::optional<base::TimePoint> expires) {
  NewApiToken made;
  made.record.id = random_hex(rng_, kTokenIdHexLength / 2);
  made.token = std::string(kTokenPrefix) + made.record.id + "_" +
               random_hex(rng_, kTokenSecretHexLength / 2);
  made.record.secret_hash = pki::sha256(
      base::ByteView(reinterpret_cast<const std::uint8_t*>(made.token.data()), made.token.size()));
  made.record.name = std::move(name);
  made.record.owner = std::move(owner);
  made.record.role = role;
  made.record.profiles = std::move(profiles);
  made.record.created = clock_.now();
  made.record.expires = expires;
  return made;
}

}  // namespace signet::appliance
