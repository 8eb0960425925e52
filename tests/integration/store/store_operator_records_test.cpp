// What only the LMDB store can show about operators and API tokens: the records survive a
// reopen and a backup/restore, concurrent writers sharing a batch still get uniqueness, the
// integrity check reads the new tables, and corruption planted in LMDB is reported as
// kStorageError naming the table.
#include <catch2/catch.hpp>

#include <atomic>
#include <thread>
#include <vector>

#include "ca/audit.h"
#include "store/internal/codec.h"
#include "tests/integration/store/operator_fixtures.h"

using namespace signet;
using namespace signet::store;
using namespace signet::store::testing;
using base::ErrorCode;

namespace {

void fill(LmdbStore& store) {
  for (int n = 1; n <= 5; ++n) {
    const std::string name = "operator" + std::to_string(n);
    auto record = make_operator(name, n);
    if (n == 5) record.certificate_fingerprint.clear();
    REQUIRE(store.create_operator(record, audit_event(day(n), "cli", "operator.created", name)));
    REQUIRE(store.create_api_token(make_token(static_cast<std::uint64_t>(n), name),
                                   audit_event(day(n), name, "api-token.created", "t")));
  }
}

void check_filled(LmdbStore& store) {
  auto operators = store.list_operators();
  REQUIRE(operators);
  REQUIRE(operators->size() == 5);
  for (int n = 1; n <= 5; ++n) {
    auto expected = make_operator("operator" + std::to_string(n), n);
    if (n == 5) expected.certificate_fingerprint.clear();
    require_same((*operators)[static_cast<std::size_t>(n - 1)], expected);
  }
  auto by_certificate = store.find_operator_by_certificate(certificate_fingerprint("operator3"));
  REQUIRE(by_certificate);
  REQUIRE(by_certificate->has_value());
  CHECK((*by_certificate)->name == "operator3");
  auto tokens = store.list_api_tokens();
  REQUIRE(tokens);
  REQUIRE(tokens->size() == 5);
  require_same(tokens->back(), make_token(5, "operator5"));
  auto chain = ca::verify_audit_chain(store);
  REQUIRE(chain);
  CHECK(chain->ok());
  CHECK(chain->entries == 10);
}

}  // namespace

TEST_CASE("operators and API tokens survive a reopen, with the integrity check reading them") {
  test::TempDir dir;
  {
    auto store = open_store(dir.path());
    fill(*store);
  }
  auto store = open_store(dir.path());
  check_filled(*store);
  auto report = store->check_integrity();
  REQUIRE(report);
  for (const auto& problem : report->problems) UNSCOPED_INFO(problem);
  CHECK(report->ok());
  CHECK(report->operators == 5);
  CHECK(report->api_tokens == 5);
  CHECK(report->audit_events == 10);
  CHECK(report->index_entries == 4);  // the operator_certs entries (no certificates here)
}

TEST_CASE("a backup carries the operators and API tokens into the restored store") {
  test::TempDir dir;
  {
    auto store = open_store(dir / "live");
    fill(*store);
    REQUIRE(store->backup_to(dir / "backup"));
  }
  REQUIRE(LmdbStore::restore(dir / "backup", dir / "restored"));
  auto restored = open_store(dir / "restored");
  check_filled(*restored);
  require_consistent(*restored);
}

TEST_CASE("concurrent writers get one operator per name and one per certificate") {
  test::TempDir dir;
  auto store = open_store(dir.path());
  constexpr int kThreads = 8;
  std::atomic<int> same_name_created{0}, same_certificate_created{0}, refused_as_taken{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < kThreads; ++i) {
    threads.emplace_back([&, i] {
      auto twin = make_operator("twin", i);  // same name, same certificate
      auto created =
          store->create_operator(twin, audit_event(day(1), "t", "operator.created", "twin"));
      if (created) ++same_name_created;
      if (!created && created.error().code() == ErrorCode::kAlreadyExists) ++refused_as_taken;
      auto sharer = make_operator("sharer" + std::to_string(i), i);
      sharer.certificate_fingerprint = certificate_fingerprint("shared card");
      created = store->create_operator(sharer, audit_event(day(1), "t", "operator.created", "s"));
      if (created) ++same_certificate_created;
      if (!created && created.error().code() == ErrorCode::kAlreadyExists) ++refused_as_taken;
    });
  }
  for (auto& thread : threads) thread.join();
  CHECK(same_name_created == 1);
  CHECK(same_certificate_created == 1);
  CHECK(refused_as_taken == 2 * (kThreads - 1));
  auto listed = store->list_operators();
  REQUIRE(listed);
  CHECK(listed->size() == 2);
  auto chain = ca::verify_audit_chain(*store);
  REQUIRE(chain);
  CHECK(chain->ok());
  CHECK(chain->entries == 2);  // only the accepted writes' events
  require_consistent(*store);
}

TEST_CASE("a corrupt operator or API token record is kStorageError naming its table") {
  test::TempDir dir;
  {
    auto store = open_store(dir.path());
    fill(*store);
  }
  const std::uint8_t garbage[] = {1, 1, 200, 0xff};  // field 1 claims more than remains

  SECTION("an operator record that does not decode") {
    with_raw_store(dir.path(), [&](lmdb::Transaction& txn, schema::Tables& t) {
      REQUIRE(txn.put(t.operators, base::as_bytes(std::string_view("operator2")), garbage));
    });
    auto store = open_store(dir.path());
    auto found = store->find_operator("operator2");
    REQUIRE_FALSE(found);
    CHECK(found.error().code() == ErrorCode::kStorageError);
    CHECK_THAT(found.error().message(), Catch::Contains("'operators'"));
    auto listed = store->list_operators();
    REQUIRE_FALSE(listed);
    CHECK(listed.error().code() == ErrorCode::kStorageError);
    auto report = store->check_integrity();
    REQUIRE(report);
    REQUIRE_FALSE(report->ok());
    // The record itself, and the certificate index entry no record backs any more.
    for (const auto& problem : report->problems) UNSCOPED_INFO(problem);
    REQUIRE(report->problems.size() == 2);
    CHECK_THAT(report->problems[0], Catch::Contains("'operators'"));
    CHECK_THAT(report->problems[1], Catch::Contains("operator_certs"));
  }

  SECTION("an operator record with a fingerprint of the wrong length, or no role") {
    with_raw_store(dir.path(), [&](lmdb::Transaction& txn, schema::Tables& t) {
      auto record = make_operator("operator2", 2);
      record.certificate_fingerprint.resize(31);
      base::Bytes encoded;
      codec::encode(record, encoded);
      REQUIRE(txn.put(t.operators, base::as_bytes(std::string_view("operator2")), encoded));
      const std::uint8_t no_role[] = {1, 1, 2, 'x', 'y'};  // version 1, field 1 (name) "xy"
      REQUIRE(txn.put(t.operators, base::as_bytes(std::string_view("xy")), no_role));
    });
    auto store = open_store(dir.path());
    auto found = store->find_operator("operator2");
    REQUIRE_FALSE(found);
    CHECK(found.error().code() == ErrorCode::kStorageError);
    CHECK_THAT(found.error().message(), Catch::Contains("fingerprint"));
    auto no_role = store->find_operator("xy");
    REQUIRE_FALSE(no_role);
    CHECK_THAT(no_role.error().message(), Catch::Contains("role"));
    auto report = store->check_integrity();
    REQUIRE(report);
    CHECK_FALSE(report->ok());
  }

  SECTION("an API token record that does not decode, or sits under another id") {
    const auto moved = make_token(9, "x");
    with_raw_store(dir.path(), [&](lmdb::Transaction& txn, schema::Tables& t) {
      REQUIRE(txn.put(t.api_tokens, base::as_bytes(make_token(2).id), garbage));
      base::Bytes encoded;
      codec::encode(moved, encoded);
      REQUIRE(txn.put(t.api_tokens, base::as_bytes(make_token(3).id), encoded));
    });
    auto store = open_store(dir.path());
    auto found = store->find_api_token(make_token(2).id);
    REQUIRE_FALSE(found);
    CHECK(found.error().code() == ErrorCode::kStorageError);
    CHECK_THAT(found.error().message(), Catch::Contains("'api_tokens'"));
    auto report = store->check_integrity();
    REQUIRE(report);
    REQUIRE(report->problems.size() == 2);
    CHECK_THAT(report->problems[0], Catch::Contains("'api_tokens'"));
    CHECK_THAT(report->problems[1], Catch::Contains(moved.id));
  }

  SECTION("a certificate index entry without its operator, or missing") {
    with_raw_store(dir.path(), [&](lmdb::Transaction& txn, schema::Tables& t) {
      // operator1's entry is gone; a stranger's points to operator4, whose record does not
      // carry that certificate.
      REQUIRE(txn.del(t.operator_certs, certificate_fingerprint("operator1")));
      REQUIRE(txn.put(t.operator_certs, certificate_fingerprint("stranger"),
                      base::as_bytes(std::string_view("operator4"))));
    });
    auto store = open_store(dir.path());
    auto stranger = store->find_operator_by_certificate(certificate_fingerprint("stranger"));
    REQUIRE_FALSE(stranger);  // never an operator its record does not back
    CHECK(stranger.error().code() == ErrorCode::kStorageError);
    CHECK_THAT(stranger.error().message(), Catch::Contains("operator_certs"));
    auto report = store->check_integrity();
    REQUIRE(report);
    for (const auto& problem : report->problems) UNSCOPED_INFO(problem);
    REQUIRE(report->problems.size() == 2);
    CHECK_THAT(report->problems[0], Catch::Contains("operator_certs"));
    CHECK_THAT(report->problems[1], Catch::Contains("3 valid entries for 4"));
  }
}

TEST_CASE("a store whose version record was lost rebuilds the operator certificate index") {
  test::TempDir dir;
  {
    auto store = open_store(dir.path());
    fill(*store);
  }
  with_raw_store(dir.path(), [&](lmdb::Transaction& txn, schema::Tables& t) {
    REQUIRE(txn.drop_all(t.operator_certs));
    REQUIRE(txn.del(t.meta, base::as_bytes(schema::kSchemaVersionKey)));
  });
  auto store = open_store(dir.path());  // runs every migration step, v3 -> v4 included
  require_consistent(*store);
  check_filled(*store);
}
