// Schema migrations. Version 1 -> 2: a store laid out as version 1 wrote it (raw-magnitude
// serial index, no lifecycle indexes, no revocation sequences, audit entries without hashes)
// opens migrated: every index built, revocations numbered, the audit chain computed and
// verifiable. Version 2 -> 3: a store without the revocation services' tables opens with the
// revoked table built from the revoked records and empty CRL tables. Version 3 -> 4: a store
// without the operator tables opens with them, empty and working, and its records intact.
#include <catch2/catch.hpp>

#include "ca/audit.h"
#include "store/internal/codec.h"
#include "tests/integration/store/operator_fixtures.h"
#include "tests/integration/store/store_fixtures.h"

using namespace signet;
using namespace signet::store;
using namespace signet::store::testing;

namespace {

// Rewrites a (closed) store into the version-1 layout.
void downgrade_to_v1(const std::filesystem::path& state) {
  with_raw_store(state, [&](lmdb::Transaction& txn, schema::Tables& t) {
    for (const auto* table :
         {&t.cert_by_serial, &t.cert_by_not_before, &t.cert_by_cn, &t.cert_by_ca,
          &t.cert_by_profile, &t.cert_by_dns, &t.cert_by_key, &t.revocations}) {
      REQUIRE(txn.drop_all(*table));
    }
    std::vector<std::pair<base::Bytes, ca::CertificateRecord>> records;
    {
      auto cursor = lmdb::Cursor::open(txn, t.certs);
      REQUIRE(cursor);
      auto entry = cursor->first();
      while (entry && *entry) {
        auto r = codec::decode_certificate((*entry)->value, "certs", (*entry)->key);
        REQUIRE(r);
        records.emplace_back(base::Bytes((*entry)->key.begin(), (*entry)->key.end()), *r);
        entry = cursor->next();
      }
    }
    base::Bytes encoded;
    for (auto& [key, r] : records) {
      if (r.revocation) r.revocation->sequence = 0;  // version 1 had none
      codec::encode(r, encoded);
      REQUIRE(txn.put(t.certs, key, encoded));
      REQUIRE(txn.put(t.cert_by_serial, r.serial.magnitude(), key));  // the v1 key
    }
    std::vector<std::pair<base::Bytes, ca::AuditEvent>> events;
    {
      auto cursor = lmdb::Cursor::open(txn, t.audit);
      REQUIRE(cursor);
      auto entry = cursor->first();
      while (entry && *entry) {
        auto e = codec::decode_audit((*entry)->value, "audit", (*entry)->key);
        REQUIRE(e);
        events.emplace_back(base::Bytes((*entry)->key.begin(), (*entry)->key.end()), *e);
        entry = cursor->next();
      }
    }
    for (auto& [key, e] : events) {
      e.previous_hash.clear();
      e.hash.clear();
      codec::encode(e, encoded);
      REQUIRE(txn.put(t.audit, key, encoded));
    }
    const std::uint8_t v1[4] = {0, 0, 0, 1};
    REQUIRE(txn.put(t.meta, base::as_bytes(schema::kSchemaVersionKey), v1));
  });
}

// Rewrites a (closed) store into the version-2 layout: the version-3 tables do not exist.
void downgrade_to_v2(const std::filesystem::path& state) {
  auto env = lmdb::Environment::open(state / "store", {});
  REQUIRE(env);
  auto txn = lmdb::Transaction::begin_write(**env);
  REQUIRE(txn);
  for (const char* name : {"revoked", "crls", "crl_der", "crl_numbers"}) {
    auto table = txn->open_table(name, 0);
    REQUIRE(table);
    REQUIRE(mdb_drop(txn->handle(), table->dbi, 1) == MDB_SUCCESS);  // deletes the table
  }
  auto meta = txn->open_table("meta", 0);
  REQUIRE(meta);
  const std::uint8_t v2[4] = {0, 0, 0, 2};
  REQUIRE(txn->put(*meta, base::as_bytes(schema::kSchemaVersionKey), v2));
  REQUIRE(txn->commit());
}

// Rewrites a (closed) store into the version-3 layout: the version-4 tables do not exist.
void downgrade_to_v3(const std::filesystem::path& state) {
  auto env = lmdb::Environment::open(state / "store", {});
  REQUIRE(env);
  auto txn = lmdb::Transaction::begin_write(**env);
  REQUIRE(txn);
  for (const char* name : {"operators", "operator_certs", "api_tokens"}) {
    auto table = txn->open_table(name, 0);
    REQUIRE(table);
    REQUIRE(mdb_drop(txn->handle(), table->dbi, 1) == MDB_SUCCESS);  // deletes the table
  }
  auto meta = txn->open_table("meta", 0);
  REQUIRE(meta);
  const std::uint8_t v3[4] = {0, 0, 0, 3};
  REQUIRE(txn->put(*meta, base::as_bytes(schema::kSchemaVersionKey), v3));
  REQUIRE(txn->commit());
}

// Rewrites a (closed) store into the version-4 layout: the version-5 table does not exist.
void downgrade_to_v4(const std::filesystem::path& state) {
  auto env = lmdb::Environment::open(state / "store", {});
  REQUIRE(env);
  auto txn = lmdb::Transaction::begin_write(**env);
  REQUIRE(txn);
  auto table = txn->open_table("audit_checkpoints", 0);
  REQUIRE(table);
  REQUIRE(mdb_drop(txn->handle(), table->dbi, 1) == MDB_SUCCESS);  // deletes the table
  auto meta = txn->open_table("meta", 0);
  REQUIRE(meta);
  const std::uint8_t v4[4] = {0, 0, 0, 4};
  REQUIRE(txn->put(*meta, base::as_bytes(schema::kSchemaVersionKey), v4));
  REQUIRE(txn->commit());
}

// A scan that keeps the serials (hex) and sequences it is shown.
class SerialCollector final : public ca::RevokedVisitor {
 public:
  base::Result<void> visit(const ca::RevokedEntry& entry) override {
    serials.push_back(base::to_hex(entry.serial));
    sequences.push_back(entry.sequence);
    return base::ok();
  }
  std::vector<std::string> serials;
  std::vector<std::uint64_t> sequences;
};

}  // namespace

TEST_CASE("a version-2 store is migrated: the revoked table built from the revoked records") {
  test::TempDir dir;
  {
    auto store = open_store(dir.path());
    for (std::uint64_t n = 1; n <= 40; ++n) {
      auto r = make_record(n % 2 ? "root" : "issuing", n, day(static_cast<int>(n)));
      if (n % 10 == 0) {
        r.ca_name = "";
        r.source = ca::CertificateSource::kDiscovered;
      }
      if (n % 3 == 0) {
        r.revocation = ca::Revocation{day(static_cast<int>(n)), 4,
                                      n % 9 == 0 ? std::optional(day(-1)) : std::nullopt, 0};
      }
      REQUIRE(store->put_certificate(r, std::nullopt));
    }
    auto victim = store->find_certificate("root", serial_of(1));
    REQUIRE(victim);
    REQUIRE(store->revoke_certificate(
        {(*victim)->id, ca::Revocation{day(50), 1, std::nullopt, 0}, {}, {}}));
  }
  downgrade_to_v2(dir.path());
  {
    auto env = lmdb::Environment::open(dir.path() / "store", {});
    REQUIRE(env);
    auto txn = lmdb::Transaction::begin_read(**env);
    REQUIRE(txn);
    CHECK_FALSE(txn->open_table("revoked", 0));  // really gone
  }

  auto store = open_store(dir.path());
  require_consistent(*store);
  auto report = store->check_integrity();
  REQUIRE(report);
  // Revoked: n = 3, 9, 15, 21, 27, 33, 39 (root) and 6, 12, 18, 24, 36 (issuing), plus root's
  // serial 1; 30 is discovered (no entry).
  CHECK(report->revoked_entries == 13);
  SerialCollector root;
  auto scanned = store->scan_revoked("root", root);
  REQUIRE(scanned);
  CHECK(scanned->entries == 8);
  CHECK(scanned->revocation_sequence == 14);
  std::vector<std::string> expected;
  for (std::uint64_t n : {1, 3, 9, 15, 21, 27, 33, 39}) {
    expected.push_back(base::to_hex(serial_of(n).magnitude()));
  }
  CHECK(root.serials == expected);
  CHECK(root.sequences.front() == 14);  // revoked last, by revoke_certificate
  auto status = store->serial_status("issuing", serial_of(18));
  REQUIRE(status);
  REQUIRE(status->has_value());
  REQUIRE((*status)->revocation);
  CHECK((*status)->revocation->invalidity_date == day(-1));
  CHECK((*status)->not_after == day(18));
  // The CRL tables exist and work.
  auto number = store->reserve_crl_number("root");
  REQUIRE(number);
  CHECK(*number == 1);
  auto listed = store->list_crls("root", 10);
  REQUIRE(listed);
  CHECK(listed->empty());
  store.reset();
  with_raw_store(dir.path(), [&](lmdb::Transaction& txn, schema::Tables& t) {
    auto version = schema::read_version(txn, t);
    REQUIRE(version);
    CHECK(*version == schema::kCurrentVersion);
  });
}

TEST_CASE("a version-3 store is migrated: the operator tables appear, empty and working") {
  test::TempDir dir;
  {
    auto store = open_store(dir.path());
    ca::CaRecord root;
    root.name = "root";
    REQUIRE(store->create_ca(root, audit_event(day(1), "cli", "ca.created", "ca:root")));
    for (std::uint64_t n = 1; n <= 10; ++n) {
      auto r = make_record("root", n);
      if (n % 4 == 0) r.revocation = ca::Revocation{day(2), 1, std::nullopt, 0};
      REQUIRE(store->put_certificate(r, audit_event(day(1), "cli", "certificate.issued", "c")));
    }
    REQUIRE(store->reserve_crl_number("root"));
  }
  downgrade_to_v3(dir.path());
  {
    auto env = lmdb::Environment::open(dir.path() / "store", {});
    REQUIRE(env);
    auto txn = lmdb::Transaction::begin_read(**env);
    REQUIRE(txn);
    CHECK_FALSE(txn->open_table("operators", 0));  // really gone
    CHECK_FALSE(txn->open_table("api_tokens", 0));
  }

  auto store = open_store(dir.path());
  require_consistent(*store);
  auto operators = store->list_operators();
  REQUIRE(operators);
  CHECK(operators->empty());
  auto tokens = store->list_api_tokens();
  REQUIRE(tokens);
  CHECK(tokens->empty());
  // What v3 held is intact.
  auto found = store->find_certificate("root", serial_of(7));
  REQUIRE(found);
  CHECK(found->has_value());
  auto report = store->check_integrity();
  REQUIRE(report);
  CHECK(report->certificates == 10);
  CHECK(report->revoked_entries == 2);
  CHECK(report->cas == 1);
  // The new tables work, and their events chain onto the migrated log.
  REQUIRE(store->create_operator(make_operator("alice"),
                                 audit_event(day(3), "cli", "operator.created", "operator:alice")));
  REQUIRE(store->create_api_token(make_token(1), std::nullopt));
  auto alice = store->find_operator_by_certificate(certificate_fingerprint("alice"));
  REQUIRE(alice);
  REQUIRE(alice->has_value());
  require_same(**alice, make_operator("alice"));
  auto chain = ca::verify_audit_chain(*store);
  REQUIRE(chain);
  CHECK(chain->ok());
  CHECK(chain->entries == 12);
  require_consistent(*store);
  store.reset();
  with_raw_store(dir.path(), [&](lmdb::Transaction& txn, schema::Tables& t) {
    auto version = schema::read_version(txn, t);
    REQUIRE(version);
    CHECK(*version == schema::kCurrentVersion);
  });
}

TEST_CASE("a version-4 store is migrated: the audit_checkpoints table appears, empty and working") {
  test::TempDir dir;
  {
    auto store = open_store(dir.path());
    for (int n = 1; n <= 4; ++n) {
      REQUIRE(store->append_audit(audit_event(day(n), "cli", "note", "n:" + std::to_string(n))));
    }
  }
  downgrade_to_v4(dir.path());
  {
    auto env = lmdb::Environment::open(dir.path() / "store", {});
    REQUIRE(env);
    auto txn = lmdb::Transaction::begin_read(**env);
    REQUIRE(txn);
    CHECK_FALSE(txn->open_table("audit_checkpoints", 0));  // really gone
  }
  auto store = open_store(dir.path());
  require_consistent(*store);
  auto listed = store->list_checkpoints(0, 10);
  REQUIRE(listed);
  CHECK(listed->empty());
  auto latest = store->latest_checkpoint();
  REQUIRE(latest);
  CHECK_FALSE(latest->has_value());
  // The table works, and the checkpoint's event chains onto the migrated log.
  auto head = store->last_audit_event();
  REQUIRE(head);
  REQUIRE(head->has_value());
  ca::AuditCheckpoint checkpoint;
  checkpoint.sequence = (*head)->sequence;
  checkpoint.head = (*head)->hash;
  checkpoint.signed_at = day(5);
  checkpoint.public_key_der = {0x30, 0x00};
  checkpoint.signature = {0x30, 0x00};  // the store checks the chain; verification the signature
  auto event =
      store->append_checkpoint(checkpoint, audit_event(day(5), "cli", "audit.checkpointed", "x"));
  REQUIRE(event);
  CHECK(*event == 5);
  listed = store->list_checkpoints(0, 10);
  REQUIRE(listed);
  REQUIRE(listed->size() == 1);
  CHECK(listed->front().sequence == 4);
  CHECK(listed->front().head == (*head)->hash);
  CHECK(listed->front().signed_at == day(5));
  auto chain = ca::verify_audit_chain(*store);
  REQUIRE(chain);
  CHECK(chain->ok());
  CHECK(chain->entries == 5);
  store.reset();
  with_raw_store(dir.path(), [&](lmdb::Transaction& txn, schema::Tables& t) {
    auto version = schema::read_version(txn, t);
    REQUIRE(version);
    CHECK(*version == 5);
  });
}

TEST_CASE("a version-1 store is migrated: indexes built, revocations numbered, audit chained") {
  test::TempDir dir;
  {
    auto store = open_store(dir.path());
    for (int n = 1; n <= 30; ++n) {
      auto r = make_record(n % 2 ? "root" : "issuing", n, day(n * 10));
      if (n % 4 == 0) r.revocation = ca::Revocation{day(n), 1, std::nullopt, 0};
      if (n % 5 == 0) r.key_location = base::KeyRef{"tok", {static_cast<std::uint8_t>(n)}, "", ""};
      REQUIRE(store->put_certificate(
          r, audit_event(day(n), "cli:root", "certificate.issued", "c:" + std::to_string(n))));
    }
  }
  downgrade_to_v1(dir.path());
  with_raw_store(dir.path(), [&](lmdb::Transaction& txn, schema::Tables& t) {
    auto version = schema::read_version(txn, t);
    REQUIRE(version);
    CHECK(*version == 1);
  });

  auto store = open_store(dir.path());
  require_consistent(*store);
  auto chain = ca::verify_audit_chain(*store);
  REQUIRE(chain);
  INFO(chain->problem);
  CHECK(chain->ok());
  CHECK(chain->entries == 30);

  // Revocations numbered in id order: 4, 8, ..., 28 -> 1..7.
  auto revoked = store->list_revocations("issuing", 0, 100);
  REQUIRE(revoked);
  REQUIRE(revoked->size() == 7);
  for (std::size_t i = 0; i < revoked->size(); ++i) {
    CHECK((*revoked)[i].revocation->sequence == i + 1);
  }
  // ...and through version 3, the revoked table.
  SerialCollector issuing;
  auto scanned = store->scan_revoked("issuing", issuing);
  REQUIRE(scanned);
  CHECK(scanned->entries == 7);
  CHECK(issuing.sequences == std::vector<std::uint64_t>{1, 2, 3, 4, 5, 6, 7});
  auto by_serial = store->find_certificates_by_serial(serial_of(7));
  REQUIRE(by_serial);
  CHECK(by_serial->size() == 1);
  auto by_key = store->find_certificates_by_key(base::KeyRef{"tok", {10}, "", ""});
  REQUIRE(by_key);
  CHECK(by_key->size() == 1);
  ca::CertificateQuery query;
  query.sort = ca::CertificateSort::kCommonName;
  query.search = "*.example";
  query.limit = 1000;
  auto page = store->list_certificates(query);
  REQUIRE(page);
  CHECK(page->items.size() == 30);

  // New writes chain onto the migrated log.
  REQUIRE(store->append_audit(audit_event(day(99), "cli", "after", "x")));
  auto after = ca::verify_audit_chain(*store);
  REQUIRE(after);
  CHECK(after->ok());
  CHECK(after->entries == 31);
}
