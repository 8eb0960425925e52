// ca::CertificateService over the real parts: keys on a SoftHSM token, records in LMDB.
// What it emits is checked by OpenSSL (verify, pkcs12) and python3-cryptography.
#include <catch2/catch.hpp>
#include <thread>

#include "ca/audit.h"
#include "ca/certificate_service.h"
#include "hsm/key_provider.h"
#include "pki/certificate.h"
#include "store/lmdb_store.h"
#include "tests/integration/ca/service_fixture.h"
#include "tests/support/softhsm_token.h"
#include "tests/support/test_support.h"

using namespace signet;
using base::KeyAlgorithm;
using test::Appliance;
using test::key_on_token;

TEST_CASE("key-on-token issuance leaves a sensitive, non-extractable key and records it") {
  Appliance a;
  auto result = a.issue(key_on_token("CN=device.example.test"));
  REQUIRE(result.certificate.key_location.has_value());
  const auto& location = *result.certificate.key_location;
  CHECK(location.token_serial == a.token.serial());
  auto attributes = a.keys->read_private_key_attributes(location);
  REQUIRE(attributes);
  CHECK(attributes->sensitive);
  CHECK(attributes->never_extractable);
  CHECK_FALSE(attributes->extractable);
  CHECK(attributes->local);
  auto verified = a.openssl_verify(result.certificate.der);
  INFO(verified.output);
  CHECK(verified.exit_code == 0);

  auto users = a.store->find_certificates_by_key(location);
  REQUIRE(users);
  REQUIRE(users->size() == 1);
  CHECK(users->front().id == result.certificate.id);
}

TEST_CASE("renewed and rekeyed certificates verify with openssl and link to their predecessor") {
  Appliance a;
  auto first = a.issue(key_on_token("CN=svc.example.test"));
  auto renewed = a.service->renew({first.certificate.id, std::nullopt, std::nullopt});
  INFO((renewed ? "" : renewed.error().describe()));
  REQUIRE(renewed);
  CHECK(renewed->certificate.key_location == first.certificate.key_location);
  auto verified = a.openssl_verify(renewed->certificate.der);
  INFO(verified.output);
  CHECK(verified.exit_code == 0);

  ca::RekeyRequest rekey;
  rekey.certificate_id = renewed->certificate.id;
  rekey.key.kind = ca::KeySourceKind::kKeyOnToken;
  rekey.key.algorithm = KeyAlgorithm::kEcP384;
  rekey.revoke_previous = true;
  auto rekeyed = a.service->rekey(rekey);
  INFO((rekeyed ? "" : rekeyed.error().describe()));
  REQUIRE(rekeyed);
  CHECK(rekeyed->certificate.key_location != renewed->certificate.key_location);
  CHECK(rekeyed->certificate.key_algorithm == "ec-p384");
  verified = a.openssl_verify(rekeyed->certificate.der);
  INFO(verified.output);
  CHECK(verified.exit_code == 0);

  a.reopen();  // what was committed is what a restarted process sees
  auto middle = a.store->find_certificate_by_id(renewed->certificate.id);
  REQUIRE(middle);
  REQUIRE(middle->has_value());
  CHECK((*middle)->predecessor_id == first.certificate.id);
  CHECK((*middle)->successor_id == rekeyed->certificate.id);
  REQUIRE((*middle)->revocation.has_value());
  CHECK((*middle)->revocation->reason == static_cast<int>(ca::RevocationReason::kSuperseded));
  auto chain = ca::verify_audit_chain(*a.store);
  REQUIRE(chain);
  CHECK(chain->ok());
}

TEST_CASE("PFX export of a key that lives on the token is refused") {
  Appliance a;
  auto result = a.issue(key_on_token("CN=hsm-only.example.test"));
  auto refused = a.service->export_pfx(result.certificate.id, pki::PfxProfile::kModern);
  REQUIRE_FALSE(refused);
  CHECK(refused.error().message().find("cannot leave it") != std::string::npos);
}

TEST_CASE("concurrent renewals of one certificate leave one successor") {
  Appliance a;
  auto first = a.issue(key_on_token("CN=race.example.test"));
  std::atomic<int> renewed{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < 4; ++i) {
    threads.emplace_back([&] {
      if (a.service->renew({first.certificate.id, std::nullopt, std::nullopt})) ++renewed;
    });
  }
  for (auto& t : threads) t.join();
  CHECK(renewed == 1);
  auto old = a.store->find_certificate_by_id(first.certificate.id);
  REQUIRE(old);
  CHECK((*old)->successor_id != 0);
  // Every order ended: one complete renewal, the rest failed with the conflict named.
  auto unfinished = a.store->list_unfinished_orders();
  REQUIRE(unfinished);
  CHECK(unfinished->empty());
}
