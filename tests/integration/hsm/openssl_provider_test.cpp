// The token provider against a real SoftHSM token, watched through OpenSC's pkcs11-spy: TLS
// handshakes whose signatures the token makes, and sign_digest's schemes checked by
// independent verifiers.
#include <catch2/catch.hpp>

#include <openssl/evp.h>
#include <openssl/pem.h>

#include "hsm/key_provider.h"
#include "hsm/openssl_provider.h"
#include "tests/integration/hsm/tls_handshake.h"
#include "tests/support/softhsm_token.h"
#include "tests/support/test_support.h"
#include "tests/unit/hsm/provider_test_support.h"

using namespace signet;
using base::DigestAlgorithm;
using base::ErrorCode;
using base::KeyAlgorithm;
using test::SoftHsmToken;

namespace {

std::shared_ptr<hsm::Pkcs11KeyProvider> make_provider(SoftHsmToken& softhsm) {
  auto provider =
      hsm::Pkcs11KeyProvider::create({softhsm.module()}, "", SoftHsmToken::pin_source());
  REQUIRE(provider);
  return *provider;
}

std::unique_ptr<hsm::OpensslBridge> make_bridge() {
  auto bridge = hsm::OpensslBridge::create();
  REQUIRE(bridge);
  return std::move(bridge).value();
}

// A TLS server context over a token key, with a certificate the token key signed itself.
struct TokenServer {
  base::EvpPkeyPtr key;
  base::X509Ptr certificate;
  test::SslCtxPtr context;
};

// How the server holds its certificate: as made (its public key is then the bridged key
// itself), or read back from DER as a server loading its certificate file would.
enum class CertificateForm { kAsMade, kReloaded };

TokenServer make_server(hsm::OpensslBridge& bridge, std::shared_ptr<base::Signer> signer,
                        CertificateForm form) {
  TokenServer server;
  auto key = bridge.make_key(std::move(signer));
  REQUIRE(key);
  server.key = std::move(key).value();
  server.certificate = test::make_certificate(server.key.get(), server.key.get(), "SHA256",
                                              bridge.library_context());
  INFO(test::openssl_errors_with_data());
  REQUIRE(server.certificate);
  if (form == CertificateForm::kReloaded) {
    unsigned char* der = nullptr;
    const int length = i2d_X509(server.certificate.get(), &der);
    REQUIRE(length > 0);
    const unsigned char* cursor = der;
    server.certificate.reset(d2i_X509(nullptr, &cursor, length));
    OPENSSL_free(der);
    REQUIRE(server.certificate);
  }
  server.context.reset(SSL_CTX_new_ex(bridge.library_context(), nullptr, TLS_server_method()));
  REQUIRE(server.context);
  REQUIRE(SSL_CTX_use_certificate(server.context.get(), server.certificate.get()) == 1);
  REQUIRE(SSL_CTX_use_PrivateKey(server.context.get(), server.key.get()) == 1);
  REQUIRE(SSL_CTX_check_private_key(server.context.get()) == 1);
  return server;
}

// One handshake; returns what the token was asked to sign meanwhile.
test::SpiedSigning handshake_on_token(const TokenServer& server,
                                      const test::HandshakeSettings& settings,
                                      test::HandshakeResult& result) {
  const std::size_t mark = test::pkcs11_spy_log_size();
  result = test::tls_handshake(server.context.get(), server.certificate.get(), settings);
  return test::pkcs11_spy_signing_since(mark);
}

base::Bytes sha(const char* name, base::ByteView message) {
  base::Bytes digest(EVP_MAX_MD_SIZE);
  unsigned int length = 0;
  base::EvpMdPtr md(EVP_MD_fetch(nullptr, name, nullptr));
  REQUIRE(EVP_Digest(message.data(), message.size(), digest.data(), &length, md.get(), nullptr) ==
          1);
  digest.resize(length);
  return digest;
}

}  // namespace

TEST_CASE("TLS 1.3 and 1.2 with an EC P-256 key: the token signs each handshake") {
  test::use_pkcs11_spy();
  SoftHsmToken softhsm;
  auto provider = make_provider(softhsm);
  auto bridge = make_bridge();
  auto signer = provider->generate_key({"", KeyAlgorithm::kEcP256, "tls-ec"});
  REQUIRE(signer);

  for (CertificateForm form : {CertificateForm::kAsMade, CertificateForm::kReloaded}) {
    const TokenServer server = make_server(*bridge, *signer, form);
    for (const test::HandshakeSettings& settings :
         {test::HandshakeSettings{TLS1_3_VERSION, "ecdsa_secp256r1_sha256", ""},
          test::HandshakeSettings{TLS1_2_VERSION, "ECDSA+SHA256",
                                  "ECDHE-ECDSA-AES128-GCM-SHA256"}}) {
      INFO("TLS version " << std::hex << settings.version << ", reloaded certificate "
                          << (form == CertificateForm::kReloaded));
      test::HandshakeResult result;
      const test::SpiedSigning spied = handshake_on_token(server, settings, result);
      INFO("server: " << result.server_errors << "\nclient: " << result.client_errors);
      REQUIRE(result.ok);
      CHECK(result.version == settings.version);
      CHECK(result.peer_signature_type == EVP_PKEY_EC);
      CHECK(result.peer_digest == NID_sha256);
      // One signature per handshake (CertificateVerify, or ServerKeyExchange in TLS 1.2).
      CHECK(spied.sign_calls == 1);
      CHECK(spied.mechanisms == std::vector<std::string>{"CKM_ECDSA"});
    }
  }
}

TEST_CASE("TLS 1.3 with RSA-PSS and TLS 1.2 with PKCS#1 v1.5: the token signs each handshake") {
  test::use_pkcs11_spy();
  SoftHsmToken softhsm;
  auto provider = make_provider(softhsm);
  auto bridge = make_bridge();
  auto signer = provider->generate_key({"", KeyAlgorithm::kRsa2048, "tls-rsa"});
  REQUIRE(signer);
  for (CertificateForm form : {CertificateForm::kAsMade, CertificateForm::kReloaded}) {
    const TokenServer server = make_server(*bridge, *signer, form);

    struct Expected {
      test::HandshakeSettings settings;
      int signature_type;
      const char* mechanism;
    };
    for (const Expected& expected :
         {Expected{
              {TLS1_3_VERSION, "rsa_pss_rsae_sha256", ""}, EVP_PKEY_RSA_PSS, "CKM_RSA_PKCS_PSS"},
          Expected{{TLS1_2_VERSION, "RSA+SHA256", "ECDHE-RSA-AES128-GCM-SHA256"},
                   EVP_PKEY_RSA,
                   "CKM_RSA_PKCS"}}) {
      INFO("TLS version " << std::hex << expected.settings.version << ", reloaded certificate "
                          << (form == CertificateForm::kReloaded));
      test::HandshakeResult result;
      const test::SpiedSigning spied = handshake_on_token(server, expected.settings, result);
      INFO("server: " << result.server_errors << "\nclient: " << result.client_errors);
      REQUIRE(result.ok);
      CHECK(result.version == expected.settings.version);
      CHECK(result.peer_signature_type == expected.signature_type);
      CHECK(result.peer_digest == NID_sha256);
      CHECK(spied.sign_calls == 1);
      CHECK(spied.mechanisms == std::vector<std::string>{expected.mechanism});
    }
  }
}

TEST_CASE("a handshake fails once the token key is destroyed, and says why") {
  test::use_pkcs11_spy();
  SoftHsmToken softhsm;
  auto provider = make_provider(softhsm);
  auto bridge = make_bridge();
  auto signer = provider->generate_key({"", KeyAlgorithm::kEcP256, "doomed"});
  REQUIRE(signer);
  const TokenServer server = make_server(*bridge, *signer, CertificateForm::kReloaded);
  const test::HandshakeSettings settings{TLS1_3_VERSION, "", ""};

  test::HandshakeResult before;
  CHECK(handshake_on_token(server, settings, before).sign_calls == 1);
  REQUIRE(before.ok);

  REQUIRE(provider->destroy_key((*signer)->key_ref()));
  test::HandshakeResult after;
  const test::SpiedSigning spied = handshake_on_token(server, settings, after);
  CHECK_FALSE(after.ok);
  CHECK(spied.sign_calls == 0);  // nothing left on the token to sign with
  CHECK(after.server_errors.find("signet-token") != std::string::npos);
  CHECK(after.server_errors.find("is no longer on") != std::string::npos);
}

TEST_CASE("sign_digest on the token: ECDSA, PKCS#1 v1.5 and PSS verify independently") {
  test::use_pkcs11_spy();
  SoftHsmToken softhsm;
  auto provider = make_provider(softhsm);
  const base::Bytes message(500, 0x61);

  auto ec = provider->generate_key({"", KeyAlgorithm::kEcP384, "digest-ec"});
  REQUIRE(ec);
  for (const char* md : {"SHA256", "SHA384", "SHA512"}) {
    INFO(md);
    const DigestAlgorithm digest = std::string(md) == "SHA256"   ? DigestAlgorithm::kSha256
                                   : std::string(md) == "SHA384" ? DigestAlgorithm::kSha384
                                                                 : DigestAlgorithm::kSha512;
    auto signature = (*ec)->sign_digest(sha(md, message), {digest, base::RsaPadding::kPkcs1v15});
    REQUIRE(signature);
    CHECK(test::default_provider_verifies((*ec)->public_key_der(), md, false, message, *signature));
  }

  auto rsa = provider->generate_key({"", KeyAlgorithm::kRsa2048, "digest-rsa"});
  REQUIRE(rsa);
  auto pkcs1 = (*rsa)->sign_digest(sha("SHA256", message), {DigestAlgorithm::kSha256});
  REQUIRE(pkcs1);
  CHECK(
      test::default_provider_verifies((*rsa)->public_key_der(), "SHA256", false, message, *pkcs1));
  // PKCS#1 v1.5 is deterministic: the same bytes as sign().
  auto plain = (*rsa)->sign(message);
  REQUIRE(plain);
  CHECK(*plain == *pkcs1);

  const std::size_t mark = test::pkcs11_spy_log_size();
  const base::Bytes digest = sha("SHA384", message);
  auto pss = (*rsa)->sign_digest(digest, {DigestAlgorithm::kSha384, base::RsaPadding::kPss});
  REQUIRE(pss);
  CHECK(test::pkcs11_spy_signing_since(mark).mechanisms ==
        std::vector<std::string>{"CKM_RSA_PKCS_PSS"});
  CHECK(test::default_provider_verifies((*rsa)->public_key_der(), "SHA384", true, message, *pss));
  CHECK_FALSE(
      test::default_provider_verifies((*rsa)->public_key_der(), "SHA384", false, message, *pss));

  // And the openssl command line, in its own process, agrees.
  test::TempDir dir;
  auto public_key = test::public_key_of((*rsa)->public_key_der());
  base::BioPtr pem(BIO_new_file((dir / "public.pem").c_str(), "w"));
  REQUIRE(PEM_write_bio_PUBKEY(pem.get(), public_key.get()) == 1);
  pem.reset();
  test::write_file(dir / "digest.bin", digest);
  test::write_file(dir / "signature.bin", *pss);
  const auto verified = test::run_command(
      "openssl pkeyutl -verify -pubin -inkey " + (dir / "public.pem").string() + " -in " +
      (dir / "digest.bin").string() + " -sigfile " + (dir / "signature.bin").string() +
      " -pkeyopt digest:sha384 -pkeyopt rsa_padding_mode:pss -pkeyopt rsa_pss_saltlen:48");
  INFO(verified.output);
  CHECK(verified.exit_code == 0);
  CHECK(verified.output.find("Signature Verified Successfully") != std::string::npos);

  auto wrong_length = (*rsa)->sign_digest(sha("SHA256", message), {DigestAlgorithm::kSha384});
  REQUIRE_FALSE(wrong_length);
  CHECK(wrong_length.error().code() == ErrorCode::kInvalidArgument);

  auto ed25519 = provider->generate_key({"", KeyAlgorithm::kEd25519, "digest-ed"});
  REQUIRE(ed25519);
  auto refused = (*ed25519)->sign_digest(sha("SHA256", message), {DigestAlgorithm::kSha256});
  REQUIRE_FALSE(refused);
  CHECK(refused.error().code() == ErrorCode::kNotSupported);
}
