#include <catch2/catch.hpp>

#include <algorithm>
#include <atomic>
#include <thread>
#include <vector>

#include "pki/csr.h"
#include "pki/name.h"
#include "tests/support/software_signer.h"
#include "tests/unit/pki/pki_test_helpers.h"

using namespace signet;
using namespace signet::pki;
using signet::pki::testing::must_run;
using signet::pki::testing::quote;

namespace {

base::Bytes fixture(const std::string& name) {
  return test::read_file(test::test_data_dir() / "csr" / name);
}

std::string parse_error(const base::Bytes& data) {
  auto csr = Csr::parse(data);
  REQUIRE_FALSE(csr);
  return csr.error().message();
}

}  // namespace

TEST_CASE("CSR fixtures from openssl req parse, verify and name their keys") {
  struct Case {
    const char* file;
    const char* key_name;
    PublicKeyInfo::Type type;
    int bits;
    const char* curve;
    std::optional<base::KeyAlgorithm> algorithm;
    const char* cn;
  };
  const Case cases[] = {
      {"rsa2048.pem", "rsa-2048", PublicKeyInfo::Type::kRsa, 2048, "", base::KeyAlgorithm::kRsa2048,
       "rsa2048.example.com"},
      {"rsa1024.pem", "rsa-1024", PublicKeyInfo::Type::kRsa, 1024, "", std::nullopt,
       "rsa1024.example.com"},
      {"ec_p256.pem", "ec-p256", PublicKeyInfo::Type::kEc, 256, "P-256",
       base::KeyAlgorithm::kEcP256, "ec_p256.example.com"},
      {"ec_p256_new_label.pem", "ec-p256", PublicKeyInfo::Type::kEc, 256, "P-256",
       base::KeyAlgorithm::kEcP256, "ec_p256.example.com"},
      {"ec_p384.pem", "ec-p384", PublicKeyInfo::Type::kEc, 384, "P-384",
       base::KeyAlgorithm::kEcP384, "ec_p384.example.com"},
      {"ec_p384.der", "ec-p384", PublicKeyInfo::Type::kEc, 384, "P-384",
       base::KeyAlgorithm::kEcP384, "ec_p384.example.com"},
      {"ed25519.pem", "ed25519", PublicKeyInfo::Type::kEd25519, 256, "",
       base::KeyAlgorithm::kEd25519, "ed25519.example.com"},
      {"secp256k1.pem", "ec-secp256k1", PublicKeyInfo::Type::kEc, 256, "secp256k1", std::nullopt,
       "secp256k1.example.com"},
  };
  for (const auto& c : cases) {
    INFO(c.file);
    auto csr = Csr::parse(fixture(c.file));
    REQUIRE(csr);
    auto verified = csr->verify_signature();
    INFO((verified ? "" : verified.error().message()));
    CHECK(verified);
    CHECK(csr->public_key().name == c.key_name);
    CHECK(csr->public_key().type == c.type);
    CHECK(csr->public_key().bits == c.bits);
    CHECK(csr->public_key().curve == c.curve);
    CHECK(csr->public_key().algorithm == c.algorithm);
    CHECK(csr->common_name() == c.cn);
    CHECK(csr->subject() == std::string("CN=") + c.cn + ",O=Signet Test,C=DE");
    CHECK(format_distinguished_name(csr->subject_der()).value() == csr->subject());
    CHECK(csr->requested_subject_alt_names().value().empty());
  }
}

TEST_CASE("the PEM and DER forms of one request parse to the same DER") {
  auto pem = Csr::parse(fixture("ec_p384.pem"));
  auto der = Csr::parse(fixture("ec_p384.der"));
  REQUIRE(pem);
  REQUIRE(der);
  CHECK(pem->der() == der->der());
  CHECK(pem->public_key_der() == der->public_key_der());
}

TEST_CASE("requested SANs are read from the extensionRequest and checked") {
  auto csr = Csr::parse(fixture("with_sans.pem"));
  REQUIRE(csr);
  REQUIRE(csr->verify_signature());
  auto sans = csr->requested_subject_alt_names();
  REQUIRE(sans);
  std::vector<std::string> texts;
  for (const auto& san : *sans) texts.push_back(san.to_string());
  CHECK(texts == std::vector<std::string>{"DNS:www.example.com", "DNS:example.com", "IP:192.0.2.1",
                                          "IP:2001:db8::1", "email:ops@example.com",
                                          "URI:https://example.com/"});
  CHECK((*sans)[3].ip_octets.size() == 16);

  auto bad = Csr::parse(fixture("bad_san.pem"));
  REQUIRE(bad);
  auto bad_sans = bad->requested_subject_alt_names();
  REQUIRE_FALSE(bad_sans);
  CHECK(bad_sans.error().message().find("DNS:bad_name.example.com") != std::string::npos);
}

TEST_CASE("a request whose signature was altered fails proof of possession") {
  auto csr = Csr::parse(fixture("corrupt_signature.der"));
  REQUIRE(csr);  // it parses: only the signature is wrong
  auto verified = csr->verify_signature();
  REQUIRE_FALSE(verified);
  CHECK(verified.error().code() == base::ErrorCode::kVerificationFailed);
  CHECK(verified.error().message().rfind(
            "CSR signature does not verify (proof of possession failed)", 0) == 0);
}

TEST_CASE("a request whose EC key is not a point of its curve fails proof of possession") {
  for (const char* file : {"ec_p256.pem", "ec_p384.der"}) {
    INFO(file);
    auto csr = Csr::parse(fixture(file));
    REQUIRE(csr);
    base::Bytes der = csr->der();
    // The uncompressed point 04||X||Y sits at the end of the SPKI: change the last byte of Y.
    const base::Bytes spki = csr->public_key_der();
    const auto at = std::search(der.begin(), der.end(), spki.begin(), spki.end());
    REQUIRE(at != der.end());
    *(at + static_cast<std::ptrdiff_t>(spki.size()) - 1) ^= 0x01;
    auto altered = Csr::parse(der);
    REQUIRE(altered);
    auto verified = altered->verify_signature();
    REQUIRE_FALSE(verified);
    CHECK(verified.error().message().find("EC public key is invalid") != std::string::npos);
  }
}

TEST_CASE("EC requests verify from many threads at once (shared curve parameters)") {
  const auto p256 = fixture("ec_p256.pem");
  const auto p384 = fixture("ec_p384.der");
  std::atomic<int> verified{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 25; ++i) {
        auto csr = Csr::parse(i % 2 == 0 ? p256 : p384);
        if (csr && csr->verify_signature()) ++verified;
      }
    });
  }
  for (auto& thread : threads) thread.join();
  CHECK(verified.load() == 100);
}

TEST_CASE("truncated, padded and foreign input is refused saying what is wrong") {
  CHECK(parse_error(fixture("truncated.der")).find("truncated") != std::string::npos);
  CHECK(parse_error(fixture("trailing.der")).find("trailing data after the request") !=
        std::string::npos);
  CHECK(parse_error(fixture("garbage.txt")) == "not a PEM or DER certificate request");
  CHECK(parse_error({}).find("not a PEM or DER certificate request") != std::string::npos);

  // PEM cut before its END line, and PEM of another kind.
  std::string pem = test::read_text(test::test_data_dir() / "csr" / "rsa2048.pem");
  const std::string cut = pem.substr(0, pem.size() / 2);
  CHECK(parse_error(base::Bytes(cut.begin(), cut.end())).find("truncated") != std::string::npos);
  const std::string other = "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n";
  CHECK(parse_error(base::Bytes(other.begin(), other.end())).find("no CERTIFICATE REQUEST block") !=
        std::string::npos);

  // A well-formed DER SEQUENCE that is not a request.
  const base::Bytes sequence{0x30, 0x03, 0x02, 0x01, 0x00};
  CHECK(parse_error(sequence).find("not a PKCS#10 certificate request") != std::string::npos);
}

TEST_CASE("build_csr signs a request that openssl req -verify accepts") {
  const base::KeyAlgorithm algorithms[] = {base::KeyAlgorithm::kEcP256, base::KeyAlgorithm::kEcP384,
                                           base::KeyAlgorithm::kRsa2048,
                                           base::KeyAlgorithm::kEd25519};
  test::TempDir dir;
  for (auto algorithm : algorithms) {
    INFO(base::to_string(algorithm));
    auto signer = test::SoftwareSigner::generate(algorithm);
    REQUIRE(signer);
    auto subject = parse_distinguished_name("CN=Signet Intermediate,O=Example,C=DE");
    REQUIRE(subject);
    std::vector<GeneralName> sans = {parse_general_name("DNS:ca.example.com").value(),
                                     parse_general_name("IP:2001:db8::7").value()};
    auto der = build_csr(*subject, sans, **signer);
    REQUIRE(der);
    const auto path = dir / "request.der";
    test::write_file(path, *der);
    const std::string text = must_run("openssl req -inform DER -in " + quote(path.string()) +
                                      " -verify -noout -text 2>&1");
    CHECK(text.find("verify OK") != std::string::npos);
    CHECK(text.find("DNS:ca.example.com, IP Address:2001:DB8:0:0:0:0:0:7") != std::string::npos);

    auto parsed = Csr::parse(*der);
    REQUIRE(parsed);
    CHECK(parsed->subject() == "CN=Signet Intermediate,O=Example,C=DE");
    CHECK(parsed->public_key_der() == (*signer)->public_key_der());
    CHECK(parsed->requested_subject_alt_names().value() == sans);
  }
}

TEST_CASE("build_csr with an empty subject marks the SAN critical, and without SANs omits them") {
  auto signer = test::SoftwareSigner::generate(base::KeyAlgorithm::kEcP256);
  REQUIRE(signer);
  test::TempDir dir;
  const base::Bytes empty{0x30, 0x00};
  auto der = build_csr(empty, {parse_general_name("DNS:only.example.com").value()}, **signer);
  REQUIRE(der);
  test::write_file(dir / "empty.der", *der);
  const std::string text =
      must_run("openssl req -inform DER -in " + quote((dir / "empty.der").string()) +
               " -verify -noout -text 2>&1");
  CHECK(text.find("X509v3 Subject Alternative Name: critical") != std::string::npos);

  auto subject = parse_distinguished_name("CN=plain");
  auto plain = build_csr(*subject, {}, **signer);
  REQUIRE(plain);
  test::write_file(dir / "plain.der", *plain);
  const std::string plain_text =
      must_run("openssl req -inform DER -in " + quote((dir / "plain.der").string()) +
               " -verify -noout -text 2>&1");
  CHECK(plain_text.find("verify OK") != std::string::npos);
  CHECK(plain_text.find("Subject Alternative Name") == std::string::npos);

  auto refused = build_csr(empty, {}, **signer);
  REQUIRE_FALSE(refused);
  CHECK(refused.error().message().find("needs a subject name or subjectAltNames") !=
        std::string::npos);
}

TEST_CASE("a UPN subject alternative name survives a request built and parsed again") {
  auto signer = signet::test::SoftwareSigner::generate(base::KeyAlgorithm::kEcP256);
  REQUIRE(signer);
  auto subject = parse_distinguished_name("CN=Ada Lovelace");
  REQUIRE(subject);
  std::vector<GeneralName> sans;
  for (const char* text : {"email:ada@example.com", "UPN:ada@corp.example"}) {
    auto name = parse_general_name(text);
    REQUIRE(name);
    sans.push_back(*name);
  }
  auto der = build_csr(*subject, sans, **signer);
  REQUIRE(der);
  auto csr = Csr::parse(*der);
  REQUIRE(csr);
  REQUIRE(csr->verify_signature());
  auto requested = csr->requested_subject_alt_names();
  REQUIRE(requested);
  REQUIRE(requested->size() == 2);
  CHECK((*requested)[1].type == GeneralName::Type::kUpn);
  CHECK((*requested)[1].to_string() == "UPN:ada@corp.example");
}
