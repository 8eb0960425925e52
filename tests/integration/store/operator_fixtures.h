// Operators and API tokens with every field set, and field-by-field comparison, for the tests
// of ca::OperatorDirectory (the LMDB store and the memory store).
#pragma once

#include <catch2/catch.hpp>

#include <cstdint>
#include <cstdio>
#include <string>

#include "ca/operators.h"
#include "pki/digest.h"
#include "tests/integration/store/store_fixtures.h"

namespace signet::store::testing {

inline base::Bytes certificate_fingerprint(const std::string& seed) {
  return pki::sha256(base::as_bytes("client certificate " + seed));
}

// An operator with every field set (a certificate fingerprint too); `n` varies the values.
inline ca::OperatorRecord make_operator(const std::string& name, int n = 1) {
  ca::OperatorRecord r;
  r.name = name;
  r.role = ca::Role::kRaOfficer;
  r.password_hash = "$argon2id$v=19$m=65536,t=3,p=4$c2FsdHNhbHQ$" + std::to_string(n);
  r.disabled = n % 2 == 0;
  r.certificate_fingerprint = certificate_fingerprint(name);
  r.failed_logins = static_cast<std::uint32_t>(n + 2);
  r.locked_until = day(n) + std::chrono::microseconds(7);
  r.created = day(-n) + std::chrono::milliseconds(250);
  r.created_by = "admin";
  r.last_login = day(n + 1);
  r.generation = static_cast<std::uint32_t>(4000000000u + static_cast<std::uint32_t>(n));
  return r;
}

// An API token with every field set; `n` makes its id unique.
inline ca::ApiTokenRecord make_token(std::uint64_t n, const std::string& owner = "alice") {
  ca::ApiTokenRecord t;
  char id[17];
  std::snprintf(id, sizeof id, "%016llx", static_cast<unsigned long long>(n));
  t.id = id;
  t.secret_hash = pki::sha256(base::as_bytes("token " + t.id));
  t.name = "certbot on web01";
  t.owner = owner;
  t.role = ca::Role::kAuditor;
  t.profiles = {"root/tls-server", "", "issuing/client"};  // an empty entry survives too
  t.created = day(1) + std::chrono::nanoseconds(3000);
  t.expires = day(90);
  return t;
}

inline void require_same(const ca::OperatorRecord& a, const ca::OperatorRecord& b) {
  CHECK(a.name == b.name);
  CHECK(a.role == b.role);
  CHECK(a.password_hash == b.password_hash);
  CHECK(a.disabled == b.disabled);
  CHECK(a.certificate_fingerprint == b.certificate_fingerprint);
  CHECK(a.failed_logins == b.failed_logins);
  CHECK(a.locked_until == b.locked_until);
  CHECK(a.created == b.created);
  CHECK(a.created_by == b.created_by);
  CHECK(a.last_login == b.last_login);
  CHECK(a.generation == b.generation);
}

inline void require_same(const ca::ApiTokenRecord& a, const ca::ApiTokenRecord& b) {
  CHECK(a.id == b.id);
  CHECK(a.secret_hash == b.secret_hash);
  CHECK(a.name == b.name);
  CHECK(a.owner == b.owner);
  CHECK(a.role == b.role);
  CHECK(a.profiles == b.profiles);
  CHECK(a.created == b.created);
  CHECK(a.expires == b.expires);
  CHECK(a.revoked == b.revoked);
}

}  // namespace signet::store::testing
