// crl::OcspResponder over the in-memory store: statuses, CertID hashes, nonces, the cache,
// delegated responders, and requests that are malformed or not ours. Responses are checked
// with OpenSSL's OCSP API (OCSP_basic_verify) and its command line.
#include <openssl/ocsp.h>
#include <openssl/rand.h>

#include <atomic>
#include <catch2/catch.hpp>
#include <random>
#include <thread>

#include "pki/ocsp.h"
#include "tests/unit/crl/crl_test_helpers.h"

using namespace signet;
using namespace std::chrono_literals;
using ca::RevocationReason;
using test::RevocationHarness;

namespace {

using base::OcspBasicPtr;
using base::OcspRequestPtr;
using base::OcspResponsePtr;

struct Request {
  OcspRequestPtr request{OCSP_REQUEST_new()};
  base::Bytes der;
};

// A request for `leaf` issued by `issuer`, built by OpenSSL as `openssl ocsp` builds it.
Request make_request(const base::Bytes& leaf, const base::Bytes& issuer, const EVP_MD* md,
                     bool nonce) {
  Request r;
  auto cert = test::openssl_certificate(leaf);
  auto ca = test::openssl_certificate(issuer);
  OCSP_CERTID* id = OCSP_cert_to_id(md, cert.get(), ca.get());
  REQUIRE(id);
  REQUIRE(OCSP_request_add0_id(r.request.get(), id));
  if (nonce) REQUIRE(OCSP_request_add1_nonce(r.request.get(), nullptr, 16) == 1);
  unsigned char* out = nullptr;
  const int length = i2d_OCSP_REQUEST(r.request.get(), &out);
  REQUIRE(length > 0);
  r.der.assign(out, out + length);
  OPENSSL_free(out);
  return r;
}

struct Checked {
  int response_status = -1;
  int status = -1;  // V_OCSP_CERTSTATUS_*
  int reason = -1;
  int nonce = -9;  // OCSP_check_nonce
  bool verified = false;
  int certs = 0;
};

// Verified as of `at` (the harness's fixed clock), as OpenSSL would on that day.
Checked check(const base::Bytes& response, const Request& request, const base::Bytes& leaf,
              const base::Bytes& issuer, const base::Bytes& trust_anchor, const EVP_MD* md,
              base::TimePoint at) {
  Checked c;
  const unsigned char* p = response.data();
  OcspResponsePtr parsed(d2i_OCSP_RESPONSE(nullptr, &p, static_cast<long>(response.size())));
  REQUIRE(parsed);
  c.response_status = OCSP_response_status(parsed.get());
  if (c.response_status != OCSP_RESPONSE_STATUS_SUCCESSFUL) return c;
  OcspBasicPtr basic(OCSP_response_get1_basic(parsed.get()));
  REQUIRE(basic);
  const STACK_OF(X509)* certs = OCSP_resp_get0_certs(basic.get());
  c.certs = certs == nullptr ? 0 : sk_X509_num(certs);
  c.nonce = OCSP_check_nonce(request.request.get(), basic.get());
  auto issuer_cert = test::openssl_certificate(issuer);
  auto anchor = test::openssl_certificate(trust_anchor);
  std::unique_ptr<X509_STORE, base::OpenSslDeleter<X509_STORE_free>> store(X509_STORE_new());
  X509_STORE_add_cert(store.get(), anchor.get());
  X509_VERIFY_PARAM_set_time(X509_STORE_get0_param(store.get()), base::to_unix_seconds(at));
  STACK_OF(X509)* untrusted = sk_X509_new_null();
  sk_X509_push(untrusted, issuer_cert.get());
  c.verified = OCSP_basic_verify(basic.get(), untrusted, store.get(), 0) == 1;
  sk_X509_free(untrusted);
  auto cert = test::openssl_certificate(leaf);
  OCSP_CERTID* id = OCSP_cert_to_id(md, cert.get(), issuer_cert.get());
  ASN1_GENERALIZEDTIME *revoked_at = nullptr, *this_update = nullptr, *next_update = nullptr;
  int status = -1, reason = -1;
  if (OCSP_resp_find_status(basic.get(), id, &status, &reason, &revoked_at, &this_update,
                            &next_update) == 1) {
    c.status = status;
    c.reason = reason;
    CHECK(next_update != nullptr);
  }
  OCSP_CERTID_free(id);
  return c;
}

}  // namespace

TEST_CASE("OCSP answers good, revoked with time and reason, and unknown") {
  RevocationHarness h;
  crl::OcspResponder responder(h.store, h.store, h.signers, h.clock);
  const auto issuing = h.ca("issuing").certificate_der;
  const auto root = h.ca("root").certificate_der;
  auto good = h.issue("good.test");
  auto revoked = h.issue("revoked.test");
  h.revoke(revoked, RevocationReason::kKeyCompromise);

  for (const EVP_MD* md : {EVP_sha1(), EVP_sha256()}) {
    auto r = make_request(good.der, issuing, md, true);
    auto c = check(responder.respond(r.der), r, good.der, issuing, root, md, h.clock.now());
    CHECK(c.response_status == OCSP_RESPONSE_STATUS_SUCCESSFUL);
    CHECK(c.status == V_OCSP_CERTSTATUS_GOOD);
    CHECK(c.nonce == 1);  // echoed
    CHECK(c.verified);
    CHECK(c.certs == 0);  // the CA key signs: no certificate needed

    auto rr = make_request(revoked.der, issuing, md, false);
    auto rc = check(responder.respond(rr.der), rr, revoked.der, issuing, root, md, h.clock.now());
    CHECK(rc.status == V_OCSP_CERTSTATUS_REVOKED);
    CHECK(rc.reason == OCSP_REVOKED_STATUS_KEYCOMPROMISE);
    CHECK(rc.nonce == 2);  // none asked, none given
    CHECK(rc.verified);
  }

  // A serial the CA never issued: a certificate with the CA's name but unknown to the store.
  test::RevocationHarness stranger;  // another world whose "issuing" has other keys
  auto foreign = stranger.issue("foreign.test");
  auto cert = test::openssl_certificate(foreign.der);
  auto issuer = test::openssl_certificate(issuing);
  OcspRequestPtr request(OCSP_REQUEST_new());
  OCSP_CERTID* id =
      OCSP_cert_id_new(EVP_sha1(), X509_get_subject_name(issuer.get()),
                       X509_get0_pubkey_bitstr(issuer.get()), X509_get0_serialNumber(cert.get()));
  REQUIRE(OCSP_request_add0_id(request.get(), id));
  unsigned char* out = nullptr;
  const int length = i2d_OCSP_REQUEST(request.get(), &out);
  base::Bytes der(out, out + length);
  OPENSSL_free(out);
  auto response = responder.respond(der);
  auto info = pki::inspect_ocsp_response(response);
  REQUIRE(info);
  CHECK(info->status == pki::OcspResponseStatus::kSuccessful);
  CHECK(info->first_status == pki::OcspCertStatus::kUnknown);

  // A CertID naming an issuer that is not ours: unauthorized.
  auto other = make_request(foreign.der, stranger.ca("issuing").certificate_der, EVP_sha1(), false);
  auto refused = pki::inspect_ocsp_response(responder.respond(other.der));
  REQUIRE(refused);
  CHECK(refused->status == pki::OcspResponseStatus::kUnauthorized);
}

TEST_CASE("OCSP responses without a nonce are cached, and never past a status change") {
  RevocationHarness h;
  crl::OcspResponder responder(h.store, h.store, h.signers, h.clock);
  const auto issuing = h.ca("issuing").certificate_der;
  auto leaf = h.issue("leaf.test");
  auto r = make_request(leaf.der, issuing, EVP_sha1(), false);
  auto first = responder.respond(r.der);
  auto second = responder.respond(r.der);
  CHECK(first == second);
  auto stats = responder.stats();
  CHECK(stats.signed_responses == 1);
  CHECK(stats.cache_hits == 1);
  CHECK(stats.cached == 1);

  // Revoked meanwhile (by anyone: the status is read from the store on every request).
  h.revoke(leaf, RevocationReason::kSuperseded);
  auto after = check(responder.respond(r.der), r, leaf.der, issuing, h.ca("root").certificate_der,
                     EVP_sha1(), h.clock.now());
  CHECK(after.status == V_OCSP_CERTSTATUS_REVOKED);
  CHECK(after.reason == OCSP_REVOKED_STATUS_SUPERSEDED);
  CHECK(responder.stats().signed_responses == 2);

  // Past half its validity a cached response is signed again.
  responder.respond(r.der);
  CHECK(responder.stats().signed_responses == 2);
  h.clock.advance(31min);
  responder.respond(r.der);
  CHECK(responder.stats().signed_responses == 3);

  // Requests with a nonce are always signed.
  auto with_nonce = make_request(leaf.der, issuing, EVP_sha1(), true);
  responder.respond(with_nonce.der);
  responder.respond(with_nonce.der);
  CHECK(responder.stats().signed_responses == 5);
}

TEST_CASE("the OCSP cache is bounded") {
  RevocationHarness h;
  crl::OcspResponder responder(h.store, h.store, h.signers, h.clock, {.cache_entries = 3});
  const auto issuing = h.ca("issuing").certificate_der;
  for (int i = 0; i < 6; ++i) {
    auto leaf = h.issue("leaf" + std::to_string(i) + ".test");
    responder.respond(make_request(leaf.der, issuing, EVP_sha256(), false).der);
  }
  CHECK(responder.stats().cached == 3);
}

TEST_CASE("malformed, truncated and random OCSP requests get malformedRequest") {
  RevocationHarness h;
  crl::OcspResponder responder(h.store, h.store, h.signers, h.clock);
  const auto issuing = h.ca("issuing").certificate_der;
  auto leaf = h.issue("leaf.test");
  auto valid = make_request(leaf.der, issuing, EVP_sha1(), true).der;
  const auto status_of = [&](const base::Bytes& request) {
    auto info = pki::inspect_ocsp_response(responder.respond(request));
    REQUIRE(info);
    return info->status;
  };
  CHECK(status_of(valid) == pki::OcspResponseStatus::kSuccessful);
  CHECK(status_of({}) == pki::OcspResponseStatus::kMalformedRequest);
  for (std::size_t length = 0; length < valid.size(); ++length) {
    base::Bytes truncated(valid.begin(), valid.begin() + static_cast<std::ptrdiff_t>(length));
    INFO("truncated to " << length);
    CHECK(status_of(truncated) == pki::OcspResponseStatus::kMalformedRequest);
  }
  auto trailing = valid;
  trailing.push_back(0);
  CHECK(status_of(trailing) == pki::OcspResponseStatus::kMalformedRequest);
  std::mt19937 random(20261123);
  for (int i = 0; i < 2000; ++i) {
    base::Bytes noise(random() % 300);
    for (auto& b : noise) b = static_cast<std::uint8_t>(random());
    if (i % 2 == 0 && !noise.empty()) noise[0] = 0x30;  // look like a SEQUENCE
    CHECK(status_of(noise) == pki::OcspResponseStatus::kMalformedRequest);
  }
  // Flipping single bytes of a valid request: never a crash, never a wrong success.
  for (std::size_t at = 0; at < valid.size(); ++at) {
    auto flipped = valid;
    flipped[at] ^= 0x5a;
    auto info = pki::inspect_ocsp_response(responder.respond(flipped));
    REQUIRE(info);
  }
  auto stats = responder.stats();
  CHECK(stats.malformed >= 2000);
}

TEST_CASE("a delegated OCSP responder has its own token key and is renewed before expiry") {
  RevocationHarness h;
  ca::CaSettingsUpdate u;
  u.ocsp_signing = ca::OcspSigning::kDelegated;
  u.ocsp_signer_validity_days = 30;
  u.ocsp_signer_renew_before_days = 10;
  h.set("issuing", u);
  auto due = h.signers.renewal_due(h.ca("issuing"));
  REQUIRE(due);
  REQUIRE(*due);
  const auto keys_before = h.keys.size();
  auto issued = h.signers.renew("issuing");
  REQUIRE(issued);
  CHECK(h.keys.size() == keys_before + 1);
  CHECK(h.ca("issuing").ocsp_signer_certificate_id == issued->id);
  CHECK(issued->key_location);
  CHECK(issued->key_location->object_label == "signet-ocsp-issuing");
  auto responder_cert = test::openssl_certificate(issued->der);
  CHECK(X509_get_ext_by_NID(responder_cert.get(), NID_id_pkix_OCSP_noCheck, -1) >= 0);
  CHECK((X509_get_extended_key_usage(responder_cert.get()) & XKU_OCSP_SIGN) != 0);

  crl::OcspResponder responder(h.store, h.store, h.signers, h.clock);
  const auto issuing = h.ca("issuing").certificate_der;
  auto leaf = h.issue("leaf.test");
  auto r = make_request(leaf.der, issuing, EVP_sha1(), true);
  auto c = check(responder.respond(r.der), r, leaf.der, issuing, h.ca("root").certificate_der,
                 EVP_sha1(), h.clock.now());
  CHECK(c.status == V_OCSP_CERTSTATUS_GOOD);
  CHECK(c.certs == 1);
  CHECK(c.verified);

  // 21 days later the scheduler renews it with a new key; the old key is deleted.
  h.clock.advance(std::chrono::days(21));
  auto work = h.scheduler.due("issuing");
  REQUIRE(work);
  bool signer_due = false;
  for (const auto& w : *work) signer_due |= w.what == crl::DueWork::What::kOcspSigner;
  CHECK(signer_due);
  auto done = h.scheduler.run_due("issuing");
  REQUIRE(done);
  const auto renewed_id = h.ca("issuing").ocsp_signer_certificate_id;
  CHECK(renewed_id != issued->id);
  CHECK(h.keys.size() == keys_before + 1);  // one responder key at a time
  CHECK_FALSE(h.keys.find_key(*issued->key_location));
  auto r2 = make_request(leaf.der, issuing, EVP_sha1(), true);
  auto c2 = check(responder.respond(r2.der), r2, leaf.der, issuing, h.ca("root").certificate_der,
                  EVP_sha1(), h.clock.now());
  CHECK(c2.status == V_OCSP_CERTSTATUS_GOOD);
  CHECK(c2.verified);
}

TEST_CASE("OCSP reports internalError when the CA key is gone, and recovers") {
  RevocationHarness h;
  crl::OcspResponder responder(h.store, h.store, h.signers, h.clock);
  auto leaf = h.issue("leaf.test");
  auto issuing = h.ca("issuing");
  REQUIRE(h.keys.destroy_key(issuing.key));
  auto r = make_request(leaf.der, issuing.certificate_der, EVP_sha1(), false);
  auto outcome = responder.handle(r.der);
  CHECK(outcome.status == pki::OcspResponseStatus::kInternalError);
  CHECK(outcome.error.find("issuing") != std::string::npos);
  CHECK(responder.stats().internal_errors == 1);
}

TEST_CASE("OCSP answers from many threads while certificates are revoked") {
  RevocationHarness h;
  crl::OcspResponder responder(h.store, h.store, h.signers, h.clock, {.cache_entries = 8});
  const auto issuing = h.ca("issuing").certificate_der;
  std::vector<ca::CertificateRecord> leaves;
  std::vector<base::Bytes> requests;
  for (int i = 0; i < 12; ++i) {
    leaves.push_back(h.issue("leaf" + std::to_string(i) + ".test"));
    requests.push_back(make_request(leaves.back().der, issuing, EVP_sha1(), i % 3 == 0).der);
  }
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int round = 0; round < 150; ++round) {
        const auto& request = requests[(round + t) % requests.size()];
        auto info = pki::inspect_ocsp_response(responder.respond(request));
        if (!info || info->status != pki::OcspResponseStatus::kSuccessful ||
            info->first_status == pki::OcspCertStatus::kUnknown) {
          ++failures;
        }
      }
    });
  }
  for (int i = 0; i < 12; i += 2) h.revoke(leaves[i], RevocationReason::kKeyCompromise);
  for (auto& thread : threads) thread.join();
  CHECK(failures == 0);
  // Once revoked, never answered good again, cached or not.
  for (int i = 0; i < 12; ++i) {
    auto info = pki::inspect_ocsp_response(responder.respond(requests[i]));
    REQUIRE(info);
    CHECK(info->first_status ==
          (i % 2 == 0 ? pki::OcspCertStatus::kRevoked : pki::OcspCertStatus::kGood));
  }
  CHECK(responder.stats().cached <= 8);
}
