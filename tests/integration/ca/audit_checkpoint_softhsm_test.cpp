// Signed audit checkpoints over the real parts: the audit key on a SoftHSM token, the log and
// its checkpoints in LMDB. Tampering is done directly in the LMDB environment (a field
// rewritten, an entry deleted, two swapped, the log cut short, the chain recomputed after an
// edit, a checkpoint deleted or signed by another key), and each is named by
// ca::verify_audit_log. OpenSSL checks a checkpoint's signature over the documented message.
#include <catch2/catch.hpp>

#include <algorithm>

#include "ca/audit.h"
#include "ca/audit_checkpoint.h"
#include "hsm/key_provider.h"
#include "pki/pem.h"
#include "store/internal/codec.h"
#include "tests/integration/store/store_fixtures.h"
#include "tests/support/softhsm_token.h"

using namespace signet;
using namespace signet::store;
using namespace signet::store::testing;

namespace {

// The audit key on a SoftHSM token, a store in a temporary directory, and a checkpointer.
struct CheckpointFixture {
  test::SoftHsmToken token;  // first: outlives every signer
  test::TempDir dir;
  std::shared_ptr<hsm::Pkcs11KeyProvider> keys;
  base::FixedClock clock{day(10)};
  std::unique_ptr<LmdbStore> store;
  std::unique_ptr<ca::AuditCheckpointer> checkpointer;

  CheckpointFixture() {
    auto provider = hsm::Pkcs11KeyProvider::create({token.module()}, token.label(),
                                                   test::SoftHsmToken::pin_source());
    REQUIRE(provider);
    keys = std::move(*provider);
    open();
  }
  ~CheckpointFixture() {
    close();
    keys.reset();
  }
  void open() {
    store = open_store(dir.path());
    checkpointer = std::make_unique<ca::AuditCheckpointer>(
        *keys, *store, *store, clock, ca::AuditCheckpointer::Options{token.label(), {}});
  }
  void close() {
    checkpointer.reset();
    store.reset();
  }
  void append(int from, int to) {
    for (int i = from; i <= to; ++i) {
      REQUIRE(store->append_audit(audit_event(day(1) + std::chrono::seconds(i), "cli:test", "note",
                                              "n:" + std::to_string(i),
                                              R"({"n":)" + std::to_string(i) + "}")));
    }
  }
  ca::AuditCheckpoint checkpoint() {
    auto made = checkpointer->checkpoint("cli:test", false);
    INFO((made ? "" : made.error().describe()));
    REQUIRE(made);
    REQUIRE(made->has_value());
    return **made;
  }
  base::Bytes trusted() {
    auto key = checkpointer->audit_key(false);
    REQUIRE(key);
    return (*key)->public_key_der();
  }
  ca::AuditChainReport verify() {
    auto report = ca::verify_audit_log(*store, *store, trusted());
    REQUIRE(report);
    return std::move(*report);
  }
  // Tampers with the closed store's environment, then reopens it.
  void tamper(const std::function<void(lmdb::Transaction&, schema::Tables&)>& fn) {
    close();
    with_raw_store(dir.path(), fn);
    open();
  }
};

base::Bytes raw_entry(lmdb::Transaction& txn, schema::Tables& t, std::uint64_t sequence) {
  auto value = txn.get(t.audit, schema::id_key(sequence));
  REQUIRE(value);
  REQUIRE(value->has_value());
  return base::Bytes((*value)->begin(), (*value)->end());
}

ca::AuditEvent decoded_entry(lmdb::Transaction& txn, schema::Tables& t, std::uint64_t sequence) {
  const auto key = schema::id_key(sequence);
  auto event = codec::decode_audit(raw_entry(txn, t, sequence), t.audit.name, key);
  REQUIRE(event);
  event->sequence = sequence;
  return std::move(*event);
}

void put_entry(lmdb::Transaction& txn, schema::Tables& t, const ca::AuditEvent& event) {
  base::Bytes encoded;
  codec::encode(event, encoded);
  REQUIRE(txn.put(t.audit, schema::id_key(event.sequence), encoded));
}

// The documented message, built here byte by byte rather than by ca::checkpoint_message.
base::Bytes documented_message(std::uint64_t sequence, base::ByteView head,
                               std::int64_t unix_seconds) {
  const std::string domain = "signet-audit-checkpoint-v1";
  base::Bytes m(domain.begin(), domain.end());
  for (int i = 7; i >= 0; --i) m.push_back(static_cast<std::uint8_t>(sequence >> (8 * i)));
  m.insert(m.end(), head.begin(), head.end());
  const auto s = static_cast<std::uint64_t>(unix_seconds);
  for (int i = 7; i >= 0; --i) m.push_back(static_cast<std::uint8_t>(s >> (8 * i)));
  return m;
}

}  // namespace

TEST_CASE("a checkpoint signs the head with a non-extractable token key that openssl verifies") {
  CheckpointFixture f;
  f.append(1, 5);
  const auto c = f.checkpoint();
  CHECK(c.sequence == 5);
  auto events = f.store->list_audit(0, 100);
  REQUIRE(events);
  REQUIRE(events->size() == 6);
  CHECK(c.head == (*events)[4].hash);
  CHECK((*events)[5].action == "audit.checkpointed");
  CHECK(c.key.object_label == "signet-audit");

  auto attributes = f.keys->read_private_key_attributes(c.key);
  REQUIRE(attributes);
  CHECK(attributes->sensitive);
  CHECK(attributes->never_extractable);
  CHECK_FALSE(attributes->extractable);
  CHECK(attributes->local);

  const auto seconds = base::to_unix_seconds(c.signed_at);
  CHECK(seconds == base::to_unix_seconds(day(10)));
  const auto message = documented_message(c.sequence, c.head, seconds);
  CHECK(message == ca::checkpoint_message(c.sequence, c.head, c.signed_at));
  test::write_text(f.dir / "pub.pem", pki::pem_encode("PUBLIC KEY", f.trusted()));
  test::write_file(f.dir / "msg.bin", message);
  test::write_file(f.dir / "sig.der", c.signature);
  auto openssl = test::run_command("openssl dgst -sha256 -verify " + (f.dir / "pub.pem").string() +
                                   " -signature " + (f.dir / "sig.der").string() + " " +
                                   (f.dir / "msg.bin").string());
  INFO(openssl.output);
  CHECK(openssl.exit_code == 0);
  CHECK(openssl.output.find("Verified OK") != std::string::npos);
  // The same signature over another sequence does not verify.
  test::write_file(f.dir / "msg.bin", documented_message(c.sequence + 1, c.head, seconds));
  openssl = test::run_command("openssl dgst -sha256 -verify " + (f.dir / "pub.pem").string() +
                              " -signature " + (f.dir / "sig.der").string() + " " +
                              (f.dir / "msg.bin").string());
  CHECK(openssl.exit_code != 0);

  auto report = f.verify();
  CHECK(report.ok());
  CHECK(report.checkpoints == 1);
  CHECK(report.last_checkpoint == 5);
  CHECK(report.unprotected == 1);
  CHECK(report.tail == "1 entries after the last checkpoint at sequence 5");

  // Nothing new but the checkpoint's own event: the schedule signs nothing.
  auto again = f.checkpointer->checkpoint("signetd", true);
  REQUIRE(again);
  CHECK_FALSE(again->has_value());
  f.append(7, 7);
  again = f.checkpointer->checkpoint("signetd", true);
  REQUIRE(again);
  REQUIRE(again->has_value());
  CHECK((*again)->sequence == 7);

  // A restarted process finds the same key on the token instead of making another.
  f.close();
  f.open();
  auto key = f.checkpointer->audit_key(false);
  REQUIRE(key);
  CHECK((*key)->key_ref() == c.key);
}

TEST_CASE("the store refuses a checkpoint that does not match its chain or moves backwards") {
  CheckpointFixture f;
  f.append(1, 3);
  auto c = f.checkpoint();
  auto event = audit_event(day(2), "cli:test", "audit.checkpointed", "x");
  auto forged = c;
  forged.sequence = 8;  // past the head
  forged.head = (*f.store->last_audit_event())->hash;
  auto refused = f.store->append_checkpoint(forged, event);
  REQUIRE_FALSE(refused);
  CHECK(refused.error().code() == base::ErrorCode::kConflict);
  forged = c;
  forged.sequence = 4;
  forged.head = c.head;  // entry 4 has another hash
  refused = f.store->append_checkpoint(forged, event);
  REQUIRE_FALSE(refused);
  CHECK(refused.error().code() == base::ErrorCode::kConflict);
  CHECK_THAT(refused.error().message(), Catch::Contains("not the hash of the audit entry"));
  refused = f.store->append_checkpoint(c, event);  // the same sequence again
  REQUIRE_FALSE(refused);
  CHECK_THAT(refused.error().message(), Catch::Contains("would not move forward"));
  auto listed = f.store->list_checkpoints(0, 10);
  REQUIRE(listed);
  CHECK(listed->size() == 1);
  CHECK(f.store->last_audit_event()->value().sequence == 4);  // nothing of them was written
}

TEST_CASE("tampering done directly in LMDB is named, with the checkpoint that caught it") {
  CheckpointFixture f;
  f.append(1, 10);
  REQUIRE(f.checkpoint().sequence == 10);  // its event is entry 11
  f.append(12, 14);
  REQUIRE(f.verify().ok());

  SECTION("a rewritten field is altered at that entry") {
    f.tamper([](lmdb::Transaction& txn, schema::Tables& t) {
      auto event = decoded_entry(txn, t, 4);
      event.actor = "cli:someone-else";  // hashes left as they were
      put_entry(txn, t, event);
    });
    auto report = f.verify();
    REQUIRE_FALSE(report.ok());
    CHECK(report.first_bad_sequence == 4);
    CHECK(report.caught_by == 10);
    CHECK_THAT(report.problem, Catch::StartsWith("altered: audit entry 4"));
    CHECK_THAT(report.problem, Catch::Contains("checkpoint at sequence 10 covers it"));
  }
  SECTION("a deleted entry is removed") {
    f.tamper([](lmdb::Transaction& txn, schema::Tables& t) {
      REQUIRE(txn.del(t.audit, schema::id_key(4)));
    });
    auto report = f.verify();
    REQUIRE_FALSE(report.ok());
    CHECK(report.first_bad_sequence == 5);
    CHECK_THAT(report.problem, Catch::StartsWith("removed"));
  }
  SECTION("two swapped entries are reordered") {
    f.tamper([](lmdb::Transaction& txn, schema::Tables& t) {
      auto five = raw_entry(txn, t, 5);
      auto six = raw_entry(txn, t, 6);
      REQUIRE(txn.put(t.audit, schema::id_key(5), six));
      REQUIRE(txn.put(t.audit, schema::id_key(6), five));
    });
    auto report = f.verify();
    REQUIRE_FALSE(report.ok());
    CHECK(report.first_bad_sequence == 5);
    CHECK_THAT(report.problem, Catch::StartsWith("reordered"));
  }
  SECTION("a log cut short below the checkpoint is truncated") {
    f.tamper([](lmdb::Transaction& txn, schema::Tables& t) {
      for (std::uint64_t s = 8; s <= 14; ++s) REQUIRE(txn.del(t.audit, schema::id_key(s)));
    });
    CHECK(ca::verify_audit_chain(*f.store)->ok());  // the chain alone cannot tell
    auto report = f.verify();
    REQUIRE_FALSE(report.ok());
    CHECK(report.first_bad_sequence == 8);
    CHECK(report.caught_by == 10);
    CHECK_THAT(report.problem, Catch::StartsWith("truncated: the log ends at entry 7"));
    CHECK_THAT(report.problem, Catch::Contains("entries 8 to 10 were removed"));
  }
  SECTION("an edit with the whole chain recomputed is caught by the checkpoint alone") {
    f.tamper([](lmdb::Transaction& txn, schema::Tables& t) {
      base::Bytes previous = decoded_entry(txn, t, 3).hash;
      for (std::uint64_t s = 4; s <= 14; ++s) {
        auto event = decoded_entry(txn, t, s);
        if (s == 4) event.detail = R"({"n":400})";
        event.previous_hash = previous;
        event.hash = ca::audit_entry_hash(event, previous);
        previous = event.hash;
        put_entry(txn, t, event);
      }
    });
    CHECK(ca::verify_audit_chain(*f.store)->ok());  // consistent in itself
    auto report = f.verify();
    REQUIRE_FALSE(report.ok());
    CHECK_FALSE(report.first_bad_sequence.has_value());
    CHECK(report.caught_by == 10);
    CHECK_THAT(report.problem, Catch::StartsWith("altered: the chain up to audit entry 10 is not "
                                                 "the one the checkpoint at sequence 10 signed"));
    CHECK_THAT(report.problem, Catch::Contains("from 1 to 10"));
  }
  SECTION("a deleted checkpoint is missing") {
    f.tamper([](lmdb::Transaction& txn, schema::Tables& t) {
      REQUIRE(txn.del(t.audit_checkpoints, schema::id_key(10)));
    });
    auto report = f.verify();
    REQUIRE_FALSE(report.ok());
    CHECK_THAT(report.problem,
               Catch::StartsWith("missing checkpoint: audit entry 11 records a checkpoint at "
                                 "sequence 10"));
  }
  SECTION("a checkpoint signed by another key is refused") {
    base::KeyGenerationRequest request;
    request.token = f.token.label();
    request.label = "intruder";
    auto intruder = f.keys->generate_key(request);
    REQUIRE(intruder);
    ca::AuditCheckpoint forged;
    forged.sequence = 14;
    forged.head = (*f.store->last_audit_event())->hash;
    forged.signed_at = day(11);
    forged.key = (*intruder)->key_ref();
    forged.public_key_der = (*intruder)->public_key_der();
    auto signature =
        (*intruder)->sign(ca::checkpoint_message(forged.sequence, forged.head, forged.signed_at));
    REQUIRE(signature);
    forged.signature = *signature;
    // The store checks the chain, not who signed: verification refuses it.
    REQUIRE(f.store->append_checkpoint(
        forged, audit_event(day(11), "intruder", "audit.checkpointed", "x", R"({"sequence":14})")));
    auto report = f.verify();
    REQUIRE_FALSE(report.ok());
    CHECK(report.caught_by == 14);
    CHECK_THAT(report.problem, Catch::StartsWith("forged checkpoint: the checkpoint at sequence "
                                                 "14's signature does not verify"));
    CHECK_THAT(report.problem, Catch::Contains("names another key"));
    // With the intruder's key as the trusted one, the genuine checkpoint is the forgery.
    auto other = ca::verify_audit_log(*f.store, *f.store, (*intruder)->public_key_der());
    REQUIRE(other);
    CHECK_FALSE(other->ok());
    CHECK(other->caught_by == 10);
  }
}
