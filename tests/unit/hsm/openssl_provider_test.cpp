// hsm/openssl_provider.h with software signers: the bridged EVP_PKEYs look like the default
// provider's keys to EVP and X.509, sign through the Signer, and fail cleanly when it fails.
#include <catch2/catch.hpp>

#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/provider.h>
#include <openssl/rsa.h>

#include <atomic>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "hsm/openssl_provider.h"
#include "tests/support/software_signer.h"
#include "tests/unit/hsm/provider_test_support.h"

using namespace signet;
using base::DigestAlgorithm;
using base::ErrorCode;
using base::KeyAlgorithm;

namespace {

struct Case {
  KeyAlgorithm algorithm;
  const char* md;  // null: Ed25519
  bool pss;
  const char* type;
  const char* oid_name;
  int bits;
};

const std::vector<Case> kCases = {
    {KeyAlgorithm::kEcP256, "SHA256", false, "EC", "id-ecPublicKey", 256},
    {KeyAlgorithm::kEcP384, "SHA384", false, "EC", "id-ecPublicKey", 384},
    {KeyAlgorithm::kRsa2048, "SHA256", false, "RSA", "rsaEncryption", 2048},
    {KeyAlgorithm::kRsa2048, "SHA256", true, "RSA", "rsaEncryption", 2048},
    {KeyAlgorithm::kRsa2048, "SHA384", true, "RSA", "rsaEncryption", 2048},
    {KeyAlgorithm::kEd25519, nullptr, false, "ED25519", "ED25519", 256},
};

std::string describe(const Case& c) {
  return std::string(base::to_string(c.algorithm)) + (c.md ? std::string(" ") + c.md : "") +
         (c.pss ? " PSS" : "");
}

std::unique_ptr<hsm::OpensslBridge> make_bridge() {
  auto bridge = hsm::OpensslBridge::create();
  REQUIRE(bridge);
  return std::move(bridge).value();
}

std::shared_ptr<test::SoftwareSigner> make_signer(KeyAlgorithm algorithm) {
  auto signer = test::SoftwareSigner::generate(algorithm);
  REQUIRE(signer);
  return *signer;
}

// EVP_DigestSign in the bridge's context; streaming (update + final) unless Ed25519.
base::Bytes digest_sign(OSSL_LIB_CTX* libctx, EVP_PKEY* key, const Case& c,
                        base::ByteView message) {
  base::EvpMdCtxPtr context(EVP_MD_CTX_new());
  EVP_PKEY_CTX* pkey_context = nullptr;
  REQUIRE(EVP_DigestSignInit_ex(context.get(), &pkey_context, c.md, libctx, nullptr, key,
                                nullptr) == 1);
  if (c.pss) REQUIRE(test::set_pss(pkey_context));
  size_t length = 0;
  if (c.md == nullptr) {
    if (EVP_DigestSign(context.get(), nullptr, &length, message.data(), message.size()) != 1) {
      return {};
    }
    base::Bytes signature(length);
    if (EVP_DigestSign(context.get(), signature.data(), &length, message.data(), message.size()) !=
        1) {
      return {};
    }
    signature.resize(length);
    return signature;
  }
  REQUIRE(EVP_DigestSignUpdate(context.get(), message.data(), 10) == 1);
  REQUIRE(EVP_DigestSignUpdate(context.get(), message.data() + 10, message.size() - 10) == 1);
  if (EVP_DigestSignFinal(context.get(), nullptr, &length) != 1) return {};
  base::Bytes signature(length);
  if (EVP_DigestSignFinal(context.get(), signature.data(), &length) != 1) return {};
  signature.resize(length);
  return signature;
}

// A signer whose every signature fails, as a token that was pulled out would.
class FailingSigner final : public base::Signer {
 public:
  explicit FailingSigner(std::shared_ptr<test::SoftwareSigner> inner) : inner_(std::move(inner)) {}
  const base::KeyRef& key_ref() const override { return inner_->key_ref(); }
  KeyAlgorithm algorithm() const override { return inner_->algorithm(); }
  const base::Bytes& public_key_der() const override { return inner_->public_key_der(); }
  base::Result<base::Bytes> sign(base::ByteView) const override { return failure(); }
  base::Result<base::Bytes> sign_digest(base::ByteView,
                                        const base::SignatureScheme&) const override {
    return failure();
  }

 private:
  static base::Error failure() {
    return base::Error(ErrorCode::kTokenError, "token 'ca-hsm' was removed (test)");
  }
  std::shared_ptr<test::SoftwareSigner> inner_;
};

}  // namespace

TEST_CASE("sign_digest of the software signer: every scheme verifies, bad input is refused") {
  const base::Bytes message(300, 0x42);
  for (const Case& c : kCases) {
    INFO(describe(c));
    auto signer = make_signer(c.algorithm);
    const DigestAlgorithm digest = c.md == nullptr                 ? DigestAlgorithm::kSha256
                                   : std::string(c.md) == "SHA384" ? DigestAlgorithm::kSha384
                                                                   : DigestAlgorithm::kSha256;
    base::Bytes hashed(EVP_MAX_MD_SIZE);
    unsigned int length = 0;
    REQUIRE(EVP_Digest(message.data(), message.size(), hashed.data(), &length,
                       digest == DigestAlgorithm::kSha384 ? EVP_sha384() : EVP_sha256(),
                       nullptr) == 1);
    hashed.resize(length);
    const base::SignatureScheme scheme{
        digest, c.pss ? base::RsaPadding::kPss : base::RsaPadding::kPkcs1v15};
    auto signature = signer->sign_digest(hashed, scheme);
    if (c.algorithm == KeyAlgorithm::kEd25519) {
      REQUIRE_FALSE(signature);
      CHECK(signature.error().code() == ErrorCode::kNotSupported);
      continue;
    }
    REQUIRE(signature);
    CHECK(test::default_provider_verifies(signer->public_key_der(), c.md, c.pss, message,
                                          *signature));
    hashed.pop_back();
    auto short_digest = signer->sign_digest(hashed, scheme);
    REQUIRE_FALSE(short_digest);
    CHECK(short_digest.error().code() == ErrorCode::kInvalidArgument);
  }
}

TEST_CASE("bridged keys answer EVP like the default provider's keys") {
  auto bridge = make_bridge();
  for (const Case& c : kCases) {
    INFO(describe(c));
    auto signer = make_signer(c.algorithm);
    auto key = bridge->make_key(signer);
    REQUIRE(key);
    EVP_PKEY* native = signer->native();
    CHECK(EVP_PKEY_is_a(key->get(), c.type) == 1);
    CHECK(EVP_PKEY_is_a(key->get(), c.oid_name) == 1);
    CHECK(EVP_PKEY_get_base_id(key->get()) == EVP_PKEY_get_base_id(native));
    CHECK(EVP_PKEY_get_bits(key->get()) == EVP_PKEY_get_bits(native));
    CHECK(EVP_PKEY_get_security_bits(key->get()) == EVP_PKEY_get_security_bits(native));
    CHECK(EVP_PKEY_get_size(key->get()) == EVP_PKEY_get_size(native));
    CHECK(EVP_PKEY_can_sign(key->get()) == 1);

    // The public half, as i2d_PUBKEY encodes it, is the signer's SPKI.
    unsigned char* der = nullptr;
    const int der_length = i2d_PUBKEY(key->get(), &der);
    REQUIRE(der_length > 0);
    CHECK(base::Bytes(der, der + der_length) == signer->public_key_der());
    OPENSSL_free(der);

    char name[64] = {};
    if (std::string(c.type) == "EC") {
      REQUIRE(EVP_PKEY_get_group_name(key->get(), name, sizeof(name), nullptr) == 1);
      CHECK(std::string(name) ==
            (c.algorithm == KeyAlgorithm::kEcP256 ? "prime256v1" : "secp384r1"));
    }
    if (c.md != nullptr) {
      REQUIRE(EVP_PKEY_get_default_digest_name(key->get(), name, sizeof(name)) > 0);
      CHECK(std::string(name) == (c.algorithm == KeyAlgorithm::kEcP384 ? "SHA384" : "SHA256"));
    } else {
      CHECK(EVP_PKEY_get_default_digest_name(key->get(), name, sizeof(name)) == 2);  // mandatory
    }
    if (std::string(c.type) == "RSA") {
      BIGNUM* n = nullptr;
      REQUIRE(EVP_PKEY_get_bn_param(key->get(), OSSL_PKEY_PARAM_RSA_N, &n) == 1);
      CHECK(BN_num_bits(n) == 2048);
      BN_free(n);
    }
  }
}

TEST_CASE("EVP_DigestSign in the bridge's context makes signatures the default provider verifies") {
  auto bridge = make_bridge();
  base::Bytes message(777);
  for (std::size_t i = 0; i < message.size(); ++i) message[i] = static_cast<std::uint8_t>(i * 7);
  for (const Case& c : kCases) {
    INFO(describe(c));
    auto signer = make_signer(c.algorithm);
    auto key = bridge->make_key(signer);
    REQUIRE(key);
    const base::Bytes signature = digest_sign(bridge->library_context(), key->get(), c, message);
    INFO(test::openssl_errors_with_data());
    REQUIRE_FALSE(signature.empty());
    CHECK(
        test::default_provider_verifies(signer->public_key_der(), c.md, c.pss, message, signature));
    base::Bytes tampered = message;
    tampered[5] ^= 0x01;
    CHECK_FALSE(test::default_provider_verifies(signer->public_key_der(), c.md, c.pss, tampered,
                                                signature));
    if (c.pss) {  // a PKCS#1 v1.5 verifier must not accept it: it really is PSS
      CHECK_FALSE(test::default_provider_verifies(signer->public_key_der(), c.md, false, message,
                                                  signature));
    }
  }
}

TEST_CASE("EVP_PKEY_sign over a digest signs with the digest set on the context") {
  auto bridge = make_bridge();
  const base::Bytes message(64, 0x17);
  for (const Case& c : kCases) {
    if (c.md == nullptr) continue;  // Ed25519 cannot sign a digest
    INFO(describe(c));
    auto signer = make_signer(c.algorithm);
    auto key = bridge->make_key(signer);
    REQUIRE(key);
    base::EvpMdPtr md(EVP_MD_fetch(nullptr, c.md, nullptr));
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int digest_length = 0;
    REQUIRE(EVP_Digest(message.data(), message.size(), digest, &digest_length, md.get(), nullptr) ==
            1);
    base::EvpPkeyCtxPtr context(
        EVP_PKEY_CTX_new_from_pkey(bridge->library_context(), key->get(), nullptr));
    REQUIRE(EVP_PKEY_sign_init(context.get()) == 1);
    REQUIRE(EVP_PKEY_CTX_set_signature_md(context.get(), md.get()) == 1);
    if (c.pss) REQUIRE(test::set_pss(context.get()));
    size_t length = 0;
    REQUIRE(EVP_PKEY_sign(context.get(), nullptr, &length, digest, digest_length) == 1);
    base::Bytes signature(length);
    REQUIRE(EVP_PKEY_sign(context.get(), signature.data(), &length, digest, digest_length) == 1);
    signature.resize(length);
    CHECK(
        test::default_provider_verifies(signer->public_key_der(), c.md, c.pss, message, signature));
  }
}

TEST_CASE("X509_check_private_key pairs a bridged key with its certificate, either way round") {
  auto bridge = make_bridge();
  for (const Case& c : kCases) {
    if (c.pss) continue;  // same keys as the PKCS#1 case
    INFO(describe(c));
    auto signer = make_signer(c.algorithm);
    auto other = make_signer(c.algorithm);
    auto key = bridge->make_key(signer);
    REQUIRE(key);
    // Certificates made by the default provider alone, in the default library context.
    auto matching = test::make_certificate(signer->native(), signer->native(), c.md, nullptr);
    auto mismatched = test::make_certificate(other->native(), other->native(), c.md, nullptr);
    REQUIRE(matching);
    REQUIRE(mismatched);
    CHECK(X509_check_private_key(matching.get(), key->get()) == 1);
    CHECK(EVP_PKEY_eq(key->get(), X509_get0_pubkey(matching.get())) == 1);
    CHECK(EVP_PKEY_eq(X509_get0_pubkey(matching.get()), key->get()) == 1);
    CHECK(X509_check_private_key(mismatched.get(), key->get()) == 0);
    CHECK(EVP_PKEY_eq(key->get(), X509_get0_pubkey(mismatched.get())) == 0);
    CHECK(EVP_PKEY_eq(X509_get0_pubkey(mismatched.get()), key->get()) == 0);
    ERR_clear_error();
  }
}

TEST_CASE("a certificate signed through the bridge verifies with the signer's public key") {
  auto bridge = make_bridge();
  for (const Case& c : kCases) {
    INFO(describe(c));
    auto signer = make_signer(c.algorithm);
    auto key = bridge->make_key(signer);
    REQUIRE(key);
    // X509_sign_ctx asks the provider for the AlgorithmIdentifier.
    auto cert = test::make_certificate(key->get(), key->get(), c.md, nullptr, c.pss);
    INFO(test::openssl_errors_with_data());
    REQUIRE(cert);
    auto public_key = test::public_key_of(signer->public_key_der());
    CHECK(X509_verify(cert.get(), public_key.get()) == 1);
    const int nid = X509_get_signature_nid(cert.get());
    if (c.pss) CHECK(nid == NID_rsassaPss);
    if (c.algorithm == KeyAlgorithm::kEcP384) CHECK(nid == NID_ecdsa_with_SHA384);
    if (c.algorithm == KeyAlgorithm::kEd25519) CHECK(nid == NID_ED25519);
  }
}

TEST_CASE("verification with a bridged key is done by the default provider") {
  auto bridge = make_bridge();
  const base::Bytes message(100, 0x33);
  for (const Case& c : kCases) {
    INFO(describe(c));
    auto signer = make_signer(c.algorithm);
    auto key = bridge->make_key(signer);
    REQUIRE(key);
    const base::Bytes signature = digest_sign(bridge->library_context(), key->get(), c, message);
    REQUIRE_FALSE(signature.empty());
    for (bool tamper : {false, true}) {
      base::Bytes checked = message;
      if (tamper) checked[0] ^= 0x80;
      base::EvpMdCtxPtr context(EVP_MD_CTX_new());
      EVP_PKEY_CTX* pkey_context = nullptr;
      REQUIRE(EVP_DigestVerifyInit_ex(context.get(), &pkey_context, c.md, bridge->library_context(),
                                      nullptr, key->get(), nullptr) == 1);
      if (c.pss) REQUIRE(test::set_pss(pkey_context));
      CHECK((EVP_DigestVerify(context.get(), signature.data(), signature.size(), checked.data(),
                              checked.size()) == 1) == !tamper);
      ERR_clear_error();
    }
  }
}

TEST_CASE("a failing signer makes a failed signature carrying its message, not a crash") {
  auto bridge = make_bridge();
  const base::Bytes message(50, 0x01);
  for (const Case& c : kCases) {
    INFO(describe(c));
    auto key = bridge->make_key(std::make_shared<FailingSigner>(make_signer(c.algorithm)));
    REQUIRE(key);
    ERR_clear_error();
    CHECK(digest_sign(bridge->library_context(), key->get(), c, message).empty());
    const std::string errors = test::openssl_errors_with_data();
    CHECK(errors.find("token 'ca-hsm' was removed (test)") != std::string::npos);
    CHECK(errors.find("signet-token") != std::string::npos);
  }
}

TEST_CASE("settings a token signature cannot honour are refused with a reason") {
  auto bridge = make_bridge();
  auto rsa = bridge->make_key(make_signer(KeyAlgorithm::kRsa2048));
  auto ed25519 = bridge->make_key(make_signer(KeyAlgorithm::kEd25519));
  REQUIRE(rsa);
  REQUIRE(ed25519);
  OSSL_LIB_CTX* libctx = bridge->library_context();
  base::EvpMdCtxPtr context(EVP_MD_CTX_new());
  EVP_PKEY_CTX* pkey_context = nullptr;

  ERR_clear_error();
  CHECK(EVP_DigestSignInit_ex(context.get(), nullptr, "SHA1", libctx, nullptr, rsa->get(),
                              nullptr) != 1);
  CHECK(test::openssl_errors_with_data().find("SHA-256, SHA-384 or SHA-512") != std::string::npos);

  REQUIRE(EVP_DigestSignInit_ex(context.get(), &pkey_context, "SHA256", libctx, nullptr, rsa->get(),
                                nullptr) == 1);
  REQUIRE(EVP_PKEY_CTX_set_rsa_padding(pkey_context, RSA_PKCS1_PSS_PADDING) == 1);
  CHECK(EVP_PKEY_CTX_set_rsa_pss_saltlen(pkey_context, RSA_PSS_SALTLEN_MAX) <= 0);
  CHECK(test::openssl_errors_with_data().find("salt as long as the digest") != std::string::npos);
  CHECK(EVP_PKEY_CTX_set_rsa_padding(pkey_context, RSA_X931_PADDING) <= 0);
  CHECK(test::openssl_errors_with_data().find("PKCS#1 v1.5") != std::string::npos);
  // An explicit salt length other than the digest's is caught when signing.
  REQUIRE(EVP_PKEY_CTX_set_rsa_pss_saltlen(pkey_context, 20) == 1);
  size_t length = 0;
  REQUIRE(EVP_DigestSign(context.get(), nullptr, &length, nullptr, 0) == 1);
  base::Bytes signature(length);
  CHECK(EVP_DigestSign(context.get(), signature.data(), &length,
                       reinterpret_cast<const unsigned char*>("x"), 1) != 1);
  CHECK(test::openssl_errors_with_data().find("salt of 32 bytes") != std::string::npos);

  base::EvpMdCtxPtr ed_context(EVP_MD_CTX_new());
  CHECK(EVP_DigestSignInit_ex(ed_context.get(), nullptr, "SHA256", libctx, nullptr, ed25519->get(),
                              nullptr) != 1);
  CHECK(test::openssl_errors_with_data().find("takes no digest") != std::string::npos);
}

TEST_CASE("a bridged key keeps its signer alive, and lets it go when freed") {
  auto bridge = make_bridge();
  auto signer = make_signer(KeyAlgorithm::kEcP256);
  std::weak_ptr<test::SoftwareSigner> watch = signer;
  auto key = bridge->make_key(signer);
  REQUIRE(key);
  signer.reset();
  REQUIRE_FALSE(watch.expired());
  const Case c = kCases.front();
  const base::Bytes message(10, 0x09);
  CHECK_FALSE(digest_sign(bridge->library_context(), key->get(), c, message).empty());
  key->reset();
  CHECK(watch.expired());

  auto none = bridge->make_key(nullptr);
  REQUIRE_FALSE(none);
  CHECK(none.error().code() == ErrorCode::kInvalidArgument);
}

TEST_CASE("plain fetches in the bridge's context still get the default provider") {
  auto bridge = make_bridge();
  OSSL_LIB_CTX* libctx = bridge->library_context();
  // Exercise the token provider first: its restricted fetches must not shadow "default".
  auto signer = make_signer(KeyAlgorithm::kEcP256);
  auto key = bridge->make_key(signer);
  REQUIRE(key);
  REQUIRE(test::make_certificate(key->get(), key->get(), "SHA256", libctx));
  for (const char* name : {"EC", "RSA", "ED25519"}) {
    INFO(name);
    EVP_KEYMGMT* keymgmt = EVP_KEYMGMT_fetch(libctx, name, nullptr);
    REQUIRE(keymgmt != nullptr);
    CHECK(std::string(OSSL_PROVIDER_get0_name(EVP_KEYMGMT_get0_provider(keymgmt))) == "default");
    EVP_KEYMGMT_free(keymgmt);
  }
  // What libssl does for an ECDHE key share.
  base::EvpPkeyPtr ephemeral(EVP_PKEY_Q_keygen(libctx, nullptr, "EC", "P-256"));
  CHECK(ephemeral);
}

TEST_CASE("one bridged key signs from several threads at once") {
  auto bridge = make_bridge();
  auto signer = make_signer(KeyAlgorithm::kEcP256);
  auto key = bridge->make_key(signer);
  REQUIRE(key);
  const Case c = kCases.front();
  std::atomic<int> good{0};
  std::atomic<int> bad{0};
  auto work = [&](std::uint8_t seed) {
    for (int i = 0; i < 50; ++i) {
      const base::Bytes message(40, static_cast<std::uint8_t>(seed + i));
      base::EvpMdCtxPtr context(EVP_MD_CTX_new());
      size_t length = 128;
      base::Bytes signature(length);
      const bool signed_ok =
          EVP_DigestSignInit_ex(context.get(), nullptr, c.md, bridge->library_context(), nullptr,
                                key->get(), nullptr) == 1 &&
          EVP_DigestSign(context.get(), signature.data(), &length, message.data(),
                         message.size()) == 1;
      signature.resize(length);
      if (signed_ok && test::default_provider_verifies(signer->public_key_der(), c.md, false,
                                                       message, signature)) {
        ++good;
      } else {
        ++bad;
      }
    }
  };
  std::thread first(work, 1);
  std::thread second(work, 101);
  first.join();
  second.join();
  CHECK(good == 100);
  CHECK(bad == 0);
}
