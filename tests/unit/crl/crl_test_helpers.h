// Shared by the crl/ unit tests: a root and an issuing CA with software keys over the
// in-memory store, a fixed clock, certificates issued and revoked, and OpenSSL-side parsing.
#pragma once

#include <openssl/ocsp.h>
#include <openssl/x509.h>

#include <catch2/catch.hpp>
#include <memory>
#include <string>

#include "base/openssl.h"
#include "ca/authority.h"
#include "crl/crl_service.h"
#include "crl/ocsp_responder.h"
#include "crl/ocsp_signers.h"
#include "crl/scheduler.h"
#include "pki/pem.h"
#include "tests/support/memory_store.h"
#include "tests/support/software_signer.h"
#include "tests/support/test_support.h"
#include "tests/unit/ca/ca_test_helpers.h"

namespace signet::test {

using namespace std::chrono_literals;

inline base::TimePoint crl_day_one() { return base::from_unix_seconds(1'790'000'000); }

using base::X509CrlPtr;
using base::X509Ptr;

inline X509Ptr openssl_certificate(const base::Bytes& der) {
  const unsigned char* p = der.data();
  X509Ptr cert(d2i_X509(nullptr, &p, static_cast<long>(der.size())));
  REQUIRE(cert);
  return cert;
}

inline X509CrlPtr openssl_crl(const base::Bytes& der) {
  const unsigned char* p = der.data();
  X509CrlPtr crl(d2i_X509_CRL(nullptr, &p, static_cast<long>(der.size())));
  REQUIRE(crl);
  REQUIRE(p == der.data() + der.size());
  return crl;
}

struct RevocationHarness {
  MemoryStore store;
  SoftwareKeyProvider keys;
  base::FixedClock clock{crl_day_one()};
  base::SystemRng rng;
  ca::Authority authority{store, store, store, keys, clock, rng, "test:operator"};
  crl::CrlStores stores{store, store, store, store};
  crl::CrlService crls{stores, keys, clock, "test:operator"};
  crl::OcspSigners signers{authority, stores, keys, clock, "test:operator"};
  crl::RevocationScheduler scheduler{crls, &signers, stores, clock};

  RevocationHarness() {
    ca::NewCaRequest root;
    root.name = "root";
    root.subject = "CN=Test Root,O=Tests,C=DE";
    root.key_algorithm = base::KeyAlgorithm::kEcP384;
    REQUIRE(authority.create_root(root));
    ca::NewCaRequest issuing;
    issuing.name = "issuing";
    issuing.parent = "root";
    issuing.subject = "CN=Test Issuing,O=Tests,C=DE";
    issuing.key_algorithm = base::KeyAlgorithm::kEcP256;
    issuing.path_length = 0;
    REQUIRE(authority.create_intermediate(issuing));
    ca::CaSettingsUpdate update;
    update.base_url = "http://pki.test";
    REQUIRE(authority.update_settings("root", update));
    REQUIRE(authority.update_settings("issuing", update));
  }

  ca::CaRecord ca(const std::string& name) {
    auto record = authority.find_ca(name);
    REQUIRE(record);
    return *record;
  }

  void set(const std::string& name, ca::CaSettingsUpdate update) {
    auto updated = authority.update_settings(name, update);
    INFO((updated ? "" : updated.error().describe()));
    REQUIRE(updated);
  }

  ca::CertificateRecord issue(const std::string& cn, int days = 90,
                              const std::string& ca_name = "issuing") {
    auto key = subject_key();
    auto issued = authority.issue_from_csr({ca_name, csr_for(*key, "CN=" + cn), days});
    INFO((issued ? "" : issued.error().describe()));
    REQUIRE(issued);
    return *issued;
  }

  ca::CertificateRecord revoke(const ca::CertificateRecord& record, ca::RevocationReason reason,
                               std::optional<base::TimePoint> invalidity = std::nullopt) {
    ca::RevocationCommit commit;
    commit.certificate_id = record.id;
    commit.revocation.revoked_at = std::chrono::time_point_cast<std::chrono::seconds>(clock.now());
    commit.revocation.reason = static_cast<int>(reason);
    commit.revocation.invalidity_date = invalidity;
    auto revoked = store.revoke_certificate(commit);
    REQUIRE(revoked);
    return *revoked;
  }

  ca::CrlRecord full(const std::string& ca_name = "issuing") {
    auto crl = crls.generate_full(ca_name);
    INFO((crl ? "" : crl.error().describe()));
    REQUIRE(crl);
    return *crl;
  }

  ca::CrlRecord delta(const std::string& ca_name = "issuing") {
    auto crl = crls.generate_delta(ca_name);
    INFO((crl ? "" : crl.error().describe()));
    REQUIRE(crl);
    return *crl;
  }
};

}  // namespace signet::test
