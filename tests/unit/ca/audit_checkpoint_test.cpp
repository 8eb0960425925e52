// ca::AuditCheckpointer and ca::AuditLogVerifier over the in-memory store and a software key:
// what verification names for each kind of tampering, and the unprotected tail.
#include <catch2/catch.hpp>

#include "ca/audit.h"
#include "ca/audit_checkpoint.h"
#include "tests/support/memory_store.h"
#include "tests/support/software_signer.h"

using namespace signet;

namespace {

base::TimePoint at(int seconds) { return base::from_unix_seconds(1900000000 + seconds); }

struct Harness {
  test::MemoryStore store;
  test::SoftwareKeyProvider keys;
  base::FixedClock clock{at(1000)};
  ca::AuditCheckpointer checkpointer{keys, store, store, clock, {}};

  void append(int from, int to) {
    for (int i = from; i <= to; ++i) {
      REQUIRE(store.append_audit(
          ca::make_audit_event(at(i), "cli:test", "note", "n:" + std::to_string(i), "{}")));
    }
  }
  std::uint64_t checkpoint() {
    auto made = checkpointer.checkpoint("cli:test", false);
    REQUIRE(made);
    REQUIRE(made->has_value());
    return (*made)->sequence;
  }
  ca::AuditChainReport verify() {
    auto key = checkpointer.audit_key(false);
    REQUIRE(key);
    auto report = ca::verify_audit_log(store, store, (*key)->public_key_der());
    REQUIRE(report);
    return std::move(*report);
  }
};

}  // namespace

TEST_CASE("an audit log without checkpoints verifies with its whole length as the tail") {
  Harness h;
  h.append(1, 3);
  auto report = ca::verify_audit_log(h.store, h.store, {});
  REQUIRE(report);
  CHECK(report->ok());
  CHECK(report->unprotected == 3);
  CHECK(report->tail == "no checkpoint: 3 entries are protected by the hash chain alone");
  auto made = h.checkpointer.checkpoint("cli:test", false);
  REQUIRE(made);
  CHECK((*made)->sequence == 3);
}

TEST_CASE("an empty audit log has nothing to sign") {
  Harness h;
  auto made = h.checkpointer.checkpoint("cli:test", false);
  REQUIRE_FALSE(made);
  CHECK(made.error().code() == base::ErrorCode::kInvalidArgument);
}

TEST_CASE("verification names each kind of tampering and the checkpoint that caught it") {
  Harness h;
  h.append(1, 4);
  REQUIRE(h.checkpoint() == 4);  // event 5
  h.append(6, 8);
  REQUIRE(h.checkpoint() == 8);  // event 9
  h.append(10, 10);
  auto report = h.verify();
  REQUIRE(report.ok());
  CHECK(report.checkpoints == 2);
  CHECK(report.tail == "2 entries after the last checkpoint at sequence 8");
  auto& log = h.store.audit_entries();

  SECTION("an entry altered in place") {
    log[6].object = "n:changed";  // entry 7
    report = h.verify();
    CHECK(report.first_bad_sequence == 7);
    CHECK(report.caught_by == 8);
    CHECK_THAT(report.problem, Catch::StartsWith("altered: audit entry 7"));
  }
  SECTION("an entry after the last checkpoint") {
    log[9].object = "n:changed";  // entry 10
    report = h.verify();
    CHECK(report.first_bad_sequence == 10);
    CHECK_FALSE(report.caught_by.has_value());
    CHECK_THAT(report.problem, Catch::EndsWith("(no signed checkpoint covers it)"));
  }
  SECTION("an entry altered and the chain recomputed after it") {
    log[5].actor = "cli:intruder";  // entry 6
    base::Bytes previous = log[4].hash;
    for (std::size_t i = 5; i < log.size(); ++i) {
      log[i].previous_hash = previous;
      log[i].hash = ca::audit_entry_hash(log[i], previous);
      previous = log[i].hash;
    }
    REQUIRE(ca::verify_audit_chain(h.store)->ok());
    report = h.verify();
    CHECK_FALSE(report.first_bad_sequence.has_value());
    CHECK(report.caught_by == 8);
    CHECK_THAT(report.problem, Catch::Contains("an entry from 5 to 8 was altered"));
  }
  SECTION("the log cut short below the last checkpoint") {
    log.resize(6);
    report = h.verify();
    CHECK(report.first_bad_sequence == 7);
    CHECK(report.caught_by == 8);
    CHECK_THAT(report.problem, Catch::StartsWith("truncated"));
  }
  SECTION("a checkpoint deleted beside the log") {
    h.store.checkpoints().erase(4);
    report = h.verify();
    CHECK_THAT(report.problem, Catch::StartsWith("missing checkpoint: audit entry 5"));
  }
  SECTION("a checkpoint's signature altered") {
    h.store.checkpoints()[8].signature.back() ^= 0x01;
    report = h.verify();
    CHECK(report.caught_by == 8);
    CHECK_THAT(report.problem, Catch::StartsWith("forged checkpoint"));
  }
}

TEST_CASE("a retired audit key vouches only for checkpoints made before its rotation") {
  Harness h;
  h.append(1, 3);
  REQUIRE(h.checkpoint() == 3);  // event 4
  auto old_key = h.checkpointer.audit_key(false);
  REQUIRE(old_key);
  auto rotation = h.checkpointer.rotate_key(
      "cli:test", [](const base::KeyRef&, std::string_view) { return base::ok(); });
  REQUIRE(rotation);  // event 5: audit.key_rotated
  h.append(6, 7);
  REQUIRE(h.checkpoint() == 7);  // event 8, with the new key
  const std::vector<base::Bytes> trusted = {rotation->current->public_key_der(),
                                            rotation->retired_public_key};
  auto good = ca::verify_audit_log_with_keys(h.store, h.store, trusted);
  REQUIRE(good);
  CHECK(good->ok());
  CHECK(good->checkpoints == 2);

  // Someone who still holds the retired key signs the head after the rotation.
  h.append(9, 10);
  auto head = h.store.last_audit_event();
  REQUIRE(head);
  REQUIRE(head->has_value());
  ca::AuditCheckpoint forged;
  forged.sequence = (*head)->sequence;
  forged.head = (*head)->hash;
  forged.signed_at = at(2000);
  forged.algorithm = (*old_key)->algorithm();
  forged.public_key_der = (*old_key)->public_key_der();
  auto signature =
      (*old_key)->sign(ca::checkpoint_message(forged.sequence, forged.head, forged.signed_at));
  REQUIRE(signature);
  forged.signature = std::move(*signature);
  REQUIRE(h.store.append_checkpoint(
      forged, ca::make_audit_event(at(2000), "cli:test", std::string(ca::kCheckpointAction),
                                   "audit:checkpoint", "{\"sequence\":10}")));
  auto report = ca::verify_audit_log_with_keys(h.store, h.store, trusted);
  REQUIRE(report);
  CHECK_FALSE(report->ok());
  CHECK(report->problem ==
        "forged checkpoint: the checkpoint at sequence 10 is signed with the audit key retired at "
        "entry 5 (a retired key signs nothing after its rotation)");
}
