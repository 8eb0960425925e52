// The ca::OperatorDirectory contract, run against both implementations: LmdbStore (a real
// environment in a temporary directory) and the unit tests' MemoryStore. Names are unique,
// a client certificate logs in one operator at most, unknown names and ids are kNotFound,
// invalid input is kInvalidArgument, a refused write leaves nothing behind (its audit event
// neither), and every accepted write appends its event to the hash-chained audit log.
#include <catch2/catch.hpp>

#include <memory>

#include "ca/audit.h"
#include "tests/integration/store/operator_fixtures.h"
#include "tests/support/memory_store.h"

using namespace signet;
using namespace signet::store;
using namespace signet::store::testing;
using base::ErrorCode;

namespace {

struct LmdbBackend {
  test::TempDir dir;
  std::unique_ptr<LmdbStore> store = open_store(dir.path());
  ca::OperatorDirectory& directory() { return *store; }
  ca::AuditSink& audit() { return *store; }
  void check_consistent() { require_consistent(*store); }
};

struct MemoryBackend {
  test::MemoryStore store;
  ca::OperatorDirectory& directory() { return store; }
  ca::AuditSink& audit() { return store; }
  void check_consistent() {}
};

ca::AuditEvent event(const std::string& action, const std::string& object) {
  return audit_event(day(5), "operator:admin", action, object, R"({"why":"test"})");
}

std::uint64_t audit_entries(ca::AuditSink& audit) {
  auto report = ca::verify_audit_chain(audit);
  REQUIRE(report);
  INFO(report->problem);
  REQUIRE(report->ok());
  return report->entries;
}

template <typename T>
ErrorCode code_of(const base::Result<T>& result) {
  REQUIRE_FALSE(result);
  return result.error().code();
}

}  // namespace

TEMPLATE_TEST_CASE("operators are created, found, listed by name, updated and deleted", "",
                   LmdbBackend, MemoryBackend) {
  TestType backend;
  auto& directory = backend.directory();
  const auto bob = make_operator("bob", 2);
  auto alice = make_operator("alice", 1);
  alice.role = ca::Role::kAdministrator;
  REQUIRE(directory.create_operator(bob, event("operator.created", "operator:bob")));
  REQUIRE(directory.create_operator(alice, event("operator.created", "operator:alice")));

  auto found = directory.find_operator("alice");
  REQUIRE(found);
  REQUIRE(found->has_value());
  require_same(**found, alice);
  auto missing = directory.find_operator("carol");
  REQUIRE(missing);
  CHECK_FALSE(missing->has_value());

  auto listed = directory.list_operators();
  REQUIRE(listed);
  REQUIRE(listed->size() == 2);
  CHECK((*listed)[0].name == "alice");
  CHECK((*listed)[1].name == "bob");
  require_same((*listed)[1], bob);

  // An update replaces every field; the optional ones may become empty.
  ca::OperatorRecord changed = alice;
  changed.role = ca::Role::kAuditor;
  changed.password_hash.clear();
  changed.disabled = true;
  changed.failed_logins = 0;
  changed.locked_until.reset();
  changed.last_login.reset();
  changed.generation = 2;
  REQUIRE(directory.update_operator(changed, event("operator.updated", "operator:alice")));
  found = directory.find_operator("alice");
  REQUIRE(found);
  REQUIRE(found->has_value());
  require_same(**found, changed);

  REQUIRE(directory.delete_operator("bob", event("operator.deleted", "operator:bob")));
  found = directory.find_operator("bob");
  REQUIRE(found);
  CHECK_FALSE(found->has_value());
  listed = directory.list_operators();
  REQUIRE(listed);
  REQUIRE(listed->size() == 1);
  CHECK(listed->front().name == "alice");

  auto events = backend.audit().list_audit(0, 100);
  REQUIRE(events);
  REQUIRE(events->size() == 4);
  CHECK((*events)[0].action == "operator.created");
  CHECK((*events)[0].object == "operator:bob");
  CHECK((*events)[2].action == "operator.updated");
  CHECK((*events)[3].action == "operator.deleted");
  CHECK((*events)[3].detail == R"({"why":"test"})");
  CHECK(audit_entries(backend.audit()) == 4);
  backend.check_consistent();
}

TEMPLATE_TEST_CASE("a taken operator name or an unknown one is refused, writing nothing", "",
                   LmdbBackend, MemoryBackend) {
  TestType backend;
  auto& directory = backend.directory();
  const auto alice = make_operator("alice", 1);
  REQUIRE(directory.create_operator(alice, event("operator.created", "operator:alice")));

  auto twin = make_operator("alice", 3);
  twin.certificate_fingerprint = certificate_fingerprint("another");
  CHECK(code_of(directory.create_operator(twin, event("operator.created", "x"))) ==
        ErrorCode::kAlreadyExists);
  CHECK(code_of(directory.update_operator(make_operator("carol"),
                                          event("operator.updated", "x"))) == ErrorCode::kNotFound);
  CHECK(code_of(directory.delete_operator("carol", event("operator.deleted", "x"))) ==
        ErrorCode::kNotFound);

  auto found = directory.find_operator("alice");
  REQUIRE(found);
  REQUIRE(found->has_value());
  require_same(**found, alice);  // the twin wrote nothing
  auto by_twin = directory.find_operator_by_certificate(twin.certificate_fingerprint);
  REQUIRE(by_twin);
  CHECK_FALSE(by_twin->has_value());
  CHECK(audit_entries(backend.audit()) == 1);  // the refused writes' events are not written
  backend.check_consistent();
}

TEMPLATE_TEST_CASE("a client certificate finds its operator and logs in one operator at most", "",
                   LmdbBackend, MemoryBackend) {
  TestType backend;
  auto& directory = backend.directory();
  auto alice = make_operator("alice");
  auto bob = make_operator("bob");
  bob.certificate_fingerprint.clear();  // password only
  REQUIRE(directory.create_operator(alice, std::nullopt));
  REQUIRE(directory.create_operator(bob, std::nullopt));

  auto found = directory.find_operator_by_certificate(alice.certificate_fingerprint);
  REQUIRE(found);
  REQUIRE(found->has_value());
  CHECK((*found)->name == "alice");
  auto nobody = directory.find_operator_by_certificate(certificate_fingerprint("nobody"));
  REQUIRE(nobody);
  CHECK_FALSE(nobody->has_value());

  SECTION("another operator cannot take it, by create or by update") {
    auto carol = make_operator("carol");
    carol.certificate_fingerprint = alice.certificate_fingerprint;
    auto created = directory.create_operator(carol, event("operator.created", "operator:carol"));
    CHECK(code_of(created) == ErrorCode::kAlreadyExists);
    CHECK_THAT(created.error().message(), Catch::Contains("alice"));
    auto no_carol = directory.find_operator("carol");
    REQUIRE(no_carol);
    CHECK_FALSE(no_carol->has_value());

    ca::OperatorRecord taking = bob;
    taking.certificate_fingerprint = alice.certificate_fingerprint;
    taking.disabled = true;
    CHECK(code_of(directory.update_operator(taking, event("operator.updated", "operator:bob"))) ==
          ErrorCode::kAlreadyExists);
    auto still_bob = directory.find_operator("bob");
    REQUIRE(still_bob);
    REQUIRE(still_bob->has_value());
    require_same(**still_bob, bob);  // unchanged
    found = directory.find_operator_by_certificate(alice.certificate_fingerprint);
    REQUIRE(found);
    REQUIRE(found->has_value());
    CHECK((*found)->name == "alice");
    CHECK(audit_entries(backend.audit()) == 0);
  }

  SECTION("an update keeping it is fine; one changing it moves the lookup") {
    alice.failed_logins = 9;
    REQUIRE(directory.update_operator(alice, std::nullopt));
    found = directory.find_operator_by_certificate(alice.certificate_fingerprint);
    REQUIRE(found);
    REQUIRE(found->has_value());
    CHECK((*found)->failed_logins == 9);

    const auto old_fingerprint = alice.certificate_fingerprint;
    alice.certificate_fingerprint = certificate_fingerprint("alice's new card");
    REQUIRE(directory.update_operator(alice, event("operator.updated", "operator:alice")));
    auto old_lookup = directory.find_operator_by_certificate(old_fingerprint);
    REQUIRE(old_lookup);
    CHECK_FALSE(old_lookup->has_value());
    found = directory.find_operator_by_certificate(alice.certificate_fingerprint);
    REQUIRE(found);
    REQUIRE(found->has_value());
    CHECK((*found)->name == "alice");

    // The old certificate is free again.
    bob.certificate_fingerprint = old_fingerprint;
    REQUIRE(directory.update_operator(bob, std::nullopt));
    found = directory.find_operator_by_certificate(old_fingerprint);
    REQUIRE(found);
    REQUIRE(found->has_value());
    CHECK((*found)->name == "bob");

    // Removing the certificate removes the lookup.
    alice.certificate_fingerprint.clear();
    REQUIRE(directory.update_operator(alice, std::nullopt));
    found = directory.find_operator_by_certificate(certificate_fingerprint("alice's new card"));
    REQUIRE(found);
    CHECK_FALSE(found->has_value());
    CHECK(audit_entries(backend.audit()) == 1);
  }

  SECTION("deleting the operator frees the certificate") {
    REQUIRE(directory.delete_operator("alice", std::nullopt));
    found = directory.find_operator_by_certificate(alice.certificate_fingerprint);
    REQUIRE(found);
    CHECK_FALSE(found->has_value());
    auto carol = make_operator("carol");
    carol.certificate_fingerprint = alice.certificate_fingerprint;
    REQUIRE(directory.create_operator(carol, std::nullopt));
    found = directory.find_operator_by_certificate(alice.certificate_fingerprint);
    REQUIRE(found);
    REQUIRE(found->has_value());
    CHECK((*found)->name == "carol");
  }
  backend.check_consistent();
}

TEMPLATE_TEST_CASE("invalid operator and API token input is refused as kInvalidArgument", "",
                   LmdbBackend, MemoryBackend) {
  TestType backend;
  auto& directory = backend.directory();
  for (const char* name : {"", ".hidden", "with space", "a/b"}) {
    INFO(name);
    CHECK(code_of(directory.create_operator(make_operator(name), std::nullopt)) ==
          ErrorCode::kInvalidArgument);
    CHECK(code_of(directory.delete_operator(name, std::nullopt)) == ErrorCode::kInvalidArgument);
    auto found = directory.find_operator(name);
    REQUIRE(found);
    CHECK_FALSE(found->has_value());
  }
  auto long_name = directory.find_operator(std::string(600, 'a'));  // past LMDB's key limit
  REQUIRE(long_name);
  CHECK_FALSE(long_name->has_value());
  auto short_fingerprint = make_operator("alice");
  short_fingerprint.certificate_fingerprint.resize(20);
  CHECK(code_of(directory.create_operator(short_fingerprint, std::nullopt)) ==
        ErrorCode::kInvalidArgument);
  CHECK(code_of(directory.find_operator_by_certificate(base::Bytes(20, 1))) ==
        ErrorCode::kInvalidArgument);

  for (const char* id :
       {"", "0123456789ABCDEF", "0123456789abcde", "0123456789abcdef0", "0123456789abcdeg"}) {
    INFO(id);
    auto token = make_token(1);
    token.id = id;
    CHECK(code_of(directory.create_api_token(token, std::nullopt)) == ErrorCode::kInvalidArgument);
    auto found = directory.find_api_token(id);
    REQUIRE(found);
    CHECK_FALSE(found->has_value());
  }
  auto short_hash = make_token(1);
  short_hash.secret_hash.resize(31);
  CHECK(code_of(directory.create_api_token(short_hash, std::nullopt)) ==
        ErrorCode::kInvalidArgument);
  auto listed = directory.list_operators();
  REQUIRE(listed);
  CHECK(listed->empty());
  auto tokens = directory.list_api_tokens();
  REQUIRE(tokens);
  CHECK(tokens->empty());
}

TEMPLATE_TEST_CASE("API tokens are created, found, revoked by update and listed by id", "",
                   LmdbBackend, MemoryBackend) {
  TestType backend;
  auto& directory = backend.directory();
  const auto second = make_token(0xbeef);
  auto first = make_token(0x1234, "bob");
  first.profiles.clear();  // any profile
  first.expires.reset();
  REQUIRE(directory.create_api_token(second, event("api-token.created", "api-token:beef")));
  REQUIRE(directory.create_api_token(first, event("api-token.created", "api-token:1234")));

  auto found = directory.find_api_token(second.id);
  REQUIRE(found);
  REQUIRE(found->has_value());
  require_same(**found, second);
  auto missing = directory.find_api_token("ffffffffffffffff");
  REQUIRE(missing);
  CHECK_FALSE(missing->has_value());

  auto twin = make_token(0x1234);
  twin.name = "a twin";
  CHECK(code_of(directory.create_api_token(twin, event("api-token.created", "x"))) ==
        ErrorCode::kAlreadyExists);
  CHECK(code_of(directory.update_api_token(make_token(0x5678), event("api-token.revoked", "x"))) ==
        ErrorCode::kNotFound);

  ca::ApiTokenRecord revoked = second;
  revoked.revoked = day(30);
  REQUIRE(directory.update_api_token(revoked, event("api-token.revoked", "api-token:beef")));
  found = directory.find_api_token(second.id);
  REQUIRE(found);
  REQUIRE(found->has_value());
  require_same(**found, revoked);

  auto listed = directory.list_api_tokens();
  REQUIRE(listed);
  REQUIRE(listed->size() == 2);
  require_same((*listed)[0], first);  // "0000000000001234" < "000000000000beef"
  require_same((*listed)[1], revoked);

  auto events = backend.audit().list_audit(0, 100);
  REQUIRE(events);
  REQUIRE(events->size() == 3);
  CHECK((*events)[2].action == "api-token.revoked");
  CHECK(audit_entries(backend.audit()) == 3);
  backend.check_consistent();
}

TEMPLATE_TEST_CASE("operator writes chain their events onto the other records' events", "",
                   LmdbBackend, MemoryBackend) {
  TestType backend;
  auto& audit = backend.audit();
  REQUIRE(audit.append_audit(event("note", "before")));
  REQUIRE(backend.directory().create_operator(make_operator("alice"),
                                              event("operator.created", "operator:alice")));
  // Bookkeeping without an event (a failed-login counter) adds nothing to the log.
  auto alice = make_operator("alice");
  alice.failed_logins = 1;
  REQUIRE(backend.directory().update_operator(alice, std::nullopt));
  REQUIRE(backend.directory().create_api_token(make_token(7),
                                               event("api-token.created", "api-token:7")));
  REQUIRE(audit.append_audit(event("note", "after")));
  auto events = audit.list_audit(0, 100);
  REQUIRE(events);
  REQUIRE(events->size() == 4);
  for (std::size_t i = 0; i < events->size(); ++i) {
    CHECK((*events)[i].sequence == i + 1);
    if (i > 0) CHECK((*events)[i].previous_hash == (*events)[i - 1].hash);
  }
  CHECK(audit_entries(audit) == 4);
}
