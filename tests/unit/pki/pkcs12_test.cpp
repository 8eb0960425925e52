#include <catch2/catch.hpp>

#include <set>

#include "pki/pkcs12.h"
#include "pki/software_key.h"
#include "tests/unit/pki/pki_test_helpers.h"

using namespace signet;
using base::ErrorCode;
using base::KeyAlgorithm;
using pki::PfxProfile;
using signet::pki::testing::kPython;
using signet::pki::testing::must_run;
using signet::pki::testing::quote;

namespace {

// A CA made by openssl, and a leaf whose key is a SoftwareKey and whose certificate openssl
// issues from our PKCS#8 (so that openssl also reads to_pkcs8()'s output).
struct Issued {
  base::Bytes leaf_der;
  base::Bytes ca_der;
  base::Bytes pkcs8;
  base::Bytes spki;
};

Issued issue(const test::TempDir& dir, KeyAlgorithm algorithm) {
  auto key = pki::SoftwareKey::generate(algorithm);
  REQUIRE(key);
  auto pkcs8 = (*key)->to_pkcs8();
  REQUIRE(pkcs8);
  const std::string p8 = (dir / "leaf.p8").string();
  test::write_file(p8, pkcs8->view());
  const auto path = [&](const char* name) { return quote((dir / name).string()); };
  must_run("openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout " +
           path("ca.key") + " -out " + path("ca.pem") + " -subj '/CN=PFX Test CA' -days 30 2>&1");
  must_run("openssl x509 -in " + path("ca.pem") + " -outform DER -out " + path("ca.der") + " 2>&1");
  must_run("openssl req -new -key " + quote(p8) + " -keyform DER -subj '/CN=pfx leaf' -out " +
           path("leaf.csr") + " 2>&1");
  must_run("openssl x509 -req -in " + path("leaf.csr") + " -CA " + path("ca.pem") + " -CAkey " +
           path("ca.key") + " -CAcreateserial -CAserial " + path("ca.srl") +
           " -days 10 -outform DER -out " + path("leaf.der") + " 2>&1");
  Issued out;
  out.leaf_der = test::read_file(dir / "leaf.der");
  out.ca_der = test::read_file(dir / "ca.der");
  out.pkcs8.assign(pkcs8->view().begin(), pkcs8->view().end());
  out.spki = (*key)->public_key_der();
  return out;
}

// Writes the password to a 0600 file for `-passin file:` (never on a command line).
std::string password_file(const test::TempDir& dir, const std::string& name,
                          const base::SecureBuffer& password) {
  const auto path = dir / name;
  test::write_text(path, std::string(base::as_chars(password.view())) + "\n", 0600);
  return path.string();
}

base::SecureBuffer secret(std::string_view text) {
  return base::SecureBuffer::copy_of(base::as_bytes(text));
}

std::size_t count(const std::string& text, const std::string& what) {
  std::size_t n = 0;
  for (auto at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

constexpr const char* kLoadPfx = R"(
import sys
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.serialization import pkcs12
data = open(sys.argv[1], "rb").read()
password = open(sys.argv[2], "rb").read().rstrip(b"\n")
key, cert, extra = pkcs12.load_key_and_certificates(data, password)
spki = key.public_key().public_bytes(serialization.Encoding.DER,
                                     serialization.PublicFormat.SubjectPublicKeyInfo)
assert spki == open(sys.argv[3], "rb").read(), "key"
assert cert.public_bytes(serialization.Encoding.DER) == open(sys.argv[4], "rb").read(), "cert"
assert [c.public_bytes(serialization.Encoding.DER) for c in extra] == \
    [open(sys.argv[5], "rb").read()], "chain"
if hasattr(pkcs12, "load_pkcs12"):
    print("friendly:", pkcs12.load_pkcs12(data, password).cert.friendly_name.decode())
print("loaded")
)";

// Builds a PFX in `profile` and has openssl and python3-cryptography read it back.
std::string build_and_read(PfxProfile profile, KeyAlgorithm algorithm) {
  test::TempDir dir;
  const Issued issued = issue(dir, algorithm);
  auto password = pki::random_pfx_password();
  REQUIRE(password);
  auto pfx = pki::build_pfx(issued.leaf_der, {issued.ca_der}, issued.pkcs8, password->view(),
                            profile, "Signet test key");
  REQUIRE(pfx);
  const std::string pfx_path = (dir / "out.p12").string();
  test::write_file(pfx_path, *pfx);
  const std::string pass = password_file(dir, "pw", *password);
  const std::string in = " -in " + quote(pfx_path) + " -passin file:" + quote(pass);

  const std::string info = must_run("openssl pkcs12 -info -noout" + in + " 2>&1");

  // The bags: the certificates with their friendly name, and the key, which must be ours.
  const std::string certs = must_run("openssl pkcs12 -nokeys" + in + " 2>&1");
  CHECK(count(certs, "BEGIN CERTIFICATE") == 2);
  CHECK(certs.find("friendlyName: Signet test key") != std::string::npos);
  must_run("openssl pkcs12 -nocerts -nodes" + in + " -out " + quote((dir / "key.pem").string()) +
           " 2>&1");
  must_run("openssl pkey -in " + quote((dir / "key.pem").string()) + " -pubout -outform DER -out " +
           quote((dir / "spki.der").string()) + " 2>&1");
  CHECK(test::read_file(dir / "spki.der") == issued.spki);

  // An independent implementation: python3-cryptography.
  test::write_file(dir / "spki.expected", issued.spki);
  test::write_text(dir / "load.py", kLoadPfx);
  const std::string loaded = must_run(
      std::string(kPython) + " " + quote((dir / "load.py").string()) + " " + quote(pfx_path) + " " +
      quote(pass) + " " + quote((dir / "spki.expected").string()) + " " +
      quote((dir / "leaf.der").string()) + " " + quote((dir / "ca.der").string()) + " 2>&1");
  CHECK(loaded.find("loaded") != std::string::npos);
  if (loaded.find("friendly:") != std::string::npos) {
    CHECK(loaded.find("friendly: Signet test key") != std::string::npos);
  }

  // A wrong password fails the MAC, for openssl and for python.
  const std::string wrong = password_file(dir, "wrong", secret("not the password"));
  auto refused = test::run_command("openssl pkcs12 -info -noout -in " + quote(pfx_path) +
                                   " -passin file:" + quote(wrong) + " 2>&1");
  CHECK(refused.exit_code != 0);
  CHECK(refused.output.find("Mac verify error") != std::string::npos);
  auto python_refused = test::run_command(
      std::string(kPython) + " " + quote((dir / "load.py").string()) + " " + quote(pfx_path) + " " +
      quote(wrong) + " " + quote((dir / "spki.expected").string()) + " " +
      quote((dir / "leaf.der").string()) + " " + quote((dir / "ca.der").string()) + " 2>&1");
  CHECK(python_refused.exit_code != 0);
  return info;
}

}  // namespace

TEST_CASE("a modern PFX uses AES-256-CBC with PBKDF2-HMAC-SHA256 and an HMAC-SHA-256 MAC") {
  const std::string info = build_and_read(PfxProfile::kModern, KeyAlgorithm::kEcP256);
  INFO(info);
  CHECK(info.find("MAC: sha256, Iteration " + std::to_string(pki::kModernPfxIterations)) !=
        std::string::npos);
  // Both the certificates' encrypted data and the shrouded key bag.
  const std::string pbes2 = "PBES2, PBKDF2, AES-256-CBC, Iteration " +
                            std::to_string(pki::kModernPfxIterations) + ", PRF hmacWithSHA256";
  CHECK(count(info, pbes2) == 2);
  CHECK(info.find("PKCS7 Encrypted data: " + pbes2) != std::string::npos);
  CHECK(info.find("Shrouded Keybag: " + pbes2) != std::string::npos);
  CHECK(info.find("TripleDES") == std::string::npos);
  CHECK(info.find("sha1") == std::string::npos);
}

TEST_CASE("a compat PFX uses pbeWithSHA1And3-KeyTripleDES-CBC and a SHA-1 MAC, 2048 rounds") {
  const std::string info = build_and_read(PfxProfile::kCompat, KeyAlgorithm::kRsa2048);
  INFO(info);
  CHECK(info.find("MAC: sha1, Iteration 2048") != std::string::npos);
  const std::string pbe = "pbeWithSHA1And3-KeyTripleDES-CBC, Iteration 2048";
  CHECK(count(info, pbe) == 2);
  CHECK(info.find("PKCS7 Encrypted data: " + pbe) != std::string::npos);
  CHECK(info.find("Shrouded Keybag: " + pbe) != std::string::npos);
  CHECK(info.find("AES") == std::string::npos);
}

TEST_CASE("Ed25519 keys go into a modern PFX that openssl reads") {
  const std::string info = build_and_read(PfxProfile::kModern, KeyAlgorithm::kEd25519);
  CHECK(info.find("Shrouded Keybag: PBES2") != std::string::npos);
}

TEST_CASE("build_pfx refuses a key that does not match the certificate") {
  test::TempDir dir;
  const Issued issued = issue(dir, KeyAlgorithm::kEcP256);
  auto other = pki::SoftwareKey::generate(KeyAlgorithm::kEcP256);
  REQUIRE(other);
  auto other_pkcs8 = (*other)->to_pkcs8();
  REQUIRE(other_pkcs8);
  auto refused = pki::build_pfx(issued.leaf_der, {}, other_pkcs8->view(), secret("pw").view(),
                                PfxProfile::kCompat, "x");
  REQUIRE_FALSE(refused);
  CHECK(refused.error().code() == ErrorCode::kInvalidArgument);
  CHECK(refused.error().message().find("does not match") != std::string::npos);

  // The CA's certificate with the leaf's key: also a mismatch.
  auto swapped = pki::build_pfx(issued.ca_der, {}, issued.pkcs8, secret("pw").view(),
                                PfxProfile::kCompat, "x");
  REQUIRE_FALSE(swapped);
  CHECK(swapped.error().code() == ErrorCode::kInvalidArgument);
}

TEST_CASE("build_pfx refuses malformed inputs, naming which one") {
  test::TempDir dir;
  const Issued issued = issue(dir, KeyAlgorithm::kEcP256);
  const auto pw = secret("pw");
  auto bad_cert = pki::build_pfx(base::Bytes{0x30, 0x00}, {}, issued.pkcs8, pw.view(),
                                 PfxProfile::kCompat, "x");
  REQUIRE_FALSE(bad_cert);
  CHECK(bad_cert.error().code() == ErrorCode::kInvalidArgument);
  CHECK(bad_cert.error().message().find("the certificate") != std::string::npos);

  auto bad_chain = pki::build_pfx(issued.leaf_der, {issued.ca_der, base::Bytes{1, 2, 3}},
                                  issued.pkcs8, pw.view(), PfxProfile::kCompat, "x");
  REQUIRE_FALSE(bad_chain);
  CHECK(bad_chain.error().message().find("chain certificate 2") != std::string::npos);

  auto bad_key = pki::build_pfx(issued.leaf_der, {}, base::Bytes{0x30, 0x01, 0x00}, pw.view(),
                                PfxProfile::kCompat, "x");
  REQUIRE_FALSE(bad_key);
  CHECK(bad_key.error().code() == ErrorCode::kInvalidArgument);
  CHECK(bad_key.error().message().find("PKCS#8") != std::string::npos);

  auto nul = pki::build_pfx(issued.leaf_der, {}, issued.pkcs8,
                            base::as_bytes(std::string_view("a\0b", 3)), PfxProfile::kCompat, "x");
  REQUIRE_FALSE(nul);
  CHECK(nul.error().code() == ErrorCode::kInvalidArgument);
}

TEST_CASE("PFX profiles are named modern and compat") {
  CHECK(pki::to_string(PfxProfile::kModern) == "modern");
  CHECK(pki::to_string(PfxProfile::kCompat) == "compat");
  auto modern = pki::parse_pfx_profile("modern");
  REQUIRE(modern);
  CHECK(*modern == PfxProfile::kModern);
  auto compat = pki::parse_pfx_profile("compat");
  REQUIRE(compat);
  CHECK(*compat == PfxProfile::kCompat);
  auto unknown = pki::parse_pfx_profile("legacy");
  REQUIRE_FALSE(unknown);
  CHECK(unknown.error().code() == ErrorCode::kInvalidArgument);
  CHECK(unknown.error().message().find("'legacy'") != std::string::npos);
}

TEST_CASE("random PFX passwords are 24 characters without look-alikes, and differ") {
  const std::string alphabet = "23456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghjkmnpqrstuvwxyz";
  std::set<char> seen;
  std::set<std::string> passwords;
  for (int i = 0; i < 400; ++i) {
    auto password = pki::random_pfx_password();
    REQUIRE(password);
    REQUIRE(password->size() == 24);
    const std::string text(base::as_chars(password->view()));
    for (char c : text) {
      INFO(text);
      REQUIRE(alphabet.find(c) != std::string::npos);
      seen.insert(c);
    }
    passwords.insert(text);
  }
  CHECK(passwords.size() == 400);
  // 9600 draws over 55 characters: every one appears (each is missing with p ~ e^-174).
  CHECK(seen.size() == alphabet.size());
  for (char look_alike : std::string("0O1lIio")) CHECK(seen.count(look_alike) == 0);
}
