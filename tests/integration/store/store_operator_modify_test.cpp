// ca::OperatorDirectory::modify_operator, against LmdbStore and the MemoryStore: each change
// runs on the stored record inside one write, so concurrent changes of different fields (a
// failed-login counter, a role change, a password reset, a certificate binding) all survive;
// a refused change writes nothing, its event neither.
#include <catch2/catch.hpp>

#include <atomic>
#include <memory>
#include <thread>
#include <vector>

#include "ca/audit.h"
#include "tests/integration/store/operator_fixtures.h"
#include "tests/support/memory_store.h"

using namespace signet;
using namespace signet::store;
using namespace signet::store::testing;
using base::ErrorCode;
using base::Result;

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

ca::OperatorRecord fresh_operator(const std::string& name) {
  auto op = make_operator(name, 1);
  op.disabled = false;
  op.failed_logins = 0;
  op.role = ca::Role::kAuditor;
  op.certificate_fingerprint.clear();
  op.generation = 1;
  return op;
}

std::optional<ca::AuditEvent> note(const std::string& action, const std::string& name) {
  return audit_event(day(5), "operator:admin", action, "operator:" + name, "{}");
}

std::size_t audit_count(ca::AuditSink& audit) {
  auto report = ca::verify_audit_chain(audit);
  REQUIRE(report);
  INFO(report->problem);
  REQUIRE(report->ok());
  return report->entries;
}

}  // namespace

TEMPLATE_TEST_CASE("concurrent operator changes are each applied to the stored record", "",
                   LmdbBackend, MemoryBackend) {
  TestType backend;
  auto& directory = backend.directory();
  REQUIRE(directory.create_operator(fresh_operator("carol"), note("operator.created", "carol")));

  constexpr int kCounters = 4;
  constexpr int kFailuresEach = 40;
  constexpr int kPasswordResets = 30;
  std::vector<std::thread> threads;
  std::atomic<int> errors{0};
  // Failed-login counters, as record_failure keeps them: bookkeeping without an event.
  for (int t = 0; t < kCounters; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < kFailuresEach; ++i) {
        auto changed = directory.modify_operator(
            "carol", [](ca::OperatorRecord& op) -> Result<std::optional<ca::AuditEvent>> {
              op.failed_logins += 1;
              return std::optional<ca::AuditEvent>();
            });
        if (!changed) errors += 1;
      }
    });
  }
  // An administrator resetting the password again and again (each reset bumps the generation).
  threads.emplace_back([&] {
    for (int i = 0; i < kPasswordResets; ++i) {
      auto changed = directory.modify_operator(
          "carol", [i](ca::OperatorRecord& op) -> Result<std::optional<ca::AuditEvent>> {
            op.password_hash = "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$reset" + std::to_string(i);
            op.generation += 1;
            return note("operator.updated", "carol");
          });
      if (!changed) errors += 1;
    }
  });
  // A role change and a certificate binding, once each, in the middle of it all.
  threads.emplace_back([&] {
    auto changed = directory.modify_operator(
        "carol", [](ca::OperatorRecord& op) -> Result<std::optional<ca::AuditEvent>> {
          op.role = ca::Role::kAdministrator;
          return note("operator.updated", "carol");
        });
    if (!changed) errors += 1;
    changed = directory.modify_operator(
        "carol", [](ca::OperatorRecord& op) -> Result<std::optional<ca::AuditEvent>> {
          op.certificate_fingerprint = certificate_fingerprint("carol's card");
          return note("operator.certificate_bound", "carol");
        });
    if (!changed) errors += 1;
  });
  for (auto& thread : threads) thread.join();
  CHECK(errors == 0);

  auto stored = directory.find_operator("carol");
  REQUIRE(stored);
  REQUIRE(*stored);
  const auto& carol = **stored;
  CHECK(carol.failed_logins == kCounters * kFailuresEach);
  CHECK(carol.generation == 1 + kPasswordResets);
  CHECK(carol.password_hash ==
        "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$reset" + std::to_string(kPasswordResets - 1));
  CHECK(carol.role == ca::Role::kAdministrator);
  CHECK(carol.certificate_fingerprint == certificate_fingerprint("carol's card"));
  auto by_certificate =
      directory.find_operator_by_certificate(certificate_fingerprint("carol's card"));
  REQUIRE(by_certificate);
  CHECK(by_certificate->has_value());
  // created + the resets + the role change + the binding; the counters wrote no events.
  CHECK(audit_count(backend.audit()) == 1 + kPasswordResets + 2);
  backend.check_consistent();
}

TEMPLATE_TEST_CASE("a refused operator change writes nothing", "", LmdbBackend, MemoryBackend) {
  TestType backend;
  auto& directory = backend.directory();
  REQUIRE(directory.create_operator(fresh_operator("dave"), note("operator.created", "dave")));
  auto owner = fresh_operator("erin");
  owner.certificate_fingerprint = certificate_fingerprint("erin");
  REQUIRE(directory.create_operator(owner, note("operator.created", "erin")));

  SECTION("the change's own error") {
    auto refused = directory.modify_operator(
        "dave", [](ca::OperatorRecord& op) -> Result<std::optional<ca::AuditEvent>> {
          op.role = ca::Role::kAdministrator;
          return base::Error(ErrorCode::kPolicyViolation, "not today");
        });
    REQUIRE_FALSE(refused);
    CHECK(refused.error().code() == ErrorCode::kPolicyViolation);
  }
  SECTION("a rename") {
    auto refused = directory.modify_operator(
        "dave", [](ca::OperatorRecord& op) -> Result<std::optional<ca::AuditEvent>> {
          op.name = "mallory";
          op.role = ca::Role::kAdministrator;
          return note("operator.updated", "dave");
        });
    REQUIRE_FALSE(refused);
    CHECK(refused.error().code() == ErrorCode::kInvalidArgument);
  }
  SECTION("another operator's certificate") {
    auto refused = directory.modify_operator(
        "dave", [](ca::OperatorRecord& op) -> Result<std::optional<ca::AuditEvent>> {
          op.certificate_fingerprint = certificate_fingerprint("erin");
          op.role = ca::Role::kAdministrator;
          return note("operator.certificate_bound", "dave");
        });
    REQUIRE_FALSE(refused);
    CHECK(refused.error().code() == ErrorCode::kAlreadyExists);
  }
  SECTION("an invalid record") {
    auto refused = directory.modify_operator(
        "dave", [](ca::OperatorRecord& op) -> Result<std::optional<ca::AuditEvent>> {
          op.certificate_fingerprint = {1, 2, 3};
          op.role = ca::Role::kAdministrator;
          return note("operator.updated", "dave");
        });
    REQUIRE_FALSE(refused);
    CHECK(refused.error().code() == ErrorCode::kInvalidArgument);
  }
  SECTION("an unknown operator") {
    bool ran = false;
    auto refused = directory.modify_operator(
        "nobody", [&](ca::OperatorRecord&) -> Result<std::optional<ca::AuditEvent>> {
          ran = true;
          return note("operator.updated", "nobody");
        });
    REQUIRE_FALSE(refused);
    CHECK(refused.error().code() == ErrorCode::kNotFound);
    CHECK_FALSE(ran);
  }
  auto dave = directory.find_operator("dave");
  REQUIRE(dave);
  REQUIRE(*dave);
  CHECK((*dave)->role == ca::Role::kAuditor);
  CHECK((*dave)->certificate_fingerprint.empty());
  CHECK(audit_count(backend.audit()) == 2);
  backend.check_consistent();
}

TEMPLATE_TEST_CASE("a change returns the record as written", "", LmdbBackend, MemoryBackend) {
  TestType backend;
  auto& directory = backend.directory();
  REQUIRE(directory.create_operator(fresh_operator("fay"), std::nullopt));
  auto written = directory.modify_operator(
      "fay", [](ca::OperatorRecord& op) -> Result<std::optional<ca::AuditEvent>> {
        op.disabled = true;
        op.generation += 1;
        return note("operator.updated", "fay");
      });
  REQUIRE(written);
  auto stored = directory.find_operator("fay");
  REQUIRE(stored);
  REQUIRE(*stored);
  require_same(*written, **stored);
  CHECK(written->disabled);
  CHECK(written->generation == 2);
}
