// The appliance's lifecycle parts over a real SoftHSM token and a real LMDB store, with a
// root and an issuing CA, for the CertificateService integration tests.
#pragma once

#include <catch2/catch.hpp>
#include <memory>

#include "ca/certificate_service.h"
#include "hsm/key_provider.h"
#include "pki/certificate.h"
#include "store/lmdb_store.h"
#include "tests/support/softhsm_token.h"
#include "tests/support/test_support.h"

namespace signet::test {

using base::KeyAlgorithm;

struct Appliance {
  test::SoftHsmToken token;
  test::TempDir state;
  std::unique_ptr<store::LmdbStore> store;
  std::shared_ptr<hsm::Pkcs11KeyProvider> keys;
  base::SystemClock clock;
  base::SystemRng rng;
  std::unique_ptr<ca::Authority> authority;
  std::unique_ptr<ca::CertificateService> service;

  Appliance() {
    open_store();
    auto provider = hsm::Pkcs11KeyProvider::create({token.module()}, token.label(),
                                                   test::SoftHsmToken::pin_source());
    REQUIRE(provider);
    keys = *provider;
    make_services();
    ca::NewCaRequest root;
    root.name = "root";
    root.subject = "CN=Root,O=Signet Integration";
    root.key_algorithm = KeyAlgorithm::kEcP384;
    REQUIRE(authority->create_root(root));
    ca::NewCaRequest issuing;
    issuing.name = "issuing";
    issuing.parent = "root";
    issuing.subject = "CN=Issuing,O=Signet Integration";
    issuing.key_algorithm = KeyAlgorithm::kEcP256;
    issuing.path_length = 0;
    REQUIRE(authority->create_intermediate(issuing));
  }
  ~Appliance() {
    service.reset();
    authority.reset();
    keys.reset();
  }
  void open_store() {
    auto opened = store::LmdbStore::open(state.path());
    REQUIRE(opened);
    store = std::move(*opened);
  }
  void make_services() {
    authority = std::make_unique<ca::Authority>(*store, *store, *store, *keys, clock, rng, "test");
    service = std::make_unique<ca::CertificateService>(
        *authority, ca::RecordStores{*store, *store, *store, *store, *store, *store}, *keys, clock,
        rng, "test", "test-worker");
  }
  // Closes and reopens the store, as a restarted process would.
  void reopen() {
    service.reset();
    authority.reset();
    store.reset();
    open_store();
    make_services();
  }

  ca::OrderResult issue(const ca::IssueRequest& request) {
    auto result = service->issue(request);
    INFO((result ? "" : result.error().describe()));
    REQUIRE(result);
    return std::move(*result);
  }

  // Writes the CA chain as PEM files and runs `openssl verify -x509_strict` on `der`.
  test::CommandResult openssl_verify(const base::Bytes& der) {
    auto chain = authority->chain_for("issuing", der);
    REQUIRE(chain);
    REQUIRE(chain->size() == 2);
    test::write_text(state.path() / "leaf.pem", pki::Certificate::from_der(der)->pem());
    test::write_text(state.path() / "issuing.pem", pki::Certificate::from_der((*chain)[0])->pem());
    test::write_text(state.path() / "root.pem", pki::Certificate::from_der((*chain)[1])->pem());
    return test::run_command("openssl verify -x509_strict -CAfile " +
                             (state.path() / "root.pem").string() + " -untrusted " +
                             (state.path() / "issuing.pem").string() + " " +
                             (state.path() / "leaf.pem").string());
  }
};

inline ca::IssueRequest key_on_token(const std::string& subject) {
  ca::IssueRequest request;
  request.profile.ca_name = "issuing";
  request.key.kind = ca::KeySourceKind::kKeyOnToken;
  request.key.algorithm = KeyAlgorithm::kEcP256;
  request.subject = subject;
  return request;
}

}  // namespace signet::test
