// The audit log's hash chain in LmdbStore: every kind of write extends it, and tampering
// done directly in LMDB (a byte flipped, an entry deleted, two entries swapped) is named by
// ca::verify_audit_chain at the entry where the chain breaks.
#include <catch2/catch.hpp>

#include <algorithm>

#include "ca/audit.h"
#include "tests/integration/store/store_fixtures.h"

using namespace signet;
using namespace signet::store;
using namespace signet::store::testing;

TEST_CASE("every write extends the audit hash chain, and tampering in LMDB is named") {
  test::TempDir dir;
  {
    auto store = open_store(dir.path());
    ca::CaRecord root;
    root.name = "root";
    REQUIRE(store->create_ca(root, audit_event(day(1), "cli", "ca.created", "ca:root")));
    REQUIRE(store->put_certificate(make_record("root", 1),
                                   audit_event(day(1), "cli", "certificate.issued", "c:1")));
    REQUIRE(store->append_audit(audit_event(day(2), "cli", "note", "x", R"({"n":3})")));
    REQUIRE(store->create_order(ca::Order{}, {audit_event(day(2), "cli", "order.created", "o")}));
    REQUIRE(store->revoke_certificate({1,
                                       ca::Revocation{day(3), 1, std::nullopt, 0},
                                       {audit_event(day(3), "cli", "certificate.revoked", "c:1")},
                                       {}}));
    ca::Alert alert;
    alert.dedupe_key = "k";
    REQUIRE(store->raise_alert(alert, audit_event(day(3), "cli", "alert.raised", "a")));
    REQUIRE(store->append_audit(audit_event(day(4), "cli", "note", "y")));

    auto events = store->list_audit(0, 100);
    REQUIRE(events);
    REQUIRE(events->size() == 7);
    CHECK(events->front().previous_hash == base::Bytes(32, 0));
    for (std::size_t i = 0; i < events->size(); ++i) {
      const auto& e = (*events)[i];
      CHECK(e.hash == ca::audit_entry_hash(e, e.previous_hash));
      if (i > 0) CHECK(e.previous_hash == (*events)[i - 1].hash);
    }
    auto report = ca::verify_audit_chain(*store);
    REQUIRE(report);
    CHECK(report->ok());
    CHECK(report->entries == 7);
    CHECK(report->last_sequence == 7);
    CHECK(report->head == events->back().hash);
  }

  SECTION("a byte flipped in one entry's detail is reported as altered at that entry") {
    with_raw_store(dir.path(), [&](lmdb::Transaction& txn, schema::Tables& t) {
      const auto key = schema::id_key(3);
      auto value = txn.get(t.audit, key);
      REQUIRE(value);
      REQUIRE(value->has_value());
      base::Bytes raw((*value)->begin(), (*value)->end());
      const std::string detail = R"({"n":3})";
      auto at = std::search(raw.begin(), raw.end(), detail.begin(), detail.end());
      REQUIRE(at != raw.end());
      at[5] = '4';  // {"n":4}
      REQUIRE(txn.put(t.audit, key, raw));
    });
    auto store = open_store(dir.path());
    auto report = ca::verify_audit_chain(*store);
    REQUIRE(report);
    REQUIRE_FALSE(report->ok());
    CHECK(report->first_bad_sequence == 3);
    CHECK_THAT(report->problem, Catch::StartsWith("altered"));
    auto integrity = store->check_integrity();
    REQUIRE(integrity);
    CHECK_FALSE(integrity->ok());
  }
  SECTION("a deleted entry is reported as removed at the entry after the gap") {
    with_raw_store(dir.path(), [&](lmdb::Transaction& txn, schema::Tables& t) {
      REQUIRE(txn.del(t.audit, schema::id_key(4)));
    });
    auto store = open_store(dir.path());
    auto report = ca::verify_audit_chain(*store);
    REQUIRE(report);
    REQUIRE_FALSE(report->ok());
    CHECK(report->first_bad_sequence == 5);
    CHECK_THAT(report->problem, Catch::StartsWith("removed"));
  }
  SECTION("two entries swapped are reported as reordered") {
    with_raw_store(dir.path(), [&](lmdb::Transaction& txn, schema::Tables& t) {
      auto a = txn.get(t.audit, schema::id_key(5));
      REQUIRE(a);
      base::Bytes five((*a)->begin(), (*a)->end());
      auto b = txn.get(t.audit, schema::id_key(6));
      REQUIRE(b);
      base::Bytes six((*b)->begin(), (*b)->end());
      REQUIRE(txn.put(t.audit, schema::id_key(5), six));
      REQUIRE(txn.put(t.audit, schema::id_key(6), five));
    });
    auto store = open_store(dir.path());
    auto report = ca::verify_audit_chain(*store);
    REQUIRE(report);
    REQUIRE_FALSE(report->ok());
    CHECK(report->first_bad_sequence == 5);
    CHECK_THAT(report->problem, Catch::StartsWith("reordered"));
  }
}
