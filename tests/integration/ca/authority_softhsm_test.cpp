// ca::Authority with CA keys generated on a real SoftHSM token and records in a real LMDB
// store; what it emits is checked by OpenSSL, GnuTLS and python3-cryptography.
#include <catch2/catch.hpp>
#include <thread>

#include "ca/authority.h"
#include "hsm/key_provider.h"
#include "pki/certificate.h"
#include "pki/pem.h"
#include "store/lmdb_store.h"
#include "tests/support/softhsm_token.h"
#include "tests/support/test_support.h"

using namespace signet;
using base::KeyAlgorithm;

namespace {

struct Appliance {
  test::SoftHsmToken token;
  test::TempDir state;
  std::unique_ptr<store::LmdbStore> store;
  std::shared_ptr<hsm::Pkcs11KeyProvider> keys;
  base::SystemClock clock;
  base::SystemRng rng;
  std::unique_ptr<ca::Authority> authority;

  Appliance() {
    auto opened = store::LmdbStore::open(state.path());
    REQUIRE(opened);
    store = std::move(*opened);
    auto provider = hsm::Pkcs11KeyProvider::create({token.module()}, token.label(),
                                                   test::SoftHsmToken::pin_source());
    REQUIRE(provider);
    keys = *provider;
    authority = std::make_unique<ca::Authority>(*store, *store, *store, *keys, clock, rng, "test");
  }
  ~Appliance() {
    // Everything holding the module goes before the token fixture checks it is released.
    authority.reset();
    keys.reset();
  }

  ca::CaRecord root(const std::string& name, KeyAlgorithm algorithm) {
    ca::NewCaRequest request;
    request.name = name;
    request.subject = "CN=" + name + ",O=Signet Integration";
    request.key_algorithm = algorithm;
    auto created = authority->create_root(request);
    INFO((created ? "" : created.error().describe()));
    REQUIRE(created);
    return *created;
  }
};

std::string make_csr(const test::TempDir& dir, const std::string& name) {
  auto result = test::run_command(
      "openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout " +
      (dir / (name + ".key")).string() + " -subj /CN=" + name + ".example.test -out " +
      (dir / (name + ".csr")).string());
  INFO(result.output);
  REQUIRE(result.exit_code == 0);
  return (dir / (name + ".csr")).string();
}

}  // namespace

TEST_CASE("CA keys on the token are sensitive, never extractable and generated there") {
  Appliance a;
  for (auto algorithm : {KeyAlgorithm::kEcP256, KeyAlgorithm::kEcP384, KeyAlgorithm::kRsa2048,
                         KeyAlgorithm::kEd25519}) {
    const std::string name = "ca-" + std::string(base::to_string(algorithm));
    auto record = a.root(name, algorithm);
    auto attributes = a.keys->read_private_key_attributes(record.key);
    REQUIRE(attributes);
    CHECK(attributes->sensitive);
    CHECK(attributes->always_sensitive);
    CHECK(attributes->never_extractable);
    CHECK(attributes->local);
    CHECK_FALSE(attributes->extractable);
    CHECK(attributes->token_object);
    CHECK(attributes->is_private);
    CHECK(record.key.token_serial == a.token.serial());
    CHECK(record.key.id.size() == 16);
  }
}

TEST_CASE("certificates signed on the token verify with OpenSSL and parse with GnuTLS and python") {
  Appliance a;
  auto root = a.root("root", KeyAlgorithm::kEcP384);
  ca::NewCaRequest intermediate;
  intermediate.name = "issuing";
  intermediate.parent = "root";
  intermediate.subject = "CN=issuing,O=Signet Integration";
  intermediate.key_algorithm = KeyAlgorithm::kRsa2048;
  intermediate.path_length = 0;
  auto issuing = a.authority->create_intermediate(intermediate);
  REQUIRE(issuing);
  auto csr = test::read_file(make_csr(a.state, "leaf"));
  auto leaf = a.authority->issue_from_csr({"issuing", csr, 30});
  INFO((leaf ? "" : leaf.error().describe()));
  REQUIRE(leaf);

  test::write_text(a.state / "root.pem", pki::pem_encode("CERTIFICATE", root.certificate_der));
  test::write_text(a.state / "issuing.pem",
                   pki::pem_encode("CERTIFICATE", issuing->certificate_der));
  test::write_text(a.state / "leaf.pem", pki::pem_encode("CERTIFICATE", leaf->der));
  auto verify = test::run_command(
      "openssl verify -x509_strict -CAfile " + (a.state / "root.pem").string() + " -untrusted " +
      (a.state / "issuing.pem").string() + " " + (a.state / "leaf.pem").string());
  INFO(verify.output);
  CHECK(verify.exit_code == 0);
  for (const char* file : {"root.pem", "issuing.pem", "leaf.pem"}) {
    auto gnutls = test::run_command("certtool -i --infile " + (a.state / file).string());
    INFO(gnutls.output);
    CHECK(gnutls.exit_code == 0);
    auto python = test::run_command(
        "/usr/bin/python3 -c 'import sys; from cryptography import x509; "
        "c = x509.load_pem_x509_certificate(open(sys.argv[1], \"rb\").read()); "
        "print(c.serial_number > 0, c.signature_hash_algorithm.name)' " +
        (a.state / file).string());
    INFO(python.output);
    CHECK(python.exit_code == 0);
    CHECK(python.output.find("True") == 0);
  }
  // What the inventory holds is what was issued.
  auto stored = a.store->find_certificate("issuing", leaf->serial);
  REQUIRE(stored);
  REQUIRE(stored->has_value());
  CHECK((*stored)->der == leaf->der);
  CHECK((*stored)->key_algorithm == "ec-p256");
  CHECK((*stored)->digest == "sha256");
}

TEST_CASE("many issuances in flight from two threads share durable commits") {
  Appliance a;
  a.root("root", KeyAlgorithm::kEcP256);
  auto csr = test::read_file(make_csr(a.state, "many"));
  const auto commits_before = a.store->commits();
  std::atomic<int> ok{0};
  std::vector<std::thread> workers;
  for (int t = 0; t < 2; ++t) {
    workers.emplace_back([&] {
      std::vector<std::future<base::Result<ca::CertificateRecord>>> window;
      for (int i = 0; i < 200; ++i) {
        window.push_back(a.authority->issue_from_csr_async({"root", csr, {}}));
        if (window.size() == 32) {
          for (auto& f : window) ok += f.get().has_value() ? 1 : 0;
          window.clear();
        }
      }
      for (auto& f : window) ok += f.get().has_value() ? 1 : 0;
    });
  }
  for (auto& w : workers) w.join();
  CHECK(ok == 400);
  const auto commits = a.store->commits() - commits_before;
  INFO("commits: " << commits);
  CHECK(commits < 400);
  auto integrity = a.store->check_integrity();
  REQUIRE(integrity);
  CHECK(integrity->ok());
  CHECK(integrity->certificates == 401);
}
