// crl::RevocationScheduler: what is due when, from the store's state alone.
#include <catch2/catch.hpp>

#include "tests/unit/crl/crl_test_helpers.h"

using namespace signet;
using namespace std::chrono_literals;
using ca::RevocationReason;
using crl::DueWork;
using test::RevocationHarness;

namespace {

std::vector<std::pair<std::string, DueWork::What>> due_list(RevocationHarness& h) {
  auto due = h.scheduler.due();
  INFO((due ? "" : due.error().describe()));
  REQUIRE(due);
  std::vector<std::pair<std::string, DueWork::What>> out;
  for (const auto& w : *due) out.emplace_back(w.ca_name, w.what);
  return out;
}

void run(RevocationHarness& h) {
  auto done = h.scheduler.run_due();
  REQUIRE(done);
  for (const auto& o : *done) {
    INFO(o.work.ca_name << " " << crl::to_string(o.work.what) << ": "
                        << (o.error ? o.error->describe() : ""));
    CHECK_FALSE(o.error);
  }
}

}  // namespace

TEST_CASE("a CA without a CRL gets one, and then nothing is due until the overlap") {
  RevocationHarness h;
  CHECK(due_list(h) == decltype(due_list(h)){{"issuing", DueWork::What::kFullCrl},
                                             {"root", DueWork::What::kFullCrl}});
  auto wakeup = h.scheduler.next_wakeup();
  REQUIRE(wakeup);
  CHECK(*wakeup == std::optional<base::TimePoint>(h.clock.now()));
  run(h);
  CHECK(due_list(h).empty());
  wakeup = h.scheduler.next_wakeup();
  REQUIRE(wakeup);
  REQUIRE(*wakeup);
  auto latest = h.crls.latest("issuing", ca::CrlKind::kFull);
  REQUIRE(latest);
  CHECK(**wakeup == latest->next_update - 60min);
  h.clock.advance(23h - 1min);
  CHECK(due_list(h).empty());
  h.clock.advance(2min);  // inside the 60-minute overlap
  CHECK(due_list(h).size() == 2);
  run(h);
  auto renewed = h.crls.latest("issuing", ca::CrlKind::kFull);
  REQUIRE(renewed);
  CHECK(renewed->number == 2);
}

TEST_CASE("a revocation makes the CA's CRL due, found from the store after a restart") {
  RevocationHarness h;
  run(h);
  auto leaf = h.issue("leaf.test");
  // Revoked by a process that died before it regenerated the CRL: nothing in memory knows.
  h.revoke(leaf, RevocationReason::kKeyCompromise);
  crl::RevocationScheduler fresh(h.crls, &h.signers, h.stores, h.clock);
  auto due = fresh.due();
  REQUIRE(due);
  REQUIRE(due->size() == 1);
  CHECK(due->front().ca_name == "issuing");
  CHECK(due->front().what == DueWork::What::kFullCrl);
  CHECK(due->front().why.find("revocation") != std::string::npos);
  auto done = fresh.on_revocation("issuing");
  REQUIRE(done);
  REQUIRE(done->size() == 1);
  REQUIRE(done->front().crl);
  CHECK(done->front().crl->entries == 1);
  CHECK(due_list(h).empty());
}

TEST_CASE("without regeneration on revocation, a revocation waits for the schedule") {
  RevocationHarness h;
  h.set("issuing", [] {
    ca::CaSettingsUpdate u;
    u.crl_on_revocation = false;
    return u;
  }());
  run(h);
  h.revoke(h.issue("leaf.test"), RevocationReason::kKeyCompromise);
  CHECK(due_list(h).empty());
  auto done = h.scheduler.on_revocation("issuing");
  REQUIRE(done);
  CHECK(done->empty());
}

TEST_CASE("with delta CRLs a revocation makes a delta due, not a full CRL") {
  RevocationHarness h;
  h.set("issuing", [] {
    ca::CaSettingsUpdate u;
    u.delta_crls = true;
    u.delta_crl_validity_minutes = 30;
    return u;
  }());
  CHECK(due_list(h) == decltype(due_list(h)){{"issuing", DueWork::What::kFullCrl},
                                             {"issuing", DueWork::What::kDeltaCrl},
                                             {"root", DueWork::What::kFullCrl}});
  run(h);
  auto full = h.crls.latest("issuing", ca::CrlKind::kFull);
  auto delta = h.crls.latest("issuing", ca::CrlKind::kDelta);
  REQUIRE(full);
  REQUIRE(delta);
  CHECK(delta->base_number == full->number);
  CHECK(due_list(h).empty());

  h.revoke(h.issue("leaf.test"), RevocationReason::kKeyCompromise);
  CHECK(due_list(h) == decltype(due_list(h)){{"issuing", DueWork::What::kDeltaCrl}});
  run(h);
  auto newer = h.crls.latest("issuing", ca::CrlKind::kDelta);
  REQUIRE(newer);
  CHECK(newer->entries == 1);
  CHECK(newer->base_number == full->number);

  // The delta's own schedule: half its validity at most as overlap.
  h.clock.advance(16min);
  CHECK(due_list(h) == decltype(due_list(h)){{"issuing", DueWork::What::kDeltaCrl}});
}

TEST_CASE("settings that would make CRLs due forever are refused") {
  RevocationHarness h;
  ca::CaSettingsUpdate u;
  u.crl_validity_hours = 1;
  u.crl_overlap_minutes = 60;
  auto refused = h.authority.update_settings("issuing", u);
  REQUIRE_FALSE(refused);
  CHECK(refused.error().describe().find("crl_overlap_minutes") != std::string::npos);
  ca::CaSettingsUpdate range;
  range.crl_validity_hours = 0;
  CHECK_FALSE(h.authority.update_settings("issuing", range));
  ca::CaSettingsUpdate history;
  history.crl_history = 0;
  CHECK_FALSE(h.authority.update_settings("issuing", history));
}
