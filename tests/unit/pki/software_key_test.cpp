#include <openssl/evp.h>
#include <openssl/x509.h>
#include <catch2/catch.hpp>

#include <set>

#include "base/openssl.h"
#include "pki/software_key.h"
#include "tests/support/software_signer.h"
#include "tests/unit/pki/pki_test_helpers.h"

using namespace signet;
using base::ErrorCode;
using base::KeyAlgorithm;
using pki::SoftwareKey;
using signet::pki::testing::kPython;
using signet::pki::testing::must_run;
using signet::pki::testing::quote;

namespace {

constexpr KeyAlgorithm kAll[] = {KeyAlgorithm::kEcP256,  KeyAlgorithm::kEcP384,
                                 KeyAlgorithm::kRsa2048, KeyAlgorithm::kRsa3072,
                                 KeyAlgorithm::kRsa4096, KeyAlgorithm::kEd25519};

base::Bytes bytes_of(const base::SecureBuffer& buffer) {
  return base::Bytes(buffer.view().begin(), buffer.view().end());
}

// Verifies with OpenSSL from the SPKI alone, with the digest named explicitly.
bool verifies(base::ByteView spki, const EVP_MD* md, base::ByteView message,
              base::ByteView signature) {
  const unsigned char* cursor = spki.data();
  base::EvpPkeyPtr key(d2i_PUBKEY(nullptr, &cursor, static_cast<long>(spki.size())));
  if (!key) return false;
  base::EvpMdCtxPtr context(EVP_MD_CTX_new());
  if (EVP_DigestVerifyInit(context.get(), nullptr, md, nullptr, key.get()) != 1) return false;
  return EVP_DigestVerify(context.get(), signature.data(), signature.size(), message.data(),
                          message.size()) == 1;
}

const EVP_MD* md_for(KeyAlgorithm algorithm) {
  switch (base::default_digest(algorithm)) {
    case base::DigestAlgorithm::kSha384:
      return EVP_sha384();
    case base::DigestAlgorithm::kNone:
      return nullptr;
    default:
      return EVP_sha256();
  }
}

}  // namespace

TEST_CASE("software keys of every algorithm sign in X.509's conventions and verify") {
  const base::Bytes message(700, 0x42);
  for (KeyAlgorithm algorithm : kAll) {
    INFO(base::to_string(algorithm));
    auto key = SoftwareKey::generate(algorithm);
    REQUIRE(key);
    CHECK((*key)->algorithm() == algorithm);
    CHECK((*key)->key_ref().token_serial == "software");
    auto signature = (*key)->sign(message);
    REQUIRE(signature);
    CHECK(verifies((*key)->public_key_der(), md_for(algorithm), message, *signature));
    base::Bytes other = message;
    other[10] ^= 1;
    CHECK_FALSE(verifies((*key)->public_key_der(), md_for(algorithm), other, *signature));
    if (base::is_rsa(algorithm)) {
      CHECK(signature->size() * 8 == std::size_t(base::rsa_bits(algorithm)));
    } else if (algorithm == KeyAlgorithm::kEd25519) {
      CHECK(signature->size() == 64);
    } else {
      CHECK(signature->front() == 0x30);  // DER ECDSA-Sig-Value
    }
  }
}

TEST_CASE("a software key survives to_pkcs8 and from_pkcs8 and keeps signing") {
  for (KeyAlgorithm algorithm : kAll) {
    INFO(base::to_string(algorithm));
    base::KeyRef ref;
    ref.object_label = "local";
    auto key = SoftwareKey::generate(algorithm, ref);
    REQUIRE(key);
    CHECK((*key)->key_ref().object_label == "local");
    auto pkcs8 = (*key)->to_pkcs8();
    REQUIRE(pkcs8);
    CHECK(pkcs8->view().front() == 0x30);
    auto restored = SoftwareKey::from_pkcs8(pkcs8->view());
    REQUIRE(restored);
    CHECK((*restored)->algorithm() == algorithm);
    CHECK((*restored)->public_key_der() == (*key)->public_key_der());
    auto again = (*restored)->to_pkcs8();
    REQUIRE(again);
    CHECK(bytes_of(*again) == bytes_of(*pkcs8));
    const base::Bytes message = {1, 2, 3};
    auto signature = (*restored)->sign(message);
    REQUIRE(signature);
    CHECK(verifies((*key)->public_key_der(), md_for(algorithm), message, *signature));
  }
}

TEST_CASE("python3-cryptography reads our PKCS#8 and verifies our signatures") {
  test::TempDir dir;
  const base::Bytes message(300, 0x17);
  test::write_file(dir / "message", message);
  std::string manifest;
  int index = 0;
  for (KeyAlgorithm algorithm : kAll) {
    auto key = SoftwareKey::generate(algorithm);
    REQUIRE(key);
    auto pkcs8 = (*key)->to_pkcs8();
    REQUIRE(pkcs8);
    auto signature = (*key)->sign(message);
    REQUIRE(signature);
    const std::string stem = std::to_string(index++);
    test::write_file(dir / (stem + ".p8"), pkcs8->view());
    test::write_file(dir / (stem + ".spki"), (*key)->public_key_der());
    test::write_file(dir / (stem + ".sig"), *signature);
    manifest += stem + " " + std::string(base::to_string(algorithm)) + "\n";
  }
  test::write_text(dir / "manifest", manifest);
  test::write_text(dir / "check.py", R"(
import sys, os
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, ed25519
d = sys.argv[1]
message = open(os.path.join(d, "message"), "rb").read()
for line in open(os.path.join(d, "manifest")):
    stem, alg = line.split()
    key = serialization.load_der_private_key(open(os.path.join(d, stem + ".p8"), "rb").read(), None)
    spki = key.public_key().public_bytes(serialization.Encoding.DER,
                                         serialization.PublicFormat.SubjectPublicKeyInfo)
    assert spki == open(os.path.join(d, stem + ".spki"), "rb").read(), alg
    sig = open(os.path.join(d, stem + ".sig"), "rb").read()
    pub = key.public_key()
    if alg.startswith("ec-"):
        h = hashes.SHA384() if alg == "ec-p384" else hashes.SHA256()
        pub.verify(sig, message, ec.ECDSA(h))
    elif alg.startswith("rsa-"):
        pub.verify(sig, message, padding.PKCS1v15(), hashes.SHA256())
    else:
        pub.verify(sig, message)
    print("ok", alg)
)");
  const std::string out = must_run(std::string(kPython) + " " + quote((dir / "check.py").string()) +
                                   " " + quote(dir.str()) + " 2>&1");
  for (KeyAlgorithm algorithm : kAll) {
    CHECK(out.find("ok " + std::string(base::to_string(algorithm))) != std::string::npos);
  }
}

TEST_CASE("from_pkcs8 refuses garbage, trailing bytes and algorithms Signet does not use") {
  auto garbage = SoftwareKey::from_pkcs8(base::Bytes{0x30, 0x03, 0x02, 0x01, 0x00});
  REQUIRE_FALSE(garbage);
  CHECK(garbage.error().code() == ErrorCode::kInvalidArgument);

  auto key = SoftwareKey::generate(KeyAlgorithm::kEcP256);
  REQUIRE(key);
  auto pkcs8 = (*key)->to_pkcs8();
  REQUIRE(pkcs8);
  base::Bytes trailing = bytes_of(*pkcs8);
  trailing.push_back(0);
  auto with_trailing = SoftwareKey::from_pkcs8(trailing);
  REQUIRE_FALSE(with_trailing);
  CHECK(with_trailing.error().code() == ErrorCode::kInvalidArgument);

  test::TempDir dir;
  const std::string p521 = (dir / "p521.der").string();
  must_run(
      "openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-521 | openssl pkcs8 "
      "-topk8 -nocrypt -outform DER -out " +
      quote(p521) + " 2>&1");
  auto unsupported = SoftwareKey::from_pkcs8(test::read_file(p521));
  REQUIRE_FALSE(unsupported);
  CHECK(unsupported.error().code() == ErrorCode::kNotSupported);

  // secp256k1 is 256 bits too, but it is not P-256.
  const std::string k1 = (dir / "k1.der").string();
  must_run(
      "openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:secp256k1 | openssl pkcs8 "
      "-topk8 -nocrypt -outform DER -out " +
      quote(k1) + " 2>&1");
  auto koblitz = SoftwareKey::from_pkcs8(test::read_file(k1));
  REQUIRE_FALSE(koblitz);
  CHECK(koblitz.error().code() == ErrorCode::kNotSupported);
}

TEST_CASE("an openssl-made PKCS#8 key loads and its public key matches openssl's") {
  test::TempDir dir;
  const std::string key_path = (dir / "rsa.der").string();
  const std::string pub_path = (dir / "rsa.pub.der").string();
  must_run(
      "openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:3072 | openssl pkcs8 -topk8 "
      "-nocrypt -outform DER -out " +
      quote(key_path) + " 2>&1");
  must_run("openssl pkey -inform DER -in " + quote(key_path) + " -pubout -outform DER -out " +
           quote(pub_path) + " 2>&1");
  auto key = SoftwareKey::from_pkcs8(test::read_file(key_path));
  REQUIRE(key);
  CHECK((*key)->algorithm() == KeyAlgorithm::kRsa3072);
  CHECK((*key)->public_key_der() == test::read_file(pub_path));
}

TEST_CASE("the test SoftwareSigner is the production SoftwareKey underneath") {
  auto signer = test::SoftwareSigner::generate(KeyAlgorithm::kEcP384);
  REQUIRE(signer);
  REQUIRE((*signer)->key());
  CHECK((*signer)->native() == (*signer)->key()->native());
  auto reloaded = test::SoftwareSigner::from_private_key_pem((*signer)->private_key_pem());
  REQUIRE(reloaded);
  CHECK((*reloaded)->public_key_der() == (*signer)->public_key_der());
  CHECK((*reloaded)->algorithm() == KeyAlgorithm::kEcP384);
}

TEST_CASE("the software key provider wraps with RFC 5649 and detects tampering") {
  test::SoftwareKeyProvider provider;
  const base::Bytes secret(1200, 0x6b);
  auto wrapped = provider.wrap_secret("", secret);
  REQUIRE(wrapped);
  CHECK(wrapped->wrapped.size() == 1208);  // RFC 5649 §4.1: one 8-byte block more
  CHECK(wrapped->kek.object_label == "signet-kek");
  auto unwrapped = provider.unwrap_secret(*wrapped);
  REQUIRE(unwrapped);
  CHECK(bytes_of(*unwrapped) == secret);

  auto odd = provider.wrap_secret("", base::Bytes(13, 0x01));
  REQUIRE(odd);
  CHECK(odd->wrapped.size() == 24);
  auto odd_back = provider.unwrap_secret(*odd);
  REQUIRE(odd_back);
  CHECK(bytes_of(*odd_back) == base::Bytes(13, 0x01));

  base::WrappedSecret altered = *wrapped;
  altered.wrapped[500] ^= 0x80;
  auto refused = provider.unwrap_secret(altered);
  REQUIRE_FALSE(refused);
  CHECK(refused.error().code() == ErrorCode::kVerificationFailed);

  base::WrappedSecret other_kek = *wrapped;
  other_kek.kek.id = {9, 9};
  auto not_found = provider.unwrap_secret(other_kek);
  REQUIRE_FALSE(not_found);
  CHECK(not_found.error().code() == ErrorCode::kNotFound);

  provider.forget_kek();
  auto gone = provider.unwrap_secret(*wrapped);
  REQUIRE_FALSE(gone);
  CHECK(gone.error().code() == ErrorCode::kNotFound);
}

TEST_CASE("the software key provider reports room until a test says it is full") {
  test::SoftwareKeyProvider provider;
  CHECK(provider.check_room(""));
  provider.set_room(false);
  auto full = provider.check_room("hsm-1");
  REQUIRE_FALSE(full);
  CHECK(full.error().code() == ErrorCode::kResourceExhausted);
  CHECK(full.error().message().find("hsm-1") != std::string::npos);
  provider.set_room(true);
  CHECK(provider.check_room("hsm-1"));
}
