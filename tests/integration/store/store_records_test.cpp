// LmdbStore as the CA sees it: records, indexes, uniqueness, listing, CAs, audit, schema.
#include <catch2/catch.hpp>

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <random>
#include <set>

#include "store/internal/codec.h"
#include "tests/integration/store/store_fixtures.h"

using namespace signet;
using namespace signet::store;
using namespace signet::store::testing;
using base::ErrorCode;

namespace {

ca::CertificateRecord full_record() {
  auto r = make_record("root", 7);
  r.source = ca::CertificateSource::kDiscovered;
  r.is_ca = true;
  r.revocation = ca::Revocation{day(10) + std::chrono::nanoseconds(5), 4, day(9)};
  r.key_location = base::KeyRef{"0a1b2c", {0x01, 0x02, 0xff}, "signet-token", "root-key"};
  return r;
}

}  // namespace

TEST_CASE("a certificate round-trips every field and is found through every index") {
  test::TempDir dir;
  auto store = open_store(dir.path());
  const auto record = full_record();
  auto id = store->put_certificate(record, std::nullopt);
  REQUIRE(id);
  CHECK(*id == 1);

  auto by_ca = store->find_certificate("root", record.serial);
  REQUIRE(by_ca);
  REQUIRE(by_ca->has_value());
  CHECK((*by_ca)->id == 1);
  require_same(**by_ca, record);

  auto by_serial = store->find_certificates_by_serial(record.serial);
  REQUIRE(by_serial);
  REQUIRE(by_serial->size() == 1);
  require_same(by_serial->front(), record);

  auto by_fingerprint = store->find_certificate_by_fingerprint(record.fingerprint_sha256);
  REQUIRE(by_fingerprint);
  REQUIRE(by_fingerprint->has_value());
  require_same(**by_fingerprint, record);

  for (const char* name : {"host7.example", "HOST7.Example", "www.host7.example", "192.0.2.7"}) {
    INFO(name);
    auto by_name = store->find_certificates_by_name(name);
    REQUIRE(by_name);
    REQUIRE(by_name->size() == 1);
    require_same(by_name->front(), record);
  }

  auto missing = store->find_certificate("other", record.serial);
  REQUIRE(missing);
  CHECK_FALSE(missing->has_value());
  auto nobody = store->find_certificates_by_name("nobody.example");
  REQUIRE(nobody);
  CHECK(nobody->empty());
  CHECK(store->find_certificate_by_fingerprint(base::Bytes(5, 0)).error().code() ==
        ErrorCode::kInvalidArgument);

  // And the same after reopening.
  store.reset();
  store = open_store(dir.path());
  auto again = store->find_certificate("root", record.serial);
  REQUIRE(again);
  REQUIRE(again->has_value());
  require_same(**again, record);
  require_consistent(*store);
}

TEST_CASE("a duplicate serial under one CA is refused and writes nothing") {
  test::TempDir dir;
  auto store = open_store(dir.path());
  auto first = make_record("root", 1);
  REQUIRE(store->put_certificate(first, std::nullopt));

  auto clash = make_record("root", 2);
  clash.serial = first.serial;  // same CA, same serial, different certificate
  ca::AuditEvent event =
      audit_event(day(1), "cli:root", "certificate.issued", "certificate:root/x");
  auto refused = store->put_certificate(clash, event);
  REQUIRE_FALSE(refused);
  CHECK(refused.error().code() == ErrorCode::kAlreadyExists);
  CHECK_THAT(refused.error().message(),
             Catch::Contains("root") && Catch::Contains(first.serial.to_hex()));

  // Nothing of it was written: no index entry, no audit event.
  auto by_fingerprint = store->find_certificate_by_fingerprint(clash.fingerprint_sha256);
  REQUIRE(by_fingerprint);
  CHECK_FALSE(by_fingerprint->has_value());
  auto by_name = store->find_certificates_by_name("host2.example");
  REQUIRE(by_name);
  CHECK(by_name->empty());
  auto audit = store->list_audit(0, 10);
  REQUIRE(audit);
  CHECK(audit->empty());

  // The same serial under another CA is a different certificate.
  auto other_ca = make_record("issuing", 3);
  other_ca.serial = first.serial;
  auto accepted = store->put_certificate(other_ca, std::nullopt);
  REQUIRE(accepted);
  CHECK(*accepted == 2);  // the refused record did not consume an id
  auto both = store->find_certificates_by_serial(first.serial);
  REQUIRE(both);
  CHECK(both->size() == 2);

  auto report = store->check_integrity();
  REQUIRE(report);
  CHECK(report->ok());
  CHECK(report->certificates == 2);
}

TEST_CASE("a known fingerprint is refused, under any CA") {
  test::TempDir dir;
  auto store = open_store(dir.path());
  auto first = make_record("root", 1);
  REQUIRE(store->put_certificate(first, std::nullopt));
  auto again = make_record("issuing", 2);
  again.fingerprint_sha256 = first.fingerprint_sha256;
  auto refused = store->put_certificate(again, std::nullopt);
  REQUIRE_FALSE(refused);
  CHECK(refused.error().code() == ErrorCode::kAlreadyExists);
  CHECK_THAT(refused.error().message(), Catch::Contains("fingerprint"));
  require_consistent(*store);
}

TEST_CASE("records the store cannot index are refused up front") {
  test::TempDir dir;
  auto store = open_store(dir.path());
  auto no_serial = make_record("root", 1);
  no_serial.serial = pki::SerialNumber();
  CHECK(store->put_certificate(no_serial, std::nullopt).error().code() ==
        ErrorCode::kInvalidArgument);
  auto short_fingerprint = make_record("root", 2);
  short_fingerprint.fingerprint_sha256.resize(20);
  CHECK(store->put_certificate(short_fingerprint, std::nullopt).error().code() ==
        ErrorCode::kInvalidArgument);
  CHECK(
      store->put_certificate(make_record(std::string(300, 'c'), 3), std::nullopt).error().code() ==
      ErrorCode::kInvalidArgument);
  auto long_profile = make_record("root", 4);
  long_profile.profile = std::string(600, 'p');  // would not fit cert_by_profile's key
  CHECK(store->put_certificate(long_profile, std::nullopt).error().code() ==
        ErrorCode::kInvalidArgument);
  require_consistent(*store);
}

TEST_CASE("a SAN longer than LMDB's key limit is indexed and found") {
  test::TempDir dir;
  auto store = open_store(dir.path());
  const std::string long_value = "https://example.com/" + std::string(700, 'a');
  auto record = make_record("root", 1);
  record.subject_alt_names.push_back("URI:" + long_value);
  REQUIRE(store->put_certificate(record, std::nullopt));
  // A different long name with the same first 600 characters.
  auto neighbour = make_record("root", 2);
  neighbour.subject_alt_names.push_back("URI:" + long_value + "b");
  REQUIRE(store->put_certificate(neighbour, std::nullopt));

  auto found = store->find_certificates_by_name(long_value);
  REQUIRE(found);
  REQUIRE(found->size() == 1);
  CHECK(found->front().serial == record.serial);
  std::string upper = long_value;
  std::transform(upper.begin(), upper.end(), upper.begin(), ::toupper);
  auto found_upper = store->find_certificates_by_name(upper);
  REQUIRE(found_upper);
  CHECK(found_upper->size() == 1);
  require_consistent(*store);
}

TEST_CASE("a discovered certificate (no CA) is found by serial and fingerprint") {
  test::TempDir dir;
  auto store = open_store(dir.path());
  auto a = make_record("", 1);
  a.source = ca::CertificateSource::kDiscovered;
  auto b = make_record("", 2);
  b.source = ca::CertificateSource::kDiscovered;
  b.serial = a.serial;  // two external issuers may well reuse a serial
  REQUIRE(store->put_certificate(a, std::nullopt));
  REQUIRE(store->put_certificate(b, std::nullopt));
  auto found = store->find_certificate("", a.serial);
  REQUIRE(found);
  REQUIRE(found->has_value());
  CHECK((*found)->ca_name.empty());
  auto all = store->find_certificates_by_serial(a.serial);
  REQUIRE(all);
  CHECK(all->size() == 2);
  require_consistent(*store);
}

TEST_CASE("listing walks notAfter order with cursors, filters and a fixed clock") {
  test::TempDir dir;
  auto store = open_store(dir.path());
  constexpr int kCount = 60;
  std::vector<int> days(kCount);
  for (int i = 0; i < kCount; ++i) days[i] = (i * 37) % 50;  // shuffled, with repeats
  for (int i = 0; i < kCount; ++i) {
    auto r = make_record(i % 3 == 0 ? "issuing" : "root", static_cast<std::uint64_t>(i + 1),
                         day(days[i]));
    if (i % 7 == 0) r.revocation = ca::Revocation{day(1), 1, std::nullopt};
    REQUIRE(store->put_certificate(r, std::nullopt));
  }
  const base::TimePoint now = day(20) + std::chrono::hours(1);

  SECTION("pages cover everything exactly once, ordered by notAfter then id") {
    ca::CertificateQuery query;
    query.limit = 7;
    query.now = now;
    std::vector<ca::CertificateRecord> all;
    int pages = 0;
    do {
      auto page = store->list_certificates(query);
      REQUIRE(page);
      REQUIRE(page->items.size() <= 7);
      all.insert(all.end(), page->items.begin(), page->items.end());
      query.cursor = page->next_cursor;
      REQUIRE(++pages < 20);
    } while (!query.cursor.empty());
    REQUIRE(all.size() == kCount);
    std::set<std::uint64_t> ids;
    for (std::size_t i = 0; i < all.size(); ++i) {
      ids.insert(all[i].id);
      if (i > 0) {
        const auto& p = all[i - 1];
        CHECK((p.not_after < all[i].not_after ||
               (p.not_after == all[i].not_after && p.id < all[i].id)));
      }
    }
    CHECK(ids.size() == kCount);
  }

  SECTION("status, CA and expiring-within filters") {
    auto count = [&](ca::CertificateQuery query) {
      query.limit = 1000;
      query.now = now;
      auto page = store->list_certificates(query);
      REQUIRE(page);
      CHECK(page->next_cursor.empty());
      return page->items;
    };
    std::size_t active = 0, expired = 0, revoked = 0, issuing = 0, soon = 0;
    for (int i = 0; i < kCount; ++i) {
      const bool is_revoked = i % 7 == 0;
      const bool is_expired = day(days[i]) <= now;
      revoked += is_revoked;
      expired += !is_revoked && is_expired;
      active += !is_revoked && !is_expired;
      issuing += i % 3 == 0;
      soon += day(days[i]) < now + std::chrono::hours(24 * 10);
    }
    ca::CertificateQuery q;
    q.status = ca::CertificateStatus::kActive;
    auto a = count(q);
    CHECK(a.size() == active);
    for (const auto& r : a) CHECK(ca::status_at(r, now) == ca::CertificateStatus::kActive);
    q.status = ca::CertificateStatus::kExpired;
    CHECK(count(q).size() == expired);
    q.status = ca::CertificateStatus::kRevoked;
    CHECK(count(q).size() == revoked);

    ca::CertificateQuery by_ca;
    by_ca.ca_name = "issuing";
    auto i = count(by_ca);
    CHECK(i.size() == issuing);
    for (const auto& r : i) CHECK(r.ca_name == "issuing");

    ca::CertificateQuery expiring;
    expiring.not_after_before = now + std::chrono::hours(24 * 10);
    auto e = count(expiring);
    CHECK(e.size() == soon);
    for (const auto& r : e) CHECK(r.not_after < *expiring.not_after_before);
  }

  SECTION("a bad page size or cursor is the caller's error") {
    ca::CertificateQuery query;
    query.limit = 0;
    CHECK(store->list_certificates(query).error().code() == ErrorCode::kInvalidArgument);
    query.limit = 1001;
    CHECK(store->list_certificates(query).error().code() == ErrorCode::kInvalidArgument);
    query.limit = 10;
    query.cursor = "not-a-cursor";
    CHECK(store->list_certificates(query).error().code() == ErrorCode::kInvalidArgument);
  }
}

TEST_CASE("CAs are created once, updated by revision, and listed by name") {
  test::TempDir dir;
  auto store = open_store(dir.path());
  ca::CaRecord root;
  root.name = "root";
  root.state = ca::CaState::kAwaitingCertificate;
  root.parent = "";
  root.external_parent = true;
  root.key = base::KeyRef{"serial1", {9, 8, 7}, "tok", "root-key"};
  root.key_algorithm = base::KeyAlgorithm::kRsa3072;
  root.subject = "CN=Root,O=Signet";
  root.certificate_der = base::Bytes(100, 1);
  root.previous_certificates_der = {base::Bytes(10, 2), base::Bytes(20, 3)};
  root.external_chain_der = {base::Bytes(30, 4)};
  root.pending_csr_der = base::Bytes(40, 5);
  root.settings.base_url = "http://pki.example";
  root.settings.default_validity_days = 90;
  root.created_at = day(3);
  ca::AuditEvent created = audit_event(day(3), "cli:root", "ca.created", "ca:root", "{\"x\":1}");
  REQUIRE(store->create_ca(root, created));

  auto duplicate = store->create_ca(root, std::nullopt);
  REQUIRE_FALSE(duplicate);
  CHECK(duplicate.error().code() == ErrorCode::kAlreadyExists);
  CHECK(duplicate.error().message() == "a CA named 'root' already exists");

  auto found = store->find_ca("root");
  REQUIRE(found);
  REQUIRE(found->has_value());
  const auto& f = **found;
  CHECK(f.state == root.state);
  CHECK(f.external_parent);
  CHECK(f.key == root.key);
  CHECK(f.key.token_label == "tok");
  CHECK(f.key.object_label == "root-key");
  CHECK(f.key_algorithm == root.key_algorithm);
  CHECK(f.subject == root.subject);
  CHECK(f.certificate_der == root.certificate_der);
  CHECK(f.previous_certificates_der == root.previous_certificates_der);
  CHECK(f.external_chain_der == root.external_chain_der);
  CHECK(f.pending_csr_der == root.pending_csr_der);
  CHECK(f.settings.base_url == root.settings.base_url);
  CHECK(f.settings.default_validity_days == 90);
  CHECK(f.created_at == root.created_at);
  CHECK(f.revision == 0);

  auto update = f;
  update.state = ca::CaState::kActive;
  REQUIRE(store->update_ca(update, std::nullopt));
  auto updated = store->find_ca("root");
  REQUIRE(updated);
  CHECK((*updated)->revision == 1);
  CHECK((*updated)->state == ca::CaState::kActive);

  auto stale = store->update_ca(update, std::nullopt);  // still based on revision 0
  REQUIRE_FALSE(stale);
  CHECK(stale.error().code() == ErrorCode::kConflict);
  auto ghost = update;
  ghost.name = "ghost";
  CHECK(store->update_ca(ghost, std::nullopt).error().code() == ErrorCode::kNotFound);

  for (const char* name : {"zeta", "alpha", "issuing"}) {
    ca::CaRecord other;
    other.name = name;
    REQUIRE(store->create_ca(other, std::nullopt));
  }
  auto list = store->list_cas();
  REQUIRE(list);
  std::vector<std::string> names;
  for (const auto& ca : *list) names.push_back(ca.name);
  CHECK(names == std::vector<std::string>{"alpha", "issuing", "root", "zeta"});

  auto audit = store->list_audit(0, 10);
  REQUIRE(audit);
  REQUIRE(audit->size() == 1);
  CHECK(audit->front().action == "ca.created");
  CHECK(audit->front().detail == "{\"x\":1}");
}

TEST_CASE("audit events get 1, 2, 3... and an issuance's event commits with it") {
  test::TempDir dir;
  auto store = open_store(dir.path());
  for (int i = 1; i <= 3; ++i) {
    auto seq = store->append_audit(
        audit_event(day(i), "cli:root", "test.event", "thing:" + std::to_string(i)));
    REQUIRE(seq);
    CHECK(*seq == static_cast<std::uint64_t>(i));
  }
  ca::AuditEvent issued = audit_event(day(5), "acme", "certificate.issued", "certificate:root/01");
  auto id = store->put_certificate(make_record("root", 1), issued);
  REQUIRE(id);

  auto all = store->list_audit(0, 100);
  REQUIRE(all);
  REQUIRE(all->size() == 4);
  for (std::size_t i = 0; i < all->size(); ++i) CHECK((*all)[i].sequence == i + 1);
  CHECK((*all)[3].action == "certificate.issued");
  CHECK((*all)[3].actor == "acme");
  CHECK((*all)[3].object == "certificate:root/01");
  CHECK((*all)[3].time == day(5));

  auto page = store->list_audit(1, 2);
  REQUIRE(page);
  REQUIRE(page->size() == 2);
  CHECK((*page)[0].sequence == 2);
  CHECK((*page)[1].sequence == 3);
  auto none = store->list_audit(4, 10);
  REQUIRE(none);
  CHECK(none->empty());
}

TEST_CASE("a store written by a newer schema is refused; an older one is migrated") {
  test::TempDir dir;
  {
    auto store = open_store(dir.path());
    REQUIRE(store->put_certificate(make_record("root", 1), std::nullopt));
  }
  const std::uint8_t newer[4] = {0, 0, 0, schema::kCurrentVersion + 1};
  with_raw_store(dir.path(), [&](lmdb::Transaction& txn, schema::Tables& t) {
    REQUIRE(txn.put(t.meta, base::as_bytes(schema::kSchemaVersionKey), newer));
  });
  auto refused = LmdbStore::open(dir.path());
  REQUIRE_FALSE(refused);
  CHECK(refused.error().code() == ErrorCode::kNotSupported);
  CHECK_THAT(refused.error().message(),
             Catch::Contains("schema version " + std::to_string(schema::kCurrentVersion + 1)) &&
                 Catch::Contains(dir.str()));

  // Version 0 (no version recorded) goes through the migration steps up to the current one.
  with_raw_store(dir.path(), [&](lmdb::Transaction& txn, schema::Tables& t) {
    REQUIRE(txn.del(t.meta, base::as_bytes(schema::kSchemaVersionKey)));
  });
  {
    auto store = open_store(dir.path());
    auto found = store->find_certificate("root", serial_of(1));
    REQUIRE(found);
    CHECK(found->has_value());
  }
  with_raw_store(dir.path(), [&](lmdb::Transaction& txn, schema::Tables& t) {
    auto version = schema::read_version(txn, t);
    REQUIRE(version);
    CHECK(*version == schema::kCurrentVersion);
  });
  CHECK_FALSE(schema::migration_steps().empty());
}

TEST_CASE("a corrupt record is reported naming its table and key") {
  test::TempDir dir;
  {
    auto store = open_store(dir.path());
    REQUIRE(store->put_certificate(make_record("root", 1), std::nullopt));
  }
  with_raw_store(dir.path(), [&](lmdb::Transaction& txn, schema::Tables& t) {
    const std::uint8_t garbage[] = {1, 2, 200, 0xff};  // field 2 claims more than remains
    REQUIRE(txn.put(t.certs, schema::id_key(1), garbage));
  });
  auto store = open_store(dir.path());
  auto found = store->find_certificate("root", serial_of(1));
  REQUIRE_FALSE(found);
  CHECK(found.error().code() == ErrorCode::kStorageError);
  CHECK_THAT(found.error().message(),
             Catch::Contains("'certs'") && Catch::Contains("0000000000000001"));
  auto report = store->check_integrity();
  REQUIRE(report);
  CHECK_FALSE(report->ok());
}

TEST_CASE("the record encoding skips fields it does not know and refuses bad lengths") {
  auto record = make_record("root", 1);
  base::Bytes encoded;
  codec::encode(record, encoded);
  const base::Bytes key(8, 0);
  // A field from a newer build: tag 200, three bytes.
  base::Bytes extended = encoded;
  extended.insert(extended.end(), {200, 3, 'n', 'e', 'w'});
  auto decoded = codec::decode_certificate(extended, "certs", key);
  REQUIRE(decoded);
  require_same(*decoded, record);

  base::Bytes truncated(encoded.begin(), encoded.end() - 3);
  CHECK(codec::decode_certificate(truncated, "certs", key).error().code() ==
        ErrorCode::kStorageError);
  base::Bytes future_format = encoded;
  future_format[0] = 9;
  CHECK_THAT(codec::decode_certificate(future_format, "certs", key).error().message(),
             Catch::Contains("format version 9"));
}

TEST_CASE("a state directory that cannot be made is refused naming the path") {
  test::TempDir dir;
  test::write_text(dir / "file", "not a directory");
  const auto under_file = dir / "file" / "state";
  auto refused = LmdbStore::open(under_file);
  REQUIRE_FALSE(refused);
  CHECK(refused.error().code() == ErrorCode::kIoError);
  CHECK_THAT(refused.error().message(), Catch::Contains(under_file.string()));

  const auto no_parent = dir / "missing" / "state";
  auto missing = LmdbStore::open(no_parent);
  REQUIRE_FALSE(missing);
  CHECK(missing.error().code() == ErrorCode::kIoError);
  CHECK_THAT(missing.error().message(),
             Catch::Contains(no_parent.string()) && Catch::Contains("parent"));

  if (::geteuid() != 0) {  // root ignores permission bits
    const auto locked = dir / "locked";
    std::filesystem::create_directory(locked);
    ::chmod(locked.c_str(), 0500);
    auto denied = LmdbStore::open(locked);
    REQUIRE_FALSE(denied);
    CHECK(denied.error().code() == ErrorCode::kPermissionDenied);
    CHECK_THAT(denied.error().message(), Catch::Contains(locked.string()));
  }
}

TEST_CASE("a card key's reader round-trips; a record from before readers were kept has none") {
  auto record = make_record("root", 1);
  record.key_location = base::KeyRef{"c4rd", {0x01}, "card-1", "X.509 Certificate for PIV"};
  const base::Bytes key(8, 0);
  // Before: no reader field at all (what older builds wrote).
  base::Bytes old_encoding;
  codec::encode(record, old_encoding);
  auto old_decoded = codec::decode_certificate(old_encoding, "certs", key);
  REQUIRE(old_decoded);
  REQUIRE(old_decoded->key_location);
  CHECK(old_decoded->key_location->reader.empty());
  CHECK(old_decoded->key_location->token_serial == "c4rd");

  record.key_location->reader = "Virtual PCD 00 00";
  base::Bytes encoded;
  codec::encode(record, encoded);
  CHECK(encoded.size() > old_encoding.size());
  auto decoded = codec::decode_certificate(encoded, "certs", key);
  REQUIRE(decoded);
  REQUIRE(decoded->key_location);
  CHECK(decoded->key_location->reader == "Virtual PCD 00 00");
  CHECK(*decoded->key_location == *record.key_location);
}
