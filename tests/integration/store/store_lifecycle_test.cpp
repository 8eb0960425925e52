// LmdbStore's certificate lifecycle: commits with orders and predecessors, revocations,
// profiles, orders and alerts (the audit chain's own tests are in store_audit_test.cpp).
#include <catch2/catch.hpp>

#include <atomic>
#include <thread>

#include "ca/audit.h"
#include "store/internal/codec.h"
#include "tests/integration/store/store_fixtures.h"

using namespace signet;
using namespace signet::store;
using namespace signet::store::testing;
using base::ErrorCode;

namespace {

ca::Order make_order(ca::OrderKind kind = ca::OrderKind::kIssue) {
  ca::Order o;
  o.kind = kind;
  o.status = ca::OrderStatus::kPending;
  o.common_name = "host.example";
  o.ca_name = "root";
  o.profile = "web";
  o.profile_version = 3;
  o.key_source = ca::KeySourceKind::kKeyOnToken;
  o.requested_by = "cli:root";
  o.created_at = day(1);
  o.updated_at = day(1) + std::chrono::seconds(5);
  o.warnings = {"sans: a warning", ""};
  o.parameters = R"({"cn":"host.example"})";
  o.generated_key = base::KeyRef{"0a1b", {0x01, 0x02}, "token", "key"};
  o.worker = "pid:1:2";
  o.resubmitted_from = 7;
  return o;
}

ca::Revocation revocation(int reason, int on_day) {
  ca::Revocation r;
  r.revoked_at = day(on_day);
  r.reason = reason;
  return r;
}

std::uint64_t audit_count(LmdbStore& store) {
  auto all = store.list_audit(0, 100000);
  REQUIRE(all);
  return all->size();
}

void require_chain_ok(LmdbStore& store) {
  auto report = ca::verify_audit_chain(store);
  REQUIRE(report);
  INFO(report->problem);
  REQUIRE(report->ok());
}

}  // namespace

TEST_CASE("a certificate commit stores its order, events and renewal link in one transaction") {
  test::TempDir dir;
  auto store = open_store(dir.path());
  auto order_id =
      store->create_order(make_order(ca::OrderKind::kRenew),
                          {audit_event(day(1), "cli:root", "order.created", "order:1")});
  REQUIRE(order_id);
  CHECK(*order_id == 1);
  auto first = store->put_certificate(make_record("root", 1), std::nullopt);
  REQUIRE(first);

  auto order = store->find_order(*order_id);
  REQUIRE(order);
  REQUIRE(order->has_value());
  CHECK((*order)->revision == 1);
  ca::CertificateCommit commit;
  commit.record = make_record("root", 2);
  commit.record.predecessor_id = *first;
  commit.record.order_id = *order_id;
  commit.record.profile_version = 3;
  commit.record.wrapped_key =
      base::WrappedSecret{base::KeyRef{"0a1b", {0x09}, "t", "kek"}, {1, 2, 3}};
  commit.order = **order;
  commit.order->status = ca::OrderStatus::kComplete;
  commit.order->completed_at = day(2);
  commit.events = {audit_event(day(2), "cli:root", "certificate.renewed", "certificate:root/2"),
                   audit_event(day(2), "cli:root", "order.completed", "order:1")};
  const auto audits_before = audit_count(*store);
  auto second = store->commit_certificate_async(commit).get();
  REQUIRE(second);
  CHECK(audit_count(*store) == audits_before + 2);

  auto stored = store->find_certificate_by_id(*second);
  REQUIRE(stored);
  REQUIRE(stored->has_value());
  CHECK((*stored)->predecessor_id == *first);
  CHECK((*stored)->order_id == *order_id);
  CHECK((*stored)->profile_version == 3);
  REQUIRE((*stored)->wrapped_key);
  CHECK((*stored)->wrapped_key->wrapped == base::Bytes{1, 2, 3});
  CHECK((*stored)->wrapped_key->kek.object_label == "kek");
  auto predecessor = store->find_certificate_by_id(*first);
  REQUIRE(predecessor);
  CHECK((*predecessor)->successor_id == *second);
  auto completed = store->find_order(*order_id);
  REQUIRE(completed);
  CHECK((*completed)->status == ca::OrderStatus::kComplete);
  CHECK((*completed)->certificate_id == *second);
  CHECK((*completed)->revision == 2);

  SECTION("a second renewal of the same predecessor is refused and writes nothing") {
    ca::CertificateCommit again;
    again.record = make_record("root", 3);
    again.record.predecessor_id = *first;
    again.events = {audit_event(day(3), "cli:root", "certificate.renewed", "x")};
    auto refused = store->commit_certificate_async(again).get();
    REQUIRE_FALSE(refused);
    CHECK(refused.error().code() == ErrorCode::kConflict);
    CHECK_THAT(refused.error().message(), Catch::Contains("already renewed"));
    auto absent = store->find_certificate("root", serial_of(3));
    REQUIRE(absent);
    CHECK_FALSE(absent->has_value());
    CHECK(audit_count(*store) == audits_before + 2);
  }
  SECTION("a stale order revision is refused and writes nothing") {
    ca::CertificateCommit stale;
    stale.record = make_record("root", 3);
    stale.order = **order;  // revision 1, stored is 2
    stale.events = {audit_event(day(3), "cli:root", "certificate.issued", "x")};
    auto refused = store->commit_certificate_async(stale).get();
    REQUIRE_FALSE(refused);
    CHECK(refused.error().code() == ErrorCode::kConflict);
    CHECK_THAT(refused.error().message(), Catch::Contains("order 1"));
    auto absent = store->find_certificate("root", serial_of(3));
    REQUIRE(absent);
    CHECK_FALSE(absent->has_value());
    CHECK(audit_count(*store) == audits_before + 2);
    auto unchanged = store->find_order(*order_id);
    CHECK((*unchanged)->revision == 2);
  }
  SECTION("a missing predecessor is kNotFound") {
    ca::CertificateCommit orphan;
    orphan.record = make_record("root", 3);
    orphan.record.predecessor_id = 99;
    auto refused = store->commit_certificate_async(orphan).get();
    REQUIRE_FALSE(refused);
    CHECK(refused.error().code() == ErrorCode::kNotFound);
  }
  require_consistent(*store);
  require_chain_ok(*store);
}

TEST_CASE("a rekey may revoke its predecessor; a revoked predecessor is refused unless allowed") {
  test::TempDir dir;
  auto store = open_store(dir.path());
  auto a = store->put_certificate(make_record("root", 1), std::nullopt);
  auto b = store->put_certificate(make_record("root", 2), std::nullopt);
  REQUIRE(a);
  REQUIRE(b);

  ca::CertificateCommit rekey;
  rekey.record = make_record("root", 3);
  rekey.record.predecessor_id = *a;
  rekey.revoke_predecessor = revocation(4, 5);
  auto c = store->commit_certificate_async(rekey).get();
  REQUIRE(c);
  auto revoked = store->find_certificate_by_id(*a);
  REQUIRE((*revoked)->revocation);
  CHECK((*revoked)->revocation->sequence == 1);
  CHECK((*revoked)->revocation->reason == 4);
  CHECK((*revoked)->successor_id == *c);

  REQUIRE(store->revoke_certificate({*b, revocation(1, 6), {}, std::nullopt}));
  ca::CertificateCommit renew;
  renew.record = make_record("root", 4);
  renew.record.predecessor_id = *b;
  auto refused = store->commit_certificate_async(renew).get();
  REQUIRE_FALSE(refused);
  CHECK(refused.error().code() == ErrorCode::kConflict);
  CHECK_THAT(refused.error().message(), Catch::Contains("revoked"));
  renew.predecessor_must_be_unrevoked = false;
  REQUIRE(store->commit_certificate_async(renew).get());
  require_consistent(*store);
}

TEST_CASE("two renewals of one predecessor in one batch: exactly one commits") {
  test::TempDir dir;
  auto store = open_store(dir.path());
  auto a = store->put_certificate(make_record("root", 1), std::nullopt);
  REQUIRE(a);
  std::vector<std::future<base::Result<std::uint64_t>>> pending;
  for (int i = 0; i < 8; ++i) {
    ca::CertificateCommit renew;
    renew.record = make_record("root", 10 + i);
    renew.record.predecessor_id = *a;
    pending.push_back(store->commit_certificate_async(std::move(renew)));
  }
  int committed = 0;
  for (auto& f : pending) {
    auto done = f.get();
    if (done) {
      ++committed;
    } else {
      CHECK(done.error().code() == ErrorCode::kConflict);
    }
  }
  CHECK(committed == 1);
  require_consistent(*store);
}

TEST_CASE("revocations get store-wide sequences; revoking twice is refused and changes nothing") {
  test::TempDir dir;
  auto store = open_store(dir.path());
  std::vector<std::uint64_t> ids;
  for (int n = 1; n <= 4; ++n) {
    auto id = store->put_certificate(make_record(n % 2 ? "root" : "issuing", n), std::nullopt);
    REQUIRE(id);
    ids.push_back(*id);
  }
  auto missing = store->revoke_certificate({999, revocation(1, 2), {}, std::nullopt});
  REQUIRE_FALSE(missing);
  CHECK(missing.error().code() == ErrorCode::kNotFound);

  auto order = store->create_order(make_order(ca::OrderKind::kRevoke), {});
  REQUIRE(order);
  auto stored_order = store->find_order(*order);
  ca::RevocationCommit first{ids[0], revocation(1, 2), {}, **stored_order};
  first.events = {audit_event(day(2), "cli:root", "certificate.revoked", "certificate:1")};
  first.order->status = ca::OrderStatus::kComplete;
  auto revoked = store->revoke_certificate(first);
  REQUIRE(revoked);
  CHECK(revoked->revocation->sequence == 1);
  CHECK(revoked->revocation->revoked_at == day(2));
  CHECK((*store->find_order(*order))->status == ca::OrderStatus::kComplete);

  const auto audits = audit_count(*store);
  auto again = store->revoke_certificate(
      {ids[0], revocation(4, 9), {audit_event(day(9), "a", "b", "c")}, std::nullopt});
  REQUIRE_FALSE(again);
  CHECK(again.error().code() == ErrorCode::kConflict);
  CHECK_THAT(again.error().message(), Catch::Contains("already revoked"));
  CHECK(audit_count(*store) == audits);
  auto unchanged = store->find_certificate_by_id(ids[0]);
  CHECK((*unchanged)->revocation->reason == 1);
  CHECK((*unchanged)->revocation->revoked_at == day(2));

  REQUIRE(store->revoke_certificate({ids[1], revocation(1, 3), {}, std::nullopt}));
  REQUIRE(store->revoke_certificate({ids[2], revocation(1, 4), {}, std::nullopt}));
  auto root = store->list_revocations("root", 0, 10);
  REQUIRE(root);
  REQUIRE(root->size() == 2);
  CHECK((*root)[0].id == ids[0]);
  CHECK((*root)[0].revocation->sequence == 1);
  CHECK((*root)[1].id == ids[2]);
  CHECK((*root)[1].revocation->sequence == 3);
  auto delta = store->list_revocations("root", 1, 10);
  REQUIRE(delta);
  REQUIRE(delta->size() == 1);
  CHECK(delta->front().revocation->sequence == 3);
  auto issuing = store->list_revocations("issuing", 0, 10);
  REQUIRE(issuing);
  REQUIRE(issuing->size() == 1);
  CHECK(issuing->front().revocation->sequence == 2);
  require_consistent(*store);
  require_chain_ok(*store);
}

TEST_CASE("two threads revoking the same certificate: exactly one succeeds") {
  test::TempDir dir;
  auto store = open_store(dir.path());
  for (int round = 0; round < 10; ++round) {
    auto id = store->put_certificate(make_record("root", round + 1), std::nullopt);
    REQUIRE(id);
    std::atomic<int> succeeded{0}, conflicted{0};
    auto revoke = [&](int reason) {
      auto done = store->revoke_certificate({*id, revocation(reason, 3), {}, std::nullopt});
      if (done) {
        ++succeeded;
      } else if (done.error().code() == ErrorCode::kConflict) {
        ++conflicted;
      }
    };
    std::thread t1(revoke, 1), t2(revoke, 4);
    t1.join();
    t2.join();
    CHECK(succeeded == 1);
    CHECK(conflicted == 1);
  }
  require_consistent(*store);
}

TEST_CASE("certificates are found by id and by key location") {
  test::TempDir dir;
  auto store = open_store(dir.path());
  const base::KeyRef key{"0a1b2c", {0x01, 0x02}, "label", "obj"};
  auto a = make_record("root", 1);
  a.key_location = key;
  auto b = make_record("root", 2);
  b.key_location = key;
  auto c = make_record("root", 3);
  c.key_location = base::KeyRef{"0a1b2c", {0x01, 0x03}, "", ""};
  REQUIRE(store->put_certificate(a, std::nullopt));
  REQUIRE(store->put_certificate(b, std::nullopt));
  REQUIRE(store->put_certificate(c, std::nullopt));
  REQUIRE(store->put_certificate(make_record("root", 4), std::nullopt));
  auto found = store->find_certificates_by_key(key);
  REQUIRE(found);
  REQUIRE(found->size() == 2);
  CHECK(found->at(0).id == 1);
  CHECK(found->at(1).id == 2);
  auto none = store->find_certificates_by_key(base::KeyRef{"ffff", {0x01}, "", ""});
  REQUIRE(none);
  CHECK(none->empty());
  auto by_id = store->find_certificate_by_id(3);
  REQUIRE(by_id);
  REQUIRE(by_id->has_value());
  CHECK((*by_id)->serial == serial_of(3));
  auto unknown = store->find_certificate_by_id(42);
  REQUIRE(unknown);
  CHECK_FALSE(unknown->has_value());
}

TEST_CASE("profiles are created once, updated by version, and round-trip every field") {
  test::TempDir dir;
  auto store = open_store(dir.path());
  ca::Profile p;
  p.ca_name = "issuing";
  p.name = "web";
  p.description = "TLS servers";
  p.enabled = false;
  p.key_algorithms = {{base::KeyAlgorithm::kEcP256, base::KeyAlgorithm::kRsa3072},
                      ca::RuleMode::kSoftFail};
  p.validity = {90, 397, ca::RuleMode::kSoftFail};
  p.key_usage = {"digitalSignature", "keyEncipherment"};
  p.extended_key_usage = {"serverAuth", "1.2.3.4"};
  p.subject.required = {"CN"};
  p.subject.allowed = {"CN", "O", ""};
  p.subject.fixed = {{"O", "Example"}, {"C", ""}};
  p.subject.mode = ca::RuleMode::kSoftFail;
  p.sans = {{"example.com", "example.org"}, true, false, true, 10, ca::RuleMode::kSoftFail,
            {"corp.example"}};
  p.created_at = day(1);
  p.updated_at = day(2);
  p.updated_by = "cli:root";
  REQUIRE(store->create_profile(p, audit_event(day(1), "cli:root", "profile.created", "p")));
  auto twice = store->create_profile(p, std::nullopt);
  REQUIRE_FALSE(twice);
  CHECK(twice.error().code() == ErrorCode::kAlreadyExists);

  auto found = store->find_profile("issuing", "web");
  REQUIRE(found);
  REQUIRE(found->has_value());
  const auto& f = **found;
  CHECK(f.version == 1);
  CHECK(f.description == p.description);
  CHECK(f.enabled == false);
  CHECK(f.key_algorithms.allowed == p.key_algorithms.allowed);
  CHECK(f.key_algorithms.mode == ca::RuleMode::kSoftFail);
  CHECK(f.validity.default_days == 90);
  CHECK(f.validity.max_days == 397);
  CHECK(f.validity.mode == ca::RuleMode::kSoftFail);
  CHECK(f.key_usage == p.key_usage);
  CHECK(f.extended_key_usage == p.extended_key_usage);
  CHECK(f.subject.required == p.subject.required);
  CHECK(f.subject.allowed == p.subject.allowed);
  CHECK(f.subject.fixed == p.subject.fixed);
  CHECK(f.subject.mode == ca::RuleMode::kSoftFail);
  CHECK(f.sans.dns_suffixes == p.sans.dns_suffixes);
  CHECK(f.sans.allow_ip);
  CHECK_FALSE(f.sans.allow_email);
  CHECK(f.sans.allow_uri);
  CHECK(f.sans.max_count == 10);
  CHECK(f.sans.mode == ca::RuleMode::kSoftFail);
  CHECK(f.sans.upn_realms == p.sans.upn_realms);
  CHECK(f.created_at == day(1));
  CHECK(f.updated_at == day(2));
  CHECK(f.updated_by == "cli:root");

  auto stale = p;
  stale.version = 0;
  auto conflict = store->update_profile(stale, std::nullopt);
  REQUIRE_FALSE(conflict);
  CHECK(conflict.error().code() == ErrorCode::kConflict);
  auto changed = f;
  changed.description = "changed";
  auto updated = store->update_profile(changed, std::nullopt);
  REQUIRE(updated);
  CHECK(updated->version == 2);
  CHECK((*store->find_profile("issuing", "web"))->description == "changed");
  auto absent = p;
  absent.name = "nope";
  auto missing = store->update_profile(absent, std::nullopt);
  REQUIRE_FALSE(missing);
  CHECK(missing.error().code() == ErrorCode::kNotFound);

  auto other = p;
  other.ca_name = "root";
  REQUIRE(store->create_profile(other, std::nullopt));
  other.name = "default";
  REQUIRE(store->create_profile(other, std::nullopt));
  auto by_name = store->find_profiles_by_name("web");
  REQUIRE(by_name);
  REQUIRE(by_name->size() == 2);
  auto all = store->list_profiles("");
  REQUIRE(all);
  REQUIRE(all->size() == 3);
  CHECK(all->at(0).qualified_name() == "issuing/web");
  CHECK(all->at(1).qualified_name() == "root/default");
  CHECK(all->at(2).qualified_name() == "root/web");
  auto root = store->list_profiles("root");
  REQUIRE(root);
  CHECK(root->size() == 2);
  require_consistent(*store);
  require_chain_ok(*store);
}

TEST_CASE("orders get ids and revisions, list newest first by status and kind") {
  test::TempDir dir;
  auto store = open_store(dir.path());
  for (int i = 1; i <= 6; ++i) {
    auto id =
        store->create_order(make_order(i % 2 ? ca::OrderKind::kIssue : ca::OrderKind::kRevoke), {});
    REQUIRE(id);
    CHECK(*id == static_cast<std::uint64_t>(i));
  }
  auto one = store->find_order(1);
  REQUIRE(one);
  REQUIRE(one->has_value());
  const auto expected = make_order();
  CHECK((*one)->id == 1);
  CHECK((*one)->revision == 1);
  CHECK((*one)->key_source == ca::KeySourceKind::kKeyOnToken);
  CHECK((*one)->warnings == expected.warnings);
  CHECK((*one)->parameters == expected.parameters);
  CHECK((*one)->generated_key->token_serial == "0a1b");
  CHECK((*one)->resubmitted_from == 7);
  CHECK((*one)->profile_version == 3);
  CHECK((*one)->updated_at == expected.updated_at);

  auto processing = **one;
  processing.status = ca::OrderStatus::kProcessing;
  auto revision = store->update_order(processing, {}, std::nullopt);
  REQUIRE(revision);
  CHECK(*revision == 2);
  auto stale = store->update_order(processing, {}, std::nullopt);
  REQUIRE_FALSE(stale);
  CHECK(stale.error().code() == ErrorCode::kConflict);
  auto unknown = processing;
  unknown.id = 77;
  auto missing = store->update_order(unknown, {}, std::nullopt);
  REQUIRE_FALSE(missing);
  CHECK(missing.error().code() == ErrorCode::kNotFound);

  auto three = **store->find_order(3);
  three.status = ca::OrderStatus::kFailed;
  three.error_code = "policy-violation";
  ca::Alert alert;
  alert.kind = "order.failed";
  alert.object = "order:3";
  alert.dedupe_key = "order:3";
  alert.raised_at = day(4);
  REQUIRE(store->update_order(three, {audit_event(day(4), "a", "order.failed", "order:3")}, alert));
  auto alerts = store->list_alerts(false, 10);
  REQUIRE(alerts);
  REQUIRE(alerts->size() == 1);
  CHECK(alerts->front().object == "order:3");

  ca::OrderQuery all;
  auto newest = store->list_orders(all);
  REQUIRE(newest);
  REQUIRE(newest->size() == 6);
  CHECK(newest->front().id == 6);
  CHECK(newest->back().id == 1);
  ca::OrderQuery page;
  page.limit = 2;
  page.before = 5;
  auto older = store->list_orders(page);
  REQUIRE(older);
  REQUIRE(older->size() == 2);
  CHECK(older->at(0).id == 4);
  CHECK(older->at(1).id == 3);
  ca::OrderQuery pending;
  pending.status = ca::OrderStatus::kPending;
  auto p = store->list_orders(pending);
  REQUIRE(p);
  REQUIRE(p->size() == 4);
  CHECK(p->at(0).id == 6);
  CHECK(p->at(3).id == 2);
  pending.kind = ca::OrderKind::kRevoke;
  auto revokes = store->list_orders(pending);
  REQUIRE(revokes);
  REQUIRE(revokes->size() == 3);  // 2, 4, 6
  CHECK(revokes->at(0).id == 6);
  ca::OrderQuery failed;
  failed.status = ca::OrderStatus::kFailed;
  auto f = store->list_orders(failed);
  REQUIRE(f);
  REQUIRE(f->size() == 1);
  CHECK(f->front().error_code == "policy-violation");

  auto unfinished = store->list_unfinished_orders();
  REQUIRE(unfinished);
  REQUIRE(unfinished->size() == 5);
  CHECK(unfinished->front().id == 1);  // processing
  CHECK(unfinished->back().id == 6);
  require_consistent(*store);
  require_chain_ok(*store);
}

TEST_CASE("an open alert deduplicates; acknowledging closes it once") {
  test::TempDir dir;
  auto store = open_store(dir.path());
  ca::Alert alert;
  alert.kind = "certificate.expiring";
  alert.object = "certificate:root/01";
  alert.message = "expires in 7 days";
  alert.dedupe_key = "expiring:1";
  alert.raised_at = day(1);
  auto first = store->raise_alert(alert, audit_event(day(1), "system", "alert.raised", "alert"));
  REQUIRE(first);
  const auto audits = audit_count(*store);
  auto again = store->raise_alert(alert, audit_event(day(2), "system", "alert.raised", "alert"));
  REQUIRE(again);
  CHECK(*again == *first);
  CHECK(audit_count(*store) == audits);  // nothing raised, nothing audited
  auto other = alert;
  other.dedupe_key = "expiring:2";
  auto second = store->raise_alert(other, std::nullopt);
  REQUIRE(second);
  CHECK(*second != *first);

  auto acked = store->acknowledge_alert(*first, "operator", day(3), std::nullopt);
  REQUIRE(acked);
  CHECK(acked->acknowledged);
  CHECK(acked->acknowledged_by == "operator");
  auto twice = store->acknowledge_alert(*first, "someone-else", day(4), std::nullopt);
  REQUIRE(twice);
  CHECK(twice->acknowledged_by == "operator");
  CHECK(twice->acknowledged_at == day(3));
  auto missing = store->acknowledge_alert(99, "x", day(4), std::nullopt);
  REQUIRE_FALSE(missing);
  CHECK(missing.error().code() == ErrorCode::kNotFound);

  auto reraised = store->raise_alert(alert, std::nullopt);  // the old one is acknowledged
  REQUIRE(reraised);
  CHECK(*reraised != *first);
  auto open = store->list_alerts(false, 10);
  REQUIRE(open);
  REQUIRE(open->size() == 2);
  CHECK(open->at(0).id == *reraised);
  CHECK(open->at(1).id == *second);
  auto all = store->list_alerts(true, 10);
  REQUIRE(all);
  CHECK(all->size() == 3);
  auto found = store->find_alert(*first);
  REQUIRE(found);
  REQUIRE(found->has_value());
  CHECK((*found)->message == "expires in 7 days");
  require_consistent(*store);
}
