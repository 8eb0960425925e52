// ca::Authority with software keys, an in-memory store and a fixed clock.
#include <algorithm>
#include <catch2/catch.hpp>
#include <set>
#include <thread>

#include "ca/authority.h"
#include "pki/csr.h"
#include "pki/name.h"
#include "tests/support/memory_store.h"
#include "tests/support/software_signer.h"
#include "tests/support/test_support.h"
#include "tests/unit/ca/ca_test_helpers.h"

using namespace signet;
using base::KeyAlgorithm;

namespace {

using namespace std::chrono_literals;

ca::NewCaRequest new_ca(std::string name, std::string subject) {
  ca::NewCaRequest request;
  request.name = std::move(name);
  request.subject = std::move(subject);
  return request;
}

base::TimePoint day_one() { return base::from_unix_seconds(1'790'000'000); }  // 2026-09

struct Harness {
  test::MemoryStore store;
  test::SoftwareKeyProvider keys;
  base::FixedClock clock{day_one()};
  base::SystemRng rng;
  ca::Authority authority{store, store, store, keys, clock, rng, "test:operator"};

  ca::CaRecord root(const std::string& name = "root", KeyAlgorithm alg = KeyAlgorithm::kEcP384) {
    ca::NewCaRequest request;
    request.name = name;
    request.subject = "CN=" + name + ",O=Tests,C=DE";
    request.key_algorithm = alg;
    auto created = authority.create_root(request);
    INFO((created ? "" : created.error().describe()));
    REQUIRE(created);
    return *created;
  }

  ca::CaRecord intermediate(const std::string& name, const std::string& parent,
                            KeyAlgorithm alg = KeyAlgorithm::kEcP256) {
    ca::NewCaRequest request;
    request.name = name;
    request.parent = parent;
    request.subject = "CN=" + name + ",O=Tests";
    request.key_algorithm = alg;
    request.path_length = 0;
    auto created = authority.create_intermediate(request);
    INFO((created ? "" : created.error().describe()));
    REQUIRE(created);
    return *created;
  }
};

using test::csr_for;
using test::parse;
using test::subject_key;

std::vector<std::string> actions(test::MemoryStore& store) {
  std::vector<std::string> out;
  auto events = store.list_audit(0, 1000);
  REQUIRE(events.has_value());
  const std::vector<ca::AuditEvent>& list = events.value();
  for (const auto& e : list) out.push_back(e.action);
  return out;
}

}  // namespace

TEST_CASE("a root CA is self-signed, recorded and audited") {
  Harness h;
  auto root = h.root();
  auto cert = parse(root.certificate_der);
  CHECK(cert.is_ca());
  CHECK(cert.is_self_signed());
  CHECK(cert.subject() == "CN=root,O=Tests,C=DE");
  CHECK(cert.not_after() - cert.not_before() == std::chrono::days(3650) + 60s);
  CHECK(cert.signature_digest() == "sha384");
  CHECK(root.key.token_serial == "software");
  CHECK(root.key_algorithm == KeyAlgorithm::kEcP384);
  auto in_inventory = h.store.find_certificate("root", cert.serial());
  REQUIRE(in_inventory);
  REQUIRE(in_inventory->has_value());
  CHECK((*in_inventory)->is_ca);
  CHECK(actions(h.store) == std::vector<std::string>{"ca.created", "certificate.issued"});
}

TEST_CASE("a duplicate CA name or a bad subject is refused before any key is made") {
  Harness h;
  h.root();
  const auto keys_before = h.keys.size();
  auto again = new_ca("root", "CN=Again");
  auto duplicate = h.authority.create_root(again);
  REQUIRE_FALSE(duplicate);
  CHECK(duplicate.error().code() == base::ErrorCode::kAlreadyExists);
  auto bad = new_ca("other", "NOPE=x");
  CHECK_FALSE(h.authority.create_root(bad));
  auto bad_name = new_ca("a b", "CN=x");
  CHECK_FALSE(h.authority.create_root(bad_name));
  CHECK(h.keys.size() == keys_before);
}

TEST_CASE("an intermediate chains to its parent and never outlives it") {
  Harness h;
  auto short_root = new_ca("root", "CN=root");
  short_root.validity_days = 100;
  auto root = h.authority.create_root(short_root);
  REQUIRE(root);
  auto issuing = h.intermediate("issuing", "root");
  auto root_cert = parse(root->certificate_der);
  auto cert = parse(issuing.certificate_der);
  CHECK(cert.verify_signed_by(root_cert));
  CHECK(cert.authority_key_identifier() == root_cert.subject_key_identifier());
  CHECK(cert.not_after() == root_cert.not_after());
  CHECK(cert.path_length() == std::optional<int>(0));
  auto chain = h.authority.ca_chain("issuing");
  REQUIRE(chain);
  CHECK(chain->size() == 2);
  CHECK(chain->back() == root->certificate_der);
  auto orphan = new_ca("orphan", "CN=o");
  orphan.parent = "nosuch";
  auto refused = h.authority.create_intermediate(orphan);
  REQUIRE_FALSE(refused);
  CHECK(refused.error().describe().find("nosuch") != std::string::npos);
}

TEST_CASE("issuance from a CSR builds the certificate the policy describes") {
  Harness h;
  h.root();
  h.intermediate("issuing", "root");
  auto key = subject_key(KeyAlgorithm::kRsa2048);
  auto csr = csr_for(*key, "CN=www.example.test,O=Web", {"DNS:www.example.test", "IP:192.0.2.1"});
  auto issued = h.authority.issue_from_csr({"issuing", csr, 90});
  INFO((issued ? "" : issued.error().describe()));
  REQUIRE(issued);
  auto cert = parse(issued->der);
  auto issuing_cert = parse(h.authority.find_ca("issuing")->certificate_der);
  CHECK(cert.verify_signed_by(issuing_cert));
  CHECK_FALSE(cert.is_ca());
  CHECK(cert.public_key_der() == key->public_key_der());
  CHECK(cert.not_before() == day_one() - 60s);
  CHECK(cert.not_after() == day_one() + std::chrono::days(90));
  CHECK(issued->key_algorithm == "rsa-2048");
  CHECK(issued->digest == "sha256");
  CHECK(issued->ca_name == "issuing");
  CHECK(issued->subject_alt_names ==
        std::vector<std::string>{"DNS:www.example.test", "IP:192.0.2.1"});
  CHECK(issued->id != 0);
  CHECK(ca::status_at(*issued, h.clock.now()) == ca::CertificateStatus::kActive);
  h.clock.advance(std::chrono::days(91));
  CHECK(ca::status_at(*issued, h.clock.now()) == ca::CertificateStatus::kExpired);
  CHECK(actions(h.store).back() == "certificate.issued");
}

TEST_CASE("issuance refuses bad requests and stores nothing") {
  Harness h;
  h.root();
  const auto stored = h.store.certificate_count();
  auto key = subject_key();
  SECTION("a forged signature") {
    auto csr = csr_for(*key, "CN=a.example.test");
    csr[csr.size() - 3] ^= 0x01;
    auto refused = h.authority.issue_from_csr({"root", csr, {}});
    REQUIRE_FALSE(refused);
  }
  SECTION("an RSA-1024 key and an out-of-range validity, reported together") {
    auto csr = test::read_file(test::test_data_dir() / "csr/rsa1024.pem");
    auto refused = h.authority.issue_from_csr({"root", csr, 0});
    REQUIRE_FALSE(refused);
    CHECK(refused.error().code() == base::ErrorCode::kPolicyViolation);
    CHECK(refused.error().message().find("1024") != std::string::npos);
    CHECK(refused.error().message().find("out of range") != std::string::npos);
  }
  SECTION("an unknown CA") {
    auto refused = h.authority.issue_from_csr({"nosuch", csr_for(*key, "CN=a"), {}});
    REQUIRE_FALSE(refused);
    CHECK(refused.error().code() == base::ErrorCode::kNotFound);
  }
  SECTION("an expired CA") {
    h.clock.advance(std::chrono::days(3651));
    auto refused = h.authority.issue_from_csr({"root", csr_for(*key, "CN=a.example.test"), {}});
    REQUIRE_FALSE(refused);
    CHECK(refused.error().message().find("expired") != std::string::npos);
  }
  CHECK(h.store.certificate_count() == stored);
}

TEST_CASE("a serial collision discards the certificate, audits it and retries") {
  Harness h;
  h.root();
  h.store.inject_collisions(1);
  auto key = subject_key();
  auto issued = h.authority.issue_from_csr({"root", csr_for(*key, "CN=c.example.test"), {}});
  REQUIRE(issued);
  auto log = actions(h.store);
  CHECK(std::count(log.begin(), log.end(), "certificate.discarded") == 1);
  CHECK(log.back() == "certificate.issued");
}

TEST_CASE("CA settings reach the certificates issued afterwards") {
  Harness h;
  h.root();
  ca::CaSettingsUpdate ftp;
  ftp.base_url = "ftp://x";
  CHECK_FALSE(h.authority.update_settings("root", ftp));
  ca::CaSettingsUpdate http;
  http.base_url = "http://pki.example.test/";
  http.default_validity_days = 7;
  auto updated = h.authority.update_settings("root", http);
  REQUIRE(updated);
  CHECK(updated->settings.base_url == "http://pki.example.test");
  auto key = subject_key();
  auto issued = h.authority.issue_from_csr({"root", csr_for(*key, "CN=s.example.test"), {}});
  REQUIRE(issued);
  const std::string der(issued->der.begin(), issued->der.end());
  CHECK(der.find("http://pki.example.test/crl/root.crl") != std::string::npos);
  CHECK(der.find("http://pki.example.test/ocsp/root") != std::string::npos);
  CHECK(der.find("http://pki.example.test/ca/root.crt") != std::string::npos);
  CHECK(parse(issued->der).not_after() == day_one() + std::chrono::days(7));
}

TEST_CASE("an externally signed intermediate waits for, checks and installs its certificate") {
  Harness h;
  auto request = new_ca("ext", "CN=ext");
  request.external_parent = true;
  auto created = h.authority.create_intermediate(request);
  REQUIRE(created);
  CHECK(created->state == ca::CaState::kAwaitingCertificate);
  auto csr = pki::Csr::parse(created->pending_csr_der);
  REQUIRE(csr);
  CHECK(csr->verify_signature());
  auto key = subject_key();
  CHECK_FALSE(h.authority.issue_from_csr({"ext", csr_for(*key, "CN=a"), {}}));

  // An "external" root made by another Authority signs the intermediate's CSR.
  Harness offline;
  auto offline_root = offline.root("offline");
  auto signed_cert = offline.authority.issue_from_csr({"offline", created->pending_csr_der, {}});
  REQUIRE(signed_cert);  // an end-entity certificate: the import must refuse it
  std::string bundle = parse(signed_cert->der).pem() + parse(offline_root.certificate_der).pem();
  auto not_ca = h.authority.import_ca_certificate("ext", base::as_bytes(bundle));
  REQUIRE_FALSE(not_ca);
  CHECK(not_ca.error().message().find("not a CA certificate") != std::string::npos);
  auto wrong_key = h.authority.import_ca_certificate(
      "ext", base::as_bytes(parse(offline_root.certificate_der).pem()));
  REQUIRE_FALSE(wrong_key);
  CHECK(wrong_key.error().message().find("not the key of CA 'ext'") != std::string::npos);
}

TEST_CASE("concurrent issuances from several threads get distinct serials") {
  Harness h;
  h.root("root", KeyAlgorithm::kEcP256);
  auto key = subject_key();
  auto csr = csr_for(*key, "CN=t.example.test");
  std::vector<std::thread> threads;
  std::mutex mutex;
  std::set<std::string> serials;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      std::vector<std::future<base::Result<ca::CertificateRecord>>> in_flight;
      for (int i = 0; i < 25; ++i)
        in_flight.push_back(h.authority.issue_from_csr_async({"root", csr, {}}));
      for (auto& f : in_flight) {
        auto r = f.get();
        std::lock_guard lock(mutex);
        if (r) serials.insert(r->serial.to_hex());
      }
    });
  }
  for (auto& t : threads) t.join();
  CHECK(serials.size() == 100);
  CHECK(h.store.certificate_count() == 101);
}
