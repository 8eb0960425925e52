// The store's revocation reads for CRLs and OCSP: the per-CA revoked table written with every
// revocation, the full scan in numeric serial order, the delta scan in sequence order, the
// status of one serial, and the CA settings the CRL and OCSP services keep on the CA record.
// LmdbStore and the in-memory store answer the same way.
#include <catch2/catch.hpp>

#include <algorithm>
#include <chrono>
#include <random>

#include "store/internal/codec.h"
#include "store/internal/tlv.h"
#include "tests/integration/store/store_fixtures.h"
#include "tests/support/memory_store.h"

using namespace signet;
using namespace signet::store;
using namespace signet::store::testing;
using base::ErrorCode;

namespace {

pki::SerialNumber serial_hex(std::string_view hex) {
  auto serial = pki::SerialNumber::from_hex(hex);
  REQUIRE(serial);
  return *serial;
}

ca::Revocation revocation(int reason, int on_day,
                          std::optional<base::TimePoint> invalidity = std::nullopt) {
  return ca::Revocation{day(on_day) + std::chrono::milliseconds(on_day), reason, invalidity, 0};
}

// What a visitor saw of one entry (the serial copied out of the view).
struct Seen {
  std::string serial;  // hex of the magnitude
  base::TimePoint revoked_at{};
  int reason = 0;
  std::optional<base::TimePoint> invalidity_date;
  base::TimePoint not_after{};
  std::uint64_t sequence = 0;
  bool operator==(const Seen&) const = default;
};

class Collector final : public ca::RevokedVisitor {
 public:
  void begin(std::uint64_t at_most) override {
    ++begins;
    this->at_most = at_most;
  }
  base::Result<void> visit(const ca::RevokedEntry& entry) override {
    if (stop_after && seen.size() == *stop_after) {
      return base::Error(ErrorCode::kIoError, "the CRL file could not be written");
    }
    seen.push_back(Seen{base::to_hex_upper(entry.serial), entry.revoked_at, entry.reason,
                        entry.invalidity_date, entry.not_after, entry.sequence});
    return base::ok();
  }

  int begins = 0;
  std::uint64_t at_most = 0;
  std::optional<std::size_t> stop_after;
  std::vector<Seen> seen;
};

std::vector<std::string> serials_of(const std::vector<Seen>& seen) {
  std::vector<std::string> out;
  for (const auto& s : seen) out.push_back(s.serial);
  return out;
}

ca::RevokedScan scan(ca::Inventory& inventory, std::string_view ca_name, Collector& collector) {
  auto done = inventory.scan_revoked(ca_name, collector);
  if (!done) FAIL(done.error().describe());
  CHECK(collector.begins == 1);
  CHECK(collector.at_most >= done->entries);
  CHECK(done->entries == collector.seen.size());
  return *done;
}

ca::RevokedScan scan_since(ca::Inventory& inventory, std::string_view ca_name, std::uint64_t after,
                           Collector& collector) {
  auto done = inventory.scan_revoked_since(ca_name, after, collector);
  if (!done) FAIL(done.error().describe());
  CHECK(collector.begins == 1);
  CHECK(collector.at_most >= done->entries);
  CHECK(done->entries == collector.seen.size());
  return *done;
}

// The same writes into both stores: revoked through each path, several CAs and a discovered
// certificate. Returns the ids (equal in both stores).
struct Population {
  std::uint64_t revoked_by_call = 0;   // root, revoked through revoke_certificate
  std::uint64_t recorded_revoked = 0;  // root, recorded already revoked (with invalidity date)
  std::uint64_t superseded = 0;        // root, revoked by its rekey's commit
  std::uint64_t rekeyed = 0;           // its successor, good
  std::uint64_t good = 0;              // root, never revoked
  std::uint64_t other_ca = 0;          // issuing, revoked
  std::uint64_t discovered = 0;        // no CA, recorded revoked
};

Population populate(ca::Inventory& inventory) {
  Population p;
  auto put = [&](ca::CertificateRecord r) {
    auto id = inventory.put_certificate(std::move(r), std::nullopt);
    if (!id) FAIL(id.error().describe());
    return *id;
  };
  p.revoked_by_call = put(make_record("root", 1, day(100)));
  auto recorded = make_record("root", 2, day(200));
  recorded.revocation = revocation(1, 3, day(-5) + std::chrono::nanoseconds(7));
  p.recorded_revoked = put(recorded);
  p.superseded = put(make_record("root", 3, day(300)));
  p.good = put(make_record("root", 4, day(400)));
  p.other_ca = put(make_record("issuing", 5, day(500)));
  auto discovered = make_record("", 6, day(600));
  discovered.source = ca::CertificateSource::kDiscovered;
  discovered.revocation = revocation(0, 2);
  p.discovered = put(discovered);

  REQUIRE(inventory.revoke_certificate({p.other_ca, revocation(9, 4), {}, std::nullopt}));
  REQUIRE(inventory.revoke_certificate({p.revoked_by_call, revocation(5, 5), {}, std::nullopt}));
  ca::CertificateCommit rekey;
  rekey.record = make_record("root", 7, day(700));
  rekey.record.predecessor_id = p.superseded;
  rekey.revoke_predecessor = revocation(4, 6);
  auto rekeyed = inventory.commit_certificate_async(std::move(rekey)).get();
  REQUIRE(rekeyed);
  p.rekeyed = *rekeyed;
  return p;
}

}  // namespace

TEST_CASE("every revocation path writes the CA's revoked table in its transaction") {
  test::TempDir dir;
  auto store = open_store(dir.path());
  test::MemoryStore reference;
  const auto p = populate(*store);
  populate(reference);

  // Sequences: recorded revoked 1, discovered 2, issuing 3, by call 4, superseded 5.
  Collector root;
  const auto full = scan(*store, "root", root);
  CHECK(full.revocation_sequence == 5);
  REQUIRE(root.seen.size() == 3);
  const Seen by_call{base::to_hex_upper(serial_of(1).magnitude()),
                     revocation(5, 5).revoked_at,
                     5,
                     std::nullopt,
                     day(100),
                     4};
  const Seen recorded{base::to_hex_upper(serial_of(2).magnitude()),
                      revocation(1, 3).revoked_at,
                      1,
                      day(-5) + std::chrono::nanoseconds(7),
                      day(200),
                      1};
  const Seen superseded{base::to_hex_upper(serial_of(3).magnitude()),
                        revocation(4, 6).revoked_at,
                        4,
                        std::nullopt,
                        day(300),
                        5};
  CHECK(root.seen == std::vector<Seen>{by_call, recorded, superseded});

  Collector issuing;
  CHECK(scan(*store, "issuing", issuing).entries == 1);
  CHECK(issuing.seen.front().sequence == 3);
  // A discovered certificate is on no CRL of ours; an unknown CA has none.
  for (const char* name : {"", "nobody", "roo"}) {
    Collector none;
    const auto empty = scan(*store, name, none);
    CHECK(empty.entries == 0);
    CHECK(empty.revocation_sequence == 5);
  }

  // The in-memory store saw the same writes and answers the same.
  Collector memory;
  const auto memory_scan = scan(reference, "root", memory);
  CHECK(memory.seen == root.seen);
  CHECK(memory_scan.revocation_sequence == 5);

  auto report = store->check_integrity();
  REQUIRE(report);
  for (const auto& problem : report->problems) UNSCOPED_INFO(problem);
  REQUIRE(report->ok());
  CHECK(report->revoked_entries == 4);
  CHECK(p.good != 0);
}

TEST_CASE("a revocation reason outside RFC 5280's codes is refused on every path") {
  test::TempDir dir;
  auto store = open_store(dir.path());
  auto id = store->put_certificate(make_record("root", 1), std::nullopt);
  REQUIRE(id);
  auto by_call = store->revoke_certificate({*id, revocation(11, 1), {}, std::nullopt});
  REQUIRE_FALSE(by_call);
  CHECK(by_call.error().code() == ErrorCode::kInvalidArgument);
  auto recorded = make_record("root", 2);
  recorded.revocation = revocation(-1, 1);
  auto put = store->put_certificate(recorded, std::nullopt);
  REQUIRE_FALSE(put);
  CHECK(put.error().code() == ErrorCode::kInvalidArgument);
  ca::CertificateCommit rekey;
  rekey.record = make_record("root", 3);
  rekey.record.predecessor_id = *id;
  rekey.revoke_predecessor = revocation(200, 1);
  auto committed = store->commit_certificate_async(rekey).get();
  REQUIRE_FALSE(committed);
  CHECK(committed.error().code() == ErrorCode::kInvalidArgument);
  Collector none;
  CHECK(scan(*store, "root", none).revocation_sequence == 0);
  require_consistent(*store);
}

TEST_CASE("a full scan visits serials in numeric order, one CA only, with minimal serials") {
  test::TempDir dir;
  auto store = open_store(dir.path());
  test::MemoryStore reference;
  // Numeric order differs from byte order whenever the lengths differ.
  const std::vector<std::string> ascending = {
      "01",
      "7F",
      "FF",
      "0100",
      "0101",
      "FFFF",
      "010000",
      "42000000000000000000000000000001",
      "42000000000000000000000000000002",
      "FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF",
      "7FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF"};  // the largest: 20 octets of DER
  std::vector<std::size_t> order(ascending.size());
  for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::shuffle(order.begin(), order.end(), std::mt19937(7));
  std::uint64_t n = 0;
  for (const std::size_t i : order) {
    // The same serials under CAs whose names share a prefix with "root".
    for (const char* ca : {"root", "roo", "root-2"}) {
      auto r = make_record(ca, ++n);
      r.serial = serial_hex(ascending[i]);
      r.revocation = revocation(static_cast<int>(i % 6), static_cast<int>(i));
      REQUIRE(store->put_certificate(r, std::nullopt));
      REQUIRE(reference.put_certificate(r, std::nullopt));
    }
  }
  auto good = make_record("root", ++n);
  good.serial = serial_hex("80");
  REQUIRE(store->put_certificate(good, std::nullopt));

  for (const char* ca : {"root", "roo", "root-2"}) {
    Collector seen;
    const auto done = scan(*store, ca, seen);
    CHECK(done.entries == ascending.size());
    CHECK(done.revocation_sequence == 3 * ascending.size());
    CHECK(seen.at_most >= ascending.size());
    CHECK(serials_of(seen.seen) == ascending);
    Collector memory;
    scan(reference, ca, memory);
    CHECK(memory.seen == seen.seen);
  }
  require_consistent(*store);
}

TEST_CASE("a visitor's error stops the scan and is what the scan returns") {
  test::TempDir dir;
  auto store = open_store(dir.path());
  for (std::uint64_t n = 1; n <= 5; ++n) {
    auto r = make_record("root", n);
    r.revocation = revocation(1, 1);
    REQUIRE(store->put_certificate(r, std::nullopt));
  }
  for (bool since : {false, true}) {
    Collector stopping;
    stopping.stop_after = 2;
    auto done = since ? store->scan_revoked_since("root", 0, stopping)
                      : store->scan_revoked("root", stopping);
    REQUIRE_FALSE(done);
    CHECK(done.error().code() == ErrorCode::kIoError);
    CHECK(done.error().message() == "the CRL file could not be written");
    CHECK(stopping.seen.size() == 2);
  }
}

TEST_CASE("a delta scan visits the CA's revocations after a sequence, in sequence order") {
  test::TempDir dir;
  auto store = open_store(dir.path());
  test::MemoryStore reference;
  const auto p = populate(*store);
  populate(reference);

  for (ca::Inventory* inventory :
       {static_cast<ca::Inventory*>(store.get()), static_cast<ca::Inventory*>(&reference)}) {
    Collector all;
    const auto since_start = scan_since(*inventory, "root", 0, all);
    CHECK(since_start.revocation_sequence == 5);
    CHECK(serials_of(all.seen) ==
          std::vector<std::string>{base::to_hex_upper(serial_of(2).magnitude()),
                                   base::to_hex_upper(serial_of(1).magnitude()),
                                   base::to_hex_upper(serial_of(3).magnitude())});
    std::vector<std::uint64_t> sequences;
    for (const auto& s : all.seen) sequences.push_back(s.sequence);
    CHECK(sequences == std::vector<std::uint64_t>{1, 4, 5});
    CHECK(all.seen.front().invalidity_date == day(-5) + std::chrono::nanoseconds(7));
    CHECK(all.seen.front().not_after == day(200));

    Collector after_three;
    scan_since(*inventory, "root", 3, after_three);
    CHECK(after_three.seen.size() == 2);
    CHECK(after_three.seen.front().sequence == 4);

    Collector nothing_new;
    const auto none = scan_since(*inventory, "root", 5, nothing_new);
    CHECK(none.entries == 0);
    CHECK(none.revocation_sequence == 5);

    Collector issuing;
    scan_since(*inventory, "issuing", 0, issuing);
    REQUIRE(issuing.seen.size() == 1);
    CHECK(issuing.seen.front().reason == 9);

    Collector discovered;
    CHECK(scan_since(*inventory, "", 0, discovered).entries == 0);
  }

  // A full scan and a delta scan from its sequence together see every revocation.
  Collector full;
  const auto base = scan(*store, "root", full);
  REQUIRE(store->revoke_certificate({p.good, revocation(1, 9), {}, std::nullopt}));
  Collector delta;
  const auto later = scan_since(*store, "root", base.revocation_sequence, delta);
  REQUIRE(delta.seen.size() == 1);
  CHECK(delta.seen.front().serial == base::to_hex_upper(serial_of(4).magnitude()));
  CHECK(later.revocation_sequence == base.revocation_sequence + 1);
}

TEST_CASE("serial status answers good, revoked and unknown from a few point reads") {
  test::TempDir dir;
  auto store = open_store(dir.path());
  test::MemoryStore reference;
  const auto p = populate(*store);
  populate(reference);

  for (ca::Inventory* inventory :
       {static_cast<ca::Inventory*>(store.get()), static_cast<ca::Inventory*>(&reference)}) {
    auto good = inventory->serial_status("root", serial_of(4));
    REQUIRE(good);
    REQUIRE(good->has_value());
    CHECK((*good)->certificate_id == p.good);
    CHECK((*good)->not_after == day(400));
    CHECK_FALSE((*good)->revocation);

    auto revoked = inventory->serial_status("root", serial_of(2));
    REQUIRE(revoked);
    REQUIRE(revoked->has_value());
    CHECK((*revoked)->certificate_id == p.recorded_revoked);
    CHECK((*revoked)->not_after == day(200));
    REQUIRE((*revoked)->revocation);
    CHECK((*revoked)->revocation->revoked_at == revocation(1, 3).revoked_at);
    CHECK((*revoked)->revocation->reason == 1);
    CHECK((*revoked)->revocation->invalidity_date == day(-5) + std::chrono::nanoseconds(7));
    CHECK((*revoked)->revocation->sequence == 1);

    auto superseded = inventory->serial_status("root", serial_of(3));
    REQUIRE(superseded);
    REQUIRE(superseded->has_value());
    CHECK((*superseded)->revocation->reason == 4);
    CHECK((*superseded)->revocation->sequence == 5);

    // Unknown: a serial the CA never issued, another CA's serial, a discovered certificate's.
    for (auto [ca, serial] : {std::pair{"root", serial_of(99)}, std::pair{"root", serial_of(5)},
                              std::pair{"issuing", serial_of(4)}, std::pair{"", serial_of(6)},
                              std::pair{"nobody", serial_of(1)}}) {
      auto unknown = inventory->serial_status(ca, serial);
      REQUIRE(unknown);
      CHECK_FALSE(unknown->has_value());
    }
  }
}

TEST_CASE("the CRL and OCSP settings and the OCSP signer round-trip; old records read defaults") {
  ca::CaRecord record;
  record.name = "root";
  record.settings.base_url = "http://pki.example";
  record.settings.default_validity_days = 90;
  record.settings.crl_validity_hours = 48;
  record.settings.crl_overlap_minutes = 0;
  record.settings.crl_on_revocation = false;
  record.settings.delta_crls = true;
  record.settings.delta_crl_validity_minutes = 15;
  record.settings.crl_expired_grace_days = -1;
  record.settings.crl_history = 3;
  record.settings.ocsp_signing = ca::OcspSigning::kDelegated;
  record.settings.ocsp_validity_minutes = 240;
  record.settings.ocsp_signer_validity_days = 7;
  record.settings.ocsp_signer_renew_before_days = 2;
  record.ocsp_signer_certificate_id = 42;

  test::TempDir dir;
  {
    auto store = open_store(dir.path());
    REQUIRE(store->create_ca(record, std::nullopt));
  }
  auto store = open_store(dir.path());
  auto found = store->find_ca("root");
  REQUIRE(found);
  REQUIRE(found->has_value());
  const auto& s = (*found)->settings;
  CHECK(s.base_url == "http://pki.example");
  CHECK(s.default_validity_days == 90);
  CHECK(s.crl_validity_hours == 48);
  CHECK(s.crl_overlap_minutes == 0);
  CHECK_FALSE(s.crl_on_revocation);
  CHECK(s.delta_crls);
  CHECK(s.delta_crl_validity_minutes == 15);
  CHECK(s.crl_expired_grace_days == -1);
  CHECK(s.crl_history == 3);
  CHECK(s.ocsp_signing == ca::OcspSigning::kDelegated);
  CHECK(s.ocsp_validity_minutes == 240);
  CHECK(s.ocsp_signer_validity_days == 7);
  CHECK(s.ocsp_signer_renew_before_days == 2);
  CHECK((*found)->ocsp_signer_certificate_id == 42);

  // A CA record as the previous build wrote it: settings with only the base URL and the
  // default validity, and no OCSP signer.
  base::Bytes settings, old;
  codec::tlv::Writer sw(settings);
  sw.text(1, "http://old.example");
  sw.i64(2, 30);
  old.push_back(codec::kFormatVersion);
  codec::tlv::Writer w(old);
  w.text(1, "old");
  w.bytes(12, settings);
  auto decoded = codec::decode_ca(old, "cas", base::as_bytes(std::string_view("old")));
  REQUIRE(decoded);
  const ca::CaSettings defaults;
  CHECK(decoded->settings.base_url == "http://old.example");
  CHECK(decoded->settings.default_validity_days == 30);
  CHECK(decoded->settings.crl_validity_hours == defaults.crl_validity_hours);
  CHECK(decoded->settings.crl_overlap_minutes == defaults.crl_overlap_minutes);
  CHECK(decoded->settings.crl_on_revocation == defaults.crl_on_revocation);
  CHECK(decoded->settings.delta_crls == defaults.delta_crls);
  CHECK(decoded->settings.delta_crl_validity_minutes == defaults.delta_crl_validity_minutes);
  CHECK(decoded->settings.crl_expired_grace_days == defaults.crl_expired_grace_days);
  CHECK(decoded->settings.crl_history == defaults.crl_history);
  CHECK(decoded->settings.ocsp_signing == defaults.ocsp_signing);
  CHECK(decoded->settings.ocsp_validity_minutes == defaults.ocsp_validity_minutes);
  CHECK(decoded->settings.ocsp_signer_validity_days == defaults.ocsp_signer_validity_days);
  CHECK(decoded->settings.ocsp_signer_renew_before_days == defaults.ocsp_signer_renew_before_days);
  CHECK(decoded->ocsp_signer_certificate_id == 0);
}

TEST_CASE("the integrity check names a revoked entry that does not match its record") {
  test::TempDir dir;
  {
    auto store = open_store(dir.path());
    for (std::uint64_t n = 1; n <= 3; ++n) {
      auto r = make_record("root", n);
      r.revocation = revocation(1, 1);
      REQUIRE(store->put_certificate(r, std::nullopt));
    }
    REQUIRE(store->put_certificate(make_record("root", 4), std::nullopt));
  }
  SECTION("a missing entry") {
    with_raw_store(dir.path(), [&](lmdb::Transaction& txn, schema::Tables& t) {
      REQUIRE(*txn.del(t.revoked, schema::revoked_key("root", serial_of(2)).view()));
    });
    auto store = open_store(dir.path());
    auto report = store->check_integrity();
    REQUIRE(report);
    REQUIRE(report->problems.size() == 1);
    CHECK_THAT(report->problems[0], Catch::Contains("2 valid entries for 3"));
  }
  SECTION("an entry for a certificate that is not revoked") {
    with_raw_store(dir.path(), [&](lmdb::Transaction& txn, schema::Tables& t) {
      auto value = txn.get(t.revoked, schema::revoked_key("root", serial_of(1)).view());
      REQUIRE(value);
      REQUIRE(value->has_value());
      const base::Bytes copy((*value)->begin(), (*value)->end());
      REQUIRE(txn.put(t.revoked, schema::revoked_key("root", serial_of(4)).view(), copy));
    });
    auto store = open_store(dir.path());
    auto report = store->check_integrity();
    REQUIRE(report);
    REQUIRE(report->problems.size() == 1);
    CHECK_THAT(report->problems[0], Catch::Contains("names no revoked certificate"));
  }
  SECTION("an entry with another reason") {
    with_raw_store(dir.path(), [&](lmdb::Transaction& txn, schema::Tables& t) {
      const auto key = schema::revoked_key("root", serial_of(3));
      auto value = txn.get(t.revoked, key.view());
      REQUIRE(value);
      REQUIRE(value->has_value());
      base::Bytes changed((*value)->begin(), (*value)->end());
      changed[24] = 4;  // the reason byte
      REQUIRE(txn.put(t.revoked, key.view(), changed));
    });
    auto store = open_store(dir.path());
    auto report = store->check_integrity();
    REQUIRE(report);
    REQUIRE(report->problems.size() == 2);
    CHECK_THAT(report->problems[0], Catch::Contains("does not match the revocation"));
    CHECK_THAT(report->problems[1], Catch::Contains("2 valid entries for 3"));
  }
}

// A long scan lets go of the map pages it has passed every 32,768 entries
// (lmdb::Environment::release_mapped_pages); what it reads afterwards must be unchanged. The
// revoked table is filled directly (the scan needs no certificate records).
TEST_CASE("a scan longer than the page-release interval sees every entry, in order") {
  constexpr std::uint64_t kEntries = 70'000;
  test::TempDir dir;
  std::filesystem::path store_dir;
  {
    auto store = open_store(dir.path());
    store_dir = store->path();
  }
  {
    auto env = lmdb::Environment::open(store_dir, {});
    REQUIRE(env);
    auto txn = lmdb::Transaction::begin_write(**env);
    REQUIRE(txn);
    auto tables = schema::open_tables(*txn, false);
    REQUIRE(tables);
    ca::CertificateRecord record;
    record.ca_name = "big";
    record.not_after = day(365);
    record.revocation = ca::Revocation{day(1), 1, std::nullopt, 0};
    for (std::uint64_t n = 1; n <= kEntries; ++n) {
      record.serial = serial_of(n);
      record.revocation->sequence = n;
      const auto key = schema::revoked_key("big", record.serial);
      REQUIRE(txn->put(tables->revoked, key.view(), schema::revoked_value(record).view()));
    }
    REQUIRE(txn->commit());
  }
  auto store = open_store(dir.path());
  Collector all;
  auto scan = store->scan_revoked("big", all);
  REQUIRE(scan);
  CHECK(scan->entries == kEntries);
  const auto serials = serials_of(all.seen);
  REQUIRE(serials.size() == kEntries);
  CHECK(std::is_sorted(serials.begin(), serials.end()));
  CHECK(serials.front() == base::to_hex_upper(serial_of(1).magnitude()));
  CHECK(serials.back() == base::to_hex_upper(serial_of(kEntries).magnitude()));
  CHECK(all.seen[40'000].sequence == 40'001);
  // Reads after the release still see the same data.
  Collector again;
  REQUIRE(store->scan_revoked("big", again));
  CHECK(again.seen == all.seen);
}
