#include "pki/software_key.h"

#include <openssl/rsa.h>
#include <openssl/x509.h>

namespace signet::pki {

using base::Error;
using base::ErrorCode;
using base::KeyAlgorithm;

namespace {

struct Pkcs8Deleter {
  // PKCS8_PRIV_KEY_INFO_free clears the private key octets before freeing them.
  void operator()(PKCS8_PRIV_KEY_INFO* p8) const noexcept { PKCS8_PRIV_KEY_INFO_free(p8); }
};
using Pkcs8Ptr = std::unique_ptr<PKCS8_PRIV_KEY_INFO, Pkcs8Deleter>;

base::EvpPkeyPtr generate_pkey(KeyAlgorithm algorithm) {
  switch (algorithm) {
    case KeyAlgorithm::kEcP256:
      return base::EvpPkeyPtr(EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256"));
    case KeyAlgorithm::kEcP384:
      return base::EvpPkeyPtr(EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-384"));
    case KeyAlgorithm::kEd25519:
      return base::EvpPkeyPtr(EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519"));
    case KeyAlgorithm::kRsa2048:
    case KeyAlgorithm::kRsa3072:
    case KeyAlgorithm::kRsa4096:
      return base::EvpPkeyPtr(EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA",
                                                static_cast<size_t>(base::rsa_bits(algorithm))));
  }
  return nullptr;
}

base::Result<base::Bytes> spki_of(EVP_PKEY* key) {
  unsigned char* der = nullptr;
  const int length = i2d_PUBKEY(key, &der);
  if (length <= 0) return base::openssl_error(ErrorCode::kCryptoError, "cannot encode the SPKI");
  base::Bytes out(der, der + length);
  OPENSSL_free(der);
  return out;
}

// Which of Signet's algorithms a key is; kNotSupported for anything else (DSA, P-521, RSA-1024).
base::Result<KeyAlgorithm> algorithm_of(EVP_PKEY* key) {
  switch (EVP_PKEY_get_base_id(key)) {
    case EVP_PKEY_ED25519:
      return KeyAlgorithm::kEd25519;
    case EVP_PKEY_EC: {
      char curve[32] = {};
      size_t length = 0;
      if (EVP_PKEY_get_group_name(key, curve, sizeof(curve), &length) == 1) {
        const std::string_view name(curve, length);
        if (name == "prime256v1" || name == "P-256") return KeyAlgorithm::kEcP256;
        if (name == "secp384r1" || name == "P-384") return KeyAlgorithm::kEcP384;
      }
      base::drain_openssl_errors();
      break;
    }
    case EVP_PKEY_RSA: {
      const int bits = EVP_PKEY_get_bits(key);
      if (bits == 2048) return KeyAlgorithm::kRsa2048;
      if (bits == 3072) return KeyAlgorithm::kRsa3072;
      if (bits == 4096) return KeyAlgorithm::kRsa4096;
      break;
    }
    default:
      break;
  }
  return Error(ErrorCode::kNotSupported,
               "the private key is not one of Signet's algorithms (ec-p256, ec-p384, rsa-2048, "
               "rsa-3072, rsa-4096, ed25519)");
}

const char* digest_name(base::DigestAlgorithm digest) {
  switch (digest) {
    case base::DigestAlgorithm::kNone:
      return nullptr;
    case base::DigestAlgorithm::kSha256:
      return "SHA256";
    case base::DigestAlgorithm::kSha384:
      return "SHA384";
    case base::DigestAlgorithm::kSha512:
      return "SHA512";
  }
  return nullptr;
}

base::Result<std::shared_ptr<SoftwareKey>> make_key(base::EvpPkeyPtr key, KeyAlgorithm algorithm,
                                                    base::KeyRef ref) {
  SIGNET_ASSIGN_OR_RETURN(auto spki, spki_of(key.get()));
  if (ref.token_serial.empty()) ref.token_serial = "software";
  return std::make_shared<SoftwareKey>(std::move(key), algorithm, std::move(ref), std::move(spki));
}

}  // namespace

base::Result<std::shared_ptr<SoftwareKey>> SoftwareKey::generate(KeyAlgorithm algorithm,
                                                                 base::KeyRef ref) {
  base::EvpPkeyPtr key = generate_pkey(algorithm);
  if (!key) {
    return base::openssl_error(
        ErrorCode::kCryptoError,
        "cannot generate a " + std::string(base::to_string(algorithm)) + " software key");
  }
  return make_key(std::move(key), algorithm, std::move(ref));
}

base::Result<std::shared_ptr<SoftwareKey>> SoftwareKey::from_pkcs8(base::ByteView pkcs8,
                                                                   base::KeyRef ref) {
  const unsigned char* cursor = pkcs8.data();
  Pkcs8Ptr info(d2i_PKCS8_PRIV_KEY_INFO(nullptr, &cursor, static_cast<long>(pkcs8.size())));
  if (!info) {
    return base::openssl_error(ErrorCode::kInvalidArgument,
                               "not a DER PKCS#8 PrivateKeyInfo (unencrypted)");
  }
  if (cursor != pkcs8.data() + pkcs8.size()) {
    return Error(ErrorCode::kInvalidArgument, "trailing data after the PKCS#8 private key");
  }
  base::EvpPkeyPtr key(EVP_PKCS82PKEY(info.get()));
  if (!key) {
    return base::openssl_error(ErrorCode::kInvalidArgument,
                               "the PKCS#8 structure holds no usable private key");
  }
  SIGNET_ASSIGN_OR_RETURN(KeyAlgorithm algorithm, algorithm_of(key.get()));
  return make_key(std::move(key), algorithm, std::move(ref));
}

base::Result<base::Bytes> SoftwareKey::sign(base::ByteView message) const {
  base::EvpMdCtxPtr context(EVP_MD_CTX_new());
  if (!context || EVP_DigestSignInit_ex(context.get(), nullptr, digest_name(digest()), nullptr,
                                        nullptr, key_.get(), nullptr) != 1) {
    return base::openssl_error(ErrorCode::kCryptoError, "cannot start a software signature");
  }
  // EVP's defaults are the conventions we want: PKCS#1 v1.5 padding for RSA, DER
  // ECDSA-Sig-Value for EC, PureEdDSA (64 raw bytes) for Ed25519.
  size_t length = 0;
  if (EVP_DigestSign(context.get(), nullptr, &length, message.data(), message.size()) != 1) {
    return base::openssl_error(ErrorCode::kCryptoError, "cannot size a software signature");
  }
  base::Bytes signature(length);
  if (EVP_DigestSign(context.get(), signature.data(), &length, message.data(), message.size()) !=
      1) {
    return base::openssl_error(ErrorCode::kCryptoError, "the software signature failed");
  }
  signature.resize(length);
  return signature;
}

base::Result<base::Bytes> SoftwareKey::sign_digest(base::ByteView digest,
                                                   const base::SignatureScheme& scheme) const {
  if (algorithm_ == KeyAlgorithm::kEd25519) {
    return Error(ErrorCode::kNotSupported,
                 "an Ed25519 key cannot sign a digest: PureEdDSA signs the message");
  }
  SIGNET_TRY(base::check_digest_length(digest, scheme));
  base::EvpMdPtr md(EVP_MD_fetch(nullptr, digest_name(scheme.digest), nullptr));
  base::EvpPkeyCtxPtr context(EVP_PKEY_CTX_new_from_pkey(nullptr, key_.get(), nullptr));
  if (!md || !context || EVP_PKEY_sign_init(context.get()) != 1 ||
      EVP_PKEY_CTX_set_signature_md(context.get(), md.get()) != 1) {
    return base::openssl_error(ErrorCode::kCryptoError, "cannot start a software signature");
  }
  if (base::is_rsa(algorithm_)) {
    const bool pss = scheme.padding == base::RsaPadding::kPss;
    // RFC 8446 §4.2.3: MGF1 with the signature's digest, salt as long as the digest.
    if (EVP_PKEY_CTX_set_rsa_padding(context.get(),
                                     pss ? RSA_PKCS1_PSS_PADDING : RSA_PKCS1_PADDING) != 1 ||
        (pss && (EVP_PKEY_CTX_set_rsa_pss_saltlen(context.get(), RSA_PSS_SALTLEN_DIGEST) != 1 ||
                 EVP_PKEY_CTX_set_rsa_mgf1_md(context.get(), md.get()) != 1))) {
      return base::openssl_error(ErrorCode::kCryptoError, "cannot set the RSA padding");
    }
  }
  size_t length = 0;
  if (EVP_PKEY_sign(context.get(), nullptr, &length, digest.data(), digest.size()) != 1) {
    return base::openssl_error(ErrorCode::kCryptoError, "cannot size a software signature");
  }
  base::Bytes signature(length);
  if (EVP_PKEY_sign(context.get(), signature.data(), &length, digest.data(), digest.size()) != 1) {
    return base::openssl_error(ErrorCode::kCryptoError, "the software signature failed");
  }
  signature.resize(length);
  return signature;
}

base::Result<base::SecureBuffer> SoftwareKey::to_pkcs8() const {
  Pkcs8Ptr info(EVP_PKEY2PKCS8(key_.get()));
  if (!info) {
    return base::openssl_error(ErrorCode::kCryptoError, "cannot convert the key to PKCS#8");
  }
  const int length = i2d_PKCS8_PRIV_KEY_INFO(info.get(), nullptr);
  if (length <= 0) {
    return base::openssl_error(ErrorCode::kCryptoError, "cannot size the PKCS#8 private key");
  }
  // Encode straight into locked memory, so that no unwiped heap copy of the key is left behind.
  base::SecureBuffer out(static_cast<std::size_t>(length));
  unsigned char* cursor = out.mutable_view().data();
  if (i2d_PKCS8_PRIV_KEY_INFO(info.get(), &cursor) != length) {
    return base::openssl_error(ErrorCode::kCryptoError, "cannot encode the PKCS#8 private key");
  }
  return out;
}

}  // namespace signet::pki
