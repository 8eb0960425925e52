// ca::CertificateService with software keys, the in-memory store and a fixed clock: orders,
// profiles in both modes, every key source, renew / rekey / revoke and their refusals.
#include <algorithm>
#include <catch2/catch.hpp>
#include <thread>

#include "ca/audit.h"
#include "ca/certificate_service.h"
#include "pki/certificate.h"
#include "pki/csr.h"
#include "pki/name.h"
#include "tests/support/memory_store.h"
#include "tests/support/software_signer.h"
#include "tests/unit/ca/ca_test_helpers.h"

using namespace signet;
using base::KeyAlgorithm;
using namespace std::chrono_literals;

namespace {

base::TimePoint day_one() { return base::from_unix_seconds(1'790'000'000); }  // 2026-09

struct Harness {
  test::MemoryStore store;
  test::SoftwareKeyProvider keys;
  base::FixedClock clock{day_one()};
  base::SystemRng rng;
  ca::Authority authority{store, store, store, keys, clock, rng, "test:operator"};
  ca::CertificateService service{
      authority,    ca::RecordStores{store, store, store, store, store, store},
      keys,         clock,
      rng,          "test:operator",
      "test-worker"};

  Harness() {
    ca::NewCaRequest root;
    root.name = "root";
    root.subject = "CN=Root,O=Tests";
    REQUIRE(authority.create_root(root));
    ca::NewCaRequest issuing;
    issuing.name = "issuing";
    issuing.parent = "root";
    issuing.subject = "CN=Issuing,O=Tests";
    issuing.key_algorithm = KeyAlgorithm::kEcP256;
    REQUIRE(authority.create_intermediate(issuing));
  }

  ca::Profile profile(const std::function<void(ca::Profile&)>& edit) {
    auto p = ca::default_profile("issuing");
    p.name = "web";
    edit(p);
    auto created = service.create_profile(p);
    INFO((created ? "" : created.error().describe()));
    REQUIRE(created);
    return *created;
  }

  ca::OrderResult issue(const ca::IssueRequest& request) {
    auto result = service.issue(request);
    INFO((result ? "" : result.error().describe()));
    REQUIRE(result);
    return std::move(*result);
  }

  std::vector<std::string> actions() {
    std::vector<std::string> out;
    auto events = store.list_audit(0, 10000);
    REQUIRE(events);
    for (const auto& e : *events) out.push_back(e.action);
    return out;
  }
  bool audited(const std::string& action) {
    auto all = actions();
    return std::find(all.begin(), all.end(), action) != all.end();
  }
};

using test::csr_for;
using test::parse;

std::shared_ptr<test::SoftwareSigner> new_key(KeyAlgorithm alg = KeyAlgorithm::kEcP256) {
  return test::subject_key(alg);
}

ca::IssueRequest csr_request(const base::Bytes& csr, std::string ca = "issuing") {
  ca::IssueRequest request;
  request.profile.ca_name = std::move(ca);
  request.key.kind = ca::KeySourceKind::kCsr;
  request.key.csr = csr;
  return request;
}

}  // namespace

TEST_CASE("issuing with --ca uses the CA's default profile and completes an order") {
  Harness h;
  auto key = new_key();
  auto result = h.issue(csr_request(csr_for(*key, "CN=www.example.com")));
  CHECK(result.order.status == ca::OrderStatus::kComplete);
  CHECK(result.order.kind == ca::OrderKind::kIssue);
  CHECK(result.order.profile == "default");
  CHECK(result.order.certificate_id == result.certificate.id);
  CHECK(result.certificate.profile == "default");
  CHECK(result.certificate.order_id == result.order.id);
  CHECK(result.certificate.profile_version == 1);

  auto stored = h.store.find_order(result.order.id);
  REQUIRE(stored);
  REQUIRE(stored->has_value());
  CHECK((*stored)->status == ca::OrderStatus::kComplete);
  CHECK((*stored)->certificate_id == result.certificate.id);
  CHECK((*stored)->completed_at.has_value());

  auto certificate = parse(result.certificate.der);
  CHECK(certificate.verify_signed_by(parse(h.authority.find_ca("issuing")->certificate_der)));
  CHECK(h.audited("profile.created"));
  CHECK(h.audited("certificate.request_csr.submitted"));
  CHECK(h.audited("certificate.issued"));
}

TEST_CASE("a hard-fail rule refuses, fails the order, raises an alert and is audited") {
  Harness h;
  h.profile([](ca::Profile& p) { p.key_algorithms.allowed = {KeyAlgorithm::kEcP384}; });
  auto key = new_key(KeyAlgorithm::kEcP256);
  auto request = csr_request(csr_for(*key, "CN=www.example.com"));
  request.profile = {"web", ""};
  auto refused = h.service.issue(request);
  REQUIRE_FALSE(refused);
  CHECK(refused.error().code() == base::ErrorCode::kPolicyViolation);
  CHECK(refused.error().message().find("ec-p256 is not allowed by profile issuing/web") !=
        std::string::npos);

  auto orders = h.store.list_orders({});
  REQUIRE(orders);
  REQUIRE(orders->size() == 1);
  const auto& order = orders->front();
  CHECK(order.status == ca::OrderStatus::kFailed);
  CHECK(order.error_message.find("ec-p256 is not allowed") != std::string::npos);
  CHECK_FALSE(order.parameters.empty());
  auto alerts = h.store.list_alerts(false, 10);
  REQUIRE(alerts);
  REQUIRE(alerts->size() == 1);
  CHECK(alerts->front().kind == "order.failed");
  CHECK(h.audited("certificate.policy_hard_fail"));
  CHECK(h.audited("order.failed"));
  CHECK(h.store.certificate_count() == 2);  // the two CA certificates only
}

TEST_CASE("a soft-fail rule issues and keeps the warning on the order") {
  Harness h;
  h.profile([](ca::Profile& p) {
    p.key_algorithms.allowed = {KeyAlgorithm::kEcP384};
    p.key_algorithms.mode = ca::RuleMode::kSoftFail;
  });
  auto key = new_key(KeyAlgorithm::kEcP256);
  auto request = csr_request(csr_for(*key, "CN=www.example.com"));
  request.profile = {"issuing/web", ""};
  auto result = h.issue(request);
  REQUIRE(result.order.warnings.size() == 1);
  CHECK(result.order.warnings.front().find("key_algorithms: ec-p256 is not allowed") !=
        std::string::npos);
  CHECK(h.audited("certificate.policy_soft_fail"));
}

TEST_CASE("a failed order can be resubmitted once the cause is fixed") {
  Harness h;
  auto profile = h.profile([](ca::Profile& p) { p.sans.dns_suffixes = {"example.org"}; });
  auto key = new_key();
  auto request = csr_request(csr_for(*key, "CN=www.example.com"));
  request.profile = {"web", "issuing"};
  REQUIRE_FALSE(h.service.issue(request));
  auto orders = h.store.list_orders({});
  REQUIRE(orders);
  const auto failed_id = orders->front().id;

  profile.sans.dns_suffixes = {"example.com"};
  REQUIRE(h.service.update_profile(profile));
  auto again = h.service.resubmit(failed_id);
  INFO((again ? "" : again.error().describe()));
  REQUIRE(again);
  CHECK(again->order.resubmitted_from == failed_id);
  CHECK(again->certificate.profile_version == 2);
  auto twice = h.service.resubmit(again->order.id);
  REQUIRE_FALSE(twice);
  CHECK(twice.error().message().find("only a failed order can be resubmitted") !=
        std::string::npos);
}

TEST_CASE("key-on-token issuance records where the key lives; a failure deletes the key") {
  Harness h;
  const auto keys_before = h.keys.size();
  ca::IssueRequest request;
  request.profile.ca_name = "issuing";
  request.key.kind = ca::KeySourceKind::kKeyOnToken;
  request.key.algorithm = KeyAlgorithm::kEcP384;
  request.subject = "CN=device-1.example.com";
  auto result = h.issue(request);
  REQUIRE(result.certificate.key_location.has_value());
  CHECK(h.keys.size() == keys_before + 1);
  auto signer = h.keys.find_key(*result.certificate.key_location);
  REQUIRE(signer);
  CHECK(parse(result.certificate.der).public_key_der() == (*signer)->public_key_der());
  CHECK(result.certificate.key_algorithm == "ec-p384");
  CHECK(h.audited("certificate.request_automated.submitted"));

  // The SAN is refused by the profile after the key was made: the key goes again.
  h.profile([](ca::Profile& p) { p.sans.allow_ip = false; });
  request.profile = {"web", "issuing"};
  request.subject_alt_names = {"IP:192.0.2.1"};
  auto refused = h.service.issue(request);
  REQUIRE_FALSE(refused);
  CHECK(h.keys.size() == keys_before + 1);
}

TEST_CASE("key-on-token refuses a full token before generating") {
  Harness h;
  h.keys.set_room(false);
  ca::IssueRequest request;
  request.profile.ca_name = "issuing";
  request.key.kind = ca::KeySourceKind::kKeyOnToken;
  request.subject = "CN=device-2.example.com";
  const auto keys_before = h.keys.size();
  auto refused = h.service.issue(request);
  REQUIRE_FALSE(refused);
  CHECK(refused.error().code() == base::ErrorCode::kResourceExhausted);
  CHECK(h.keys.size() == keys_before);
}

TEST_CASE("an existing key on the token is certified through a CSR signed on the token") {
  Harness h;
  base::KeyGenerationRequest generation;
  generation.algorithm = KeyAlgorithm::kRsa2048;
  generation.label = "app-key";
  auto key = h.keys.generate_key(generation);
  REQUIRE(key);
  ca::IssueRequest request;
  request.profile.ca_name = "issuing";
  request.key.kind = ca::KeySourceKind::kTokenKey;
  request.key.key_uri = (*key)->key_ref().to_uri();
  request.subject = "CN=app.example.com,O=Tests";
  request.subject_alt_names = {"DNS:app.example.com", "DNS:app2.example.com"};
  auto result = h.issue(request);
  CHECK(result.certificate.key_location == (*key)->key_ref());
  CHECK(result.certificate.subject_alt_names ==
        std::vector<std::string>{"DNS:app.example.com", "DNS:app2.example.com"});
  CHECK(parse(result.certificate.der).public_key_der() == (*key)->public_key_der());
}

TEST_CASE("a local key is delivered once as PFX and can be exported again with a new password") {
  Harness h;
  ca::IssueRequest request;
  request.profile.ca_name = "issuing";
  request.key.kind = ca::KeySourceKind::kLocalKey;
  request.key.algorithm = KeyAlgorithm::kEcP256;
  request.subject = "CN=legacy.example.com";
  request.pfx_profile = pki::PfxProfile::kCompat;
  auto result = h.issue(request);
  REQUIRE(result.local_key.has_value());
  CHECK(result.local_key->password.size() == 24);
  CHECK_FALSE(result.local_key->pfx.empty());
  REQUIRE(result.certificate.wrapped_key.has_value());
  CHECK_FALSE(result.certificate.key_location.has_value());

  auto again = h.service.export_pfx(result.certificate.id, pki::PfxProfile::kModern);
  INFO((again ? "" : again.error().describe()));
  REQUIRE(again);
  CHECK(std::string(reinterpret_cast<const char*>(again->password.view().data()), 24) !=
        std::string(reinterpret_cast<const char*>(result.local_key->password.view().data()), 24));
  CHECK(h.audited("certificate.download_pfx.success"));

  auto key = new_key();
  auto from_csr = h.issue(csr_request(csr_for(*key, "CN=csr.example.com")));
  auto refused = h.service.export_pfx(from_csr.certificate.id, pki::PfxProfile::kModern);
  REQUIRE_FALSE(refused);
  CHECK(refused.error().message().find("issued from a CSR") != std::string::npos);
}

TEST_CASE("renewal keeps subject, SANs and key, and links predecessor and successor") {
  Harness h;
  auto key = new_key();
  auto first = h.issue(
      csr_request(csr_for(*key, "CN=www.example.com", {"DNS:www.example.com", "DNS:example.com"})));
  h.clock.advance(std::chrono::hours(24 * 30));
  ca::RenewRequest renew;
  renew.certificate_id = first.certificate.id;
  auto renewed = h.service.renew(renew);
  INFO((renewed ? "" : renewed.error().describe()));
  REQUIRE(renewed);
  CHECK(renewed->order.kind == ca::OrderKind::kRenew);
  CHECK(renewed->certificate.predecessor_id == first.certificate.id);
  CHECK(renewed->certificate.subject == first.certificate.subject);
  CHECK(renewed->certificate.subject_alt_names == first.certificate.subject_alt_names);
  CHECK(parse(renewed->certificate.der).public_key_der() == key->public_key_der());
  CHECK(renewed->certificate.not_after > first.certificate.not_after);
  auto old = h.store.find_certificate_by_id(first.certificate.id);
  REQUIRE(old);
  REQUIRE(old->has_value());
  CHECK((*old)->successor_id == renewed->certificate.id);
  CHECK(h.audited("certificate.renewed"));

  // The same certificate is renewed once; its successor is the one to renew next.
  auto twice = h.service.renew(renew);
  REQUIRE_FALSE(twice);
  CHECK(twice.error().message().find("already replaced") != std::string::npos);
}

TEST_CASE("renewal is refused for a revoked certificate and when the profile no longer fits") {
  Harness h;
  auto profile = h.profile([](ca::Profile&) {});
  auto key = new_key();
  auto request = csr_request(csr_for(*key, "CN=www.example.com"));
  request.profile = {"web", "issuing"};
  auto first = h.issue(request);
  auto second = h.issue(csr_request(csr_for(*new_key(), "CN=b.example.com")));

  profile.key_algorithms.allowed = {KeyAlgorithm::kEcP384};
  REQUIRE(h.service.update_profile(profile));
  auto refused = h.service.renew({first.certificate.id, std::nullopt, std::nullopt});
  REQUIRE_FALSE(refused);
  CHECK(refused.error().message().find("key_algorithms") != std::string::npos);

  ca::RevokeRequest revoke;
  revoke.certificate_id = second.certificate.id;
  revoke.reason = ca::RevocationReason::kKeyCompromise;
  REQUIRE(h.service.revoke(revoke));
  auto revoked = h.service.renew({second.certificate.id, std::nullopt, std::nullopt});
  REQUIRE_FALSE(revoked);
  CHECK(revoked.error().message().find("is revoked and cannot be renewed") != std::string::npos);
}

TEST_CASE("rekey needs a different key and can revoke the predecessor as superseded") {
  Harness h;
  auto key = new_key();
  auto first = h.issue(csr_request(csr_for(*key, "CN=www.example.com")));

  ca::RekeyRequest same;
  same.certificate_id = first.certificate.id;
  same.key.kind = ca::KeySourceKind::kCsr;
  same.key.csr = csr_for(*key, "CN=www.example.com");
  auto refused = h.service.rekey(same);
  REQUIRE_FALSE(refused);
  CHECK(refused.error().message().find("a rekey needs a different key") != std::string::npos);

  ca::RekeyRequest rekey;
  rekey.certificate_id = first.certificate.id;
  rekey.key.kind = ca::KeySourceKind::kKeyOnToken;
  rekey.revoke_previous = true;
  rekey.as_reissue = true;
  auto result = h.service.rekey(rekey);
  INFO((result ? "" : result.error().describe()));
  REQUIRE(result);
  CHECK(result->order.kind == ca::OrderKind::kReissue);
  CHECK(result->certificate.subject == first.certificate.subject);
  auto old = h.store.find_certificate_by_id(first.certificate.id);
  REQUIRE(old);
  REQUIRE((*old)->revocation.has_value());
  CHECK((*old)->revocation->reason == static_cast<int>(ca::RevocationReason::kSuperseded));
  CHECK(h.audited("certificate.reissued"));
  CHECK(h.audited("certificate.revoked"));
}

TEST_CASE("revoking twice is refused and changes nothing") {
  Harness h;
  auto first = h.issue(csr_request(csr_for(*new_key(), "CN=www.example.com")));
  ca::RevokeRequest revoke;
  revoke.certificate_id = first.certificate.id;
  revoke.reason = ca::RevocationReason::kCessationOfOperation;
  revoke.invalidity_date = day_one() - std::chrono::hours(2);
  auto done = h.service.revoke(revoke);
  INFO((done ? "" : done.error().describe()));
  REQUIRE(done);
  CHECK(done->order.kind == ca::OrderKind::kRevoke);
  REQUIRE(done->certificate.revocation.has_value());
  CHECK(done->certificate.revocation->sequence >= 1);
  CHECK(done->certificate.revocation->invalidity_date.has_value());
  CHECK(ca::status_at(done->certificate, day_one()) == ca::CertificateStatus::kRevoked);

  const auto events_before = h.actions().size();
  revoke.reason = ca::RevocationReason::kKeyCompromise;
  auto again = h.service.revoke(revoke);
  REQUIRE_FALSE(again);
  CHECK(again.error().code() == base::ErrorCode::kConflict);
  CHECK(again.error().message().find("already revoked") != std::string::npos);
  CHECK(h.actions().size() == events_before);
  auto stored = h.store.find_certificate_by_id(first.certificate.id);
  CHECK((*stored)->revocation->reason ==
        static_cast<int>(ca::RevocationReason::kCessationOfOperation));

  revoke.certificate_id = h.issue(csr_request(csr_for(*new_key(), "CN=b"))).certificate.id;
  revoke.invalidity_date = day_one() + std::chrono::hours(1);
  auto future = h.service.revoke(revoke);
  REQUIRE_FALSE(future);
  CHECK(future.error().message().find("is in the future") != std::string::npos);
}

TEST_CASE("concurrent revocations of one certificate leave one revocation") {
  Harness h;
  auto first = h.issue(csr_request(csr_for(*new_key(), "CN=www.example.com")));
  std::atomic<int> succeeded{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < 8; ++i) {
    threads.emplace_back([&] {
      ca::RevokeRequest revoke;
      revoke.certificate_id = first.certificate.id;
      revoke.reason = ca::RevocationReason::kSuperseded;
      if (h.service.revoke(revoke)) ++succeeded;
    });
  }
  for (auto& t : threads) t.join();
  CHECK(succeeded == 1);
  auto all = h.actions();
  CHECK(std::count(all.begin(), all.end(), "certificate.revoked") == 1);
}

TEST_CASE("certificates are found by serial or fingerprint, and views and downloads are audited") {
  Harness h;
  auto issued = h.issue(csr_request(csr_for(*new_key(), "CN=www.example.com"))).certificate;
  auto by_serial = h.service.find(issued.serial.to_hex());
  REQUIRE(by_serial);
  CHECK(by_serial->id == issued.id);
  auto by_fingerprint = h.service.view(base::to_hex(issued.fingerprint_sha256));
  REQUIRE(by_fingerprint);
  CHECK(by_fingerprint->id == issued.id);
  CHECK(h.audited("certificate.view.accessed"));
  auto chain = h.service.download(issued.id, true);
  REQUIRE(chain);
  CHECK(chain->size() == 3);  // leaf, issuing, root
  CHECK(h.audited("certificate.download.success"));
  CHECK_FALSE(h.service.find("not-hex"));
}

TEST_CASE("a CA renewal keeps the chain of what the old certificate signed") {
  Harness h;
  auto before = h.issue(csr_request(csr_for(*new_key(), "CN=old.example.com"))).certificate;
  ca::RenewCaRequest request;
  request.name = "issuing";
  request.new_key = KeyAlgorithm::kEcP384;
  auto renewed = h.authority.renew_ca(request);
  INFO((renewed ? "" : renewed.error().describe()));
  REQUIRE(renewed);
  CHECK(renewed->previous_certificates_der.size() == 1);
  CHECK(renewed->key_algorithm == KeyAlgorithm::kEcP384);
  auto after = h.issue(csr_request(csr_for(*new_key(), "CN=new.example.com"))).certificate;

  auto old_chain = h.authority.chain_for("issuing", before.der);
  REQUIRE(old_chain);
  CHECK(parse(before.der).verify_signed_by(parse(old_chain->front())));
  CHECK(old_chain->front() == renewed->previous_certificates_der.front());
  auto new_chain = h.authority.chain_for("issuing", after.der);
  REQUIRE(new_chain);
  CHECK(new_chain->front() == renewed->certificate_der);
}

TEST_CASE("an issuance hands out the chain of the CA that signed, fresh after a parent renewal") {
  Harness h;
  auto root = h.authority.find_ca("root");
  auto issuing = h.authority.find_ca("issuing");
  REQUIRE(root);
  REQUIRE(issuing);
  auto first = h.issue(csr_request(csr_for(*new_key(), "CN=a.example.com")));
  REQUIRE(first.chain.size() == 2);
  CHECK(first.chain[0] == issuing->certificate_der);
  CHECK(first.chain[1] == root->certificate_der);

  // The root renewed with the same key: its new certificate now heads what the issuing CA's
  // certificate chains to, and a context built before must not hand out the old one.
  ca::RenewCaRequest request;
  request.name = "root";
  auto renewed = h.authority.renew_ca(request);
  REQUIRE(renewed);
  REQUIRE(renewed->certificate_der != root->certificate_der);
  auto second = h.issue(csr_request(csr_for(*new_key(), "CN=b.example.com")));
  REQUIRE(second.chain.size() == 2);
  CHECK(second.chain[0] == issuing->certificate_der);
  CHECK(second.chain[1] == renewed->certificate_der);
  auto looked_up = h.authority.chain_for("issuing", second.certificate.der);
  REQUIRE(looked_up);
  CHECK(*looked_up == second.chain);
}

TEST_CASE("an order is recorded as processing once, then completes in the certificate's commit") {
  Harness h;
  const auto commits_before = h.store.order_writes();
  auto result = h.issue(csr_request(csr_for(*new_key(), "CN=once.example.com")));
  CHECK(result.order.status == ca::OrderStatus::kComplete);
  // One write creates the order (processing); the completion rides on the certificate's commit.
  CHECK(h.store.order_writes() - commits_before == 1);
  CHECK(h.store.first_status_of(result.order.id) == ca::OrderStatus::kProcessing);
}

TEST_CASE("imported certificates are discovered and deduplicated by fingerprint") {
  Harness h;
  auto ca = h.authority.find_ca("root");
  REQUIRE(ca);
  auto issued = h.issue(csr_request(csr_for(*new_key(), "CN=x.example.com"))).certificate;
  auto bundle = parse(issued.der).pem() + parse(ca->certificate_der).pem();
  auto report = h.service.import_certificates(base::as_bytes(bundle), "bundle.pem");
  REQUIRE(report);
  CHECK(report->imported.empty());  // both are already known
  CHECK(report->duplicates == 2);

  Harness other;
  auto imported = other.service.import_certificates(base::as_bytes(bundle), "bundle.pem");
  REQUIRE(imported);
  CHECK(imported->imported.size() == 2);
  CHECK(imported->imported.front().source == ca::CertificateSource::kDiscovered);
  auto garbage = other.service.import_certificates(base::as_bytes(std::string("nope")), "x.txt");
  REQUIRE(garbage);
  CHECK(garbage->errors.size() == 1);
}

TEST_CASE("orders left by a dead process are failed and their token keys deleted") {
  Harness h;
  ca::Order order;
  order.kind = ca::OrderKind::kIssue;
  order.status = ca::OrderStatus::kProcessing;
  order.worker = "pid:999999:1";
  base::KeyGenerationRequest generation;
  auto key = h.keys.generate_key(generation);
  REQUIRE(key);
  order.generated_key = (*key)->key_ref();
  auto id = h.store.create_order(order, {});
  REQUIRE(id);
  const auto keys_before = h.keys.size();
  auto failed = h.service.fail_interrupted_orders([](std::string_view) { return false; });
  REQUIRE(failed);
  REQUIRE(failed->size() == 1);
  CHECK(h.keys.size() == keys_before - 1);
  auto stored = h.store.find_order(*id);
  CHECK((*stored)->status == ca::OrderStatus::kFailed);
  CHECK((*stored)->error_message.find("interrupted") != std::string::npos);
}

TEST_CASE("expiring certificates raise one alert each, which can be acknowledged") {
  Harness h;
  auto request = csr_request(csr_for(*new_key(), "CN=short.example.com"));
  request.validity_days = 10;
  auto issued = h.issue(request).certificate;
  h.issue(csr_request(csr_for(*new_key(), "CN=long.example.com")));
  auto raised = h.service.raise_expiry_alerts(30);
  REQUIRE(raised);
  CHECK(*raised == 1);
  REQUIRE(h.service.raise_expiry_alerts(30));
  auto alerts = h.store.list_alerts(false, 10);
  REQUIRE(alerts);
  REQUIRE(alerts->size() == 1);
  auto acknowledged = h.service.acknowledge_alert(alerts->front().id);
  REQUIRE(acknowledged);
  CHECK(acknowledged->acknowledged);
  CHECK(h.store.list_alerts(false, 10)->empty());
}

TEST_CASE("the audit chain of a lifecycle verifies") {
  Harness h;
  auto issued = h.issue(csr_request(csr_for(*new_key(), "CN=www.example.com"))).certificate;
  REQUIRE(h.service.revoke({issued.id, ca::RevocationReason::kUnspecified, std::nullopt}));
  auto report = ca::verify_audit_chain(h.store);
  REQUIRE(report);
  CHECK(report->ok());
  CHECK(report->entries == h.actions().size());
}
