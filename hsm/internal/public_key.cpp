#include "hsm/internal/public_key.h"

#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/param_build.h>

#include <algorithm>

#include "base/openssl.h"

namespace signet::hsm::internal {
namespace {

using base::Error;
using base::ErrorCode;
using base::KeyAlgorithm;

using ParamBldPtr = std::unique_ptr<OSSL_PARAM_BLD, base::OpenSslDeleter<OSSL_PARAM_BLD_free>>;
using ParamPtr = std::unique_ptr<OSSL_PARAM, base::OpenSslDeleter<OSSL_PARAM_free>>;

// 1.2.840.10045.3.1.7 (prime256v1), 1.3.132.0.34 (secp384r1), 1.3.101.112 (Ed25519).
constexpr std::uint8_t kP256Oid[] = {0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07};
constexpr std::uint8_t kP384Oid[] = {0x06, 0x05, 0x2b, 0x81, 0x04, 0x00, 0x22};
constexpr std::uint8_t kEd25519Oid[] = {0x06, 0x03, 0x2b, 0x65, 0x70};
// PKCS#11 3.0 §2.3.10: PrintableString "edwards25519".
constexpr std::uint8_t kEd25519Printable[] = {0x13, 0x0c, 'e', 'd', 'w', 'a', 'r',
                                              'd',  's',  '2', '5', '5', '1', '9'};

bool equal(base::ByteView a, base::ByteView b) { return std::ranges::equal(a, b); }

std::size_t ec_field_bytes(KeyAlgorithm algorithm) {
  switch (algorithm) {
    case KeyAlgorithm::kEcP256:
      return 32;
    case KeyAlgorithm::kEcP384:
      return 48;
    case KeyAlgorithm::kEd25519:
      return 32;
    default:
      return 0;
  }
}

base::Result<base::Bytes> to_spki(EVP_PKEY* key) {
  int size = i2d_PUBKEY(key, nullptr);
  if (size <= 0) return base::openssl_error(ErrorCode::kCryptoError, "cannot encode a public key");
  base::Bytes out(static_cast<std::size_t>(size));
  unsigned char* cursor = out.data();
  if (i2d_PUBKEY(key, &cursor) != size) {
    return base::openssl_error(ErrorCode::kCryptoError, "cannot encode a public key");
  }
  return out;
}

base::Result<base::Bytes> from_params(const char* type, OSSL_PARAM_BLD* builder) {
  ParamPtr params(OSSL_PARAM_BLD_to_param(builder));
  base::EvpPkeyCtxPtr context(EVP_PKEY_CTX_new_from_name(nullptr, type, nullptr));
  EVP_PKEY* raw = nullptr;
  if (!params || !context || EVP_PKEY_fromdata_init(context.get()) <= 0 ||
      EVP_PKEY_fromdata(context.get(), &raw, EVP_PKEY_PUBLIC_KEY, params.get()) <= 0) {
    return base::openssl_error(ErrorCode::kTokenError,
                               std::string("the token's ") + type + " public key is not valid");
  }
  base::EvpPkeyPtr key(raw);
  return to_spki(key.get());
}

base::Result<base::Bytes> ec_spki(KeyAlgorithm algorithm, base::ByteView point) {
  const char* group = algorithm == KeyAlgorithm::kEcP256 ? "prime256v1" : "secp384r1";
  ParamBldPtr builder(OSSL_PARAM_BLD_new());
  if (!builder ||
      !OSSL_PARAM_BLD_push_utf8_string(builder.get(), OSSL_PKEY_PARAM_GROUP_NAME, group, 0) ||
      !OSSL_PARAM_BLD_push_octet_string(builder.get(), OSSL_PKEY_PARAM_PUB_KEY, point.data(),
                                        point.size())) {
    return base::openssl_error(ErrorCode::kCryptoError, "cannot build EC key parameters");
  }
  return from_params("EC", builder.get());
}

base::Result<base::Bytes> rsa_spki(base::ByteView modulus, base::ByteView exponent) {
  base::BignumPtr n(BN_bin2bn(modulus.data(), static_cast<int>(modulus.size()), nullptr));
  base::BignumPtr e(BN_bin2bn(exponent.data(), static_cast<int>(exponent.size()), nullptr));
  ParamBldPtr builder(OSSL_PARAM_BLD_new());
  if (!n || !e || !builder ||
      !OSSL_PARAM_BLD_push_BN(builder.get(), OSSL_PKEY_PARAM_RSA_N, n.get()) ||
      !OSSL_PARAM_BLD_push_BN(builder.get(), OSSL_PKEY_PARAM_RSA_E, e.get())) {
    return base::openssl_error(ErrorCode::kCryptoError, "cannot build RSA key parameters");
  }
  return from_params("RSA", builder.get());
}

base::Result<base::Bytes> ed25519_spki(base::ByteView point) {
  base::EvpPkeyPtr key(
      EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, nullptr, point.data(), point.size()));
  if (!key) {
    return base::openssl_error(ErrorCode::kTokenError,
                               "the token's Ed25519 public key is not valid");
  }
  return to_spki(key.get());
}

}  // namespace

base::ByteView ec_params_for(KeyAlgorithm algorithm) {
  switch (algorithm) {
    case KeyAlgorithm::kEcP256:
      return kP256Oid;
    case KeyAlgorithm::kEcP384:
      return kP384Oid;
    case KeyAlgorithm::kEd25519:
      return kEd25519Oid;
    default:
      return {};
  }
}

base::ByteView ed25519_printable_params() { return kEd25519Printable; }

base::Result<KeyAlgorithm> key_algorithm(Session& session, CK_OBJECT_HANDLE object) {
  SIGNET_ASSIGN_OR_RETURN(auto key_type, session.ulong_attribute(object, CKA_KEY_TYPE));
  if (!key_type) {
    return Error(ErrorCode::kTokenError,
                 "a key on token '" + session.token_label() + "' has no CKA_KEY_TYPE");
  }
  if (*key_type == CKK_RSA) {
    SIGNET_ASSIGN_OR_RETURN(auto modulus,
                            session.required_attribute(object, CKA_MODULUS, "CKA_MODULUS"));
    std::size_t bits = modulus.size() * 8;
    auto first = std::ranges::find_if(modulus, [](std::uint8_t b) { return b != 0; });
    if (first != modulus.end()) {
      bits = static_cast<std::size_t>(modulus.end() - first) * 8;
      for (std::uint8_t top = *first; (top & 0x80) == 0; top <<= 1) --bits;
    }
    switch (bits) {
      case 2048:
        return KeyAlgorithm::kRsa2048;
      case 3072:
        return KeyAlgorithm::kRsa3072;
      case 4096:
        return KeyAlgorithm::kRsa4096;
      default:
        return Error(ErrorCode::kNotSupported, "RSA keys of " + std::to_string(bits) +
                                                   " bits are not supported (use 2048, 3072 "
                                                   "or 4096)");
    }
  }
  if (*key_type == CKK_EC || *key_type == CKK_EC_EDWARDS) {
    SIGNET_ASSIGN_OR_RETURN(auto params,
                            session.required_attribute(object, CKA_EC_PARAMS, "CKA_EC_PARAMS"));
    if (*key_type == CKK_EC && equal(params, kP256Oid)) return KeyAlgorithm::kEcP256;
    if (*key_type == CKK_EC && equal(params, kP384Oid)) return KeyAlgorithm::kEcP384;
    if (*key_type == CKK_EC_EDWARDS &&
        (equal(params, kEd25519Oid) || equal(params, kEd25519Printable))) {
      return KeyAlgorithm::kEd25519;
    }
    return Error(ErrorCode::kNotSupported, "the curve of a key on token '" + session.token_label() +
                                               "' (CKA_EC_PARAMS " + base::to_hex(params) +
                                               ") is not supported (use P-256, P-384 or Ed25519)");
  }
  return Error(ErrorCode::kNotSupported,
               "a key on token '" + session.token_label() + "' has a key type (CKA_KEY_TYPE " +
                   std::to_string(*key_type) + ") that Signet does not sign with");
}

base::Result<base::Bytes> unwrap_ec_point(base::ByteView value, KeyAlgorithm algorithm) {
  const std::size_t field = ec_field_bytes(algorithm);
  auto is_point = [&](base::ByteView point) {
    if (algorithm == KeyAlgorithm::kEd25519) return point.size() == field;  // RFC 8032 encoding
    return (point.size() == 2 * field + 1 && point[0] == 0x04) ||
           (point.size() == field + 1 && (point[0] == 0x02 || point[0] == 0x03));
  };
  // PKCS#11 says DER OCTET STRING; some tokens return the raw point. A raw point can look like
  // DER by accident (04 || X where X[0] is a length), so the content must also be a point.
  const unsigned char* cursor = value.data();
  base::Asn1OctetStringPtr octets(
      d2i_ASN1_OCTET_STRING(nullptr, &cursor, static_cast<long>(value.size())));
  if (octets && cursor == value.data() + value.size()) {
    base::ByteView inner(ASN1_STRING_get0_data(octets.get()),
                         static_cast<std::size_t>(ASN1_STRING_length(octets.get())));
    if (is_point(inner)) return base::Bytes(inner.begin(), inner.end());
  }
  ERR_clear_error();
  if (is_point(value)) return base::Bytes(value.begin(), value.end());
  return Error(ErrorCode::kTokenError, "the token's CKA_EC_POINT (" + std::to_string(value.size()) +
                                           " bytes) is not a " +
                                           std::string(base::to_string(algorithm)) + " point");
}

base::Result<base::Bytes> public_key_spki(Session& session, CK_OBJECT_HANDLE object,
                                          KeyAlgorithm algorithm) {
  if (base::is_rsa(algorithm)) {
    SIGNET_ASSIGN_OR_RETURN(auto modulus,
                            session.required_attribute(object, CKA_MODULUS, "CKA_MODULUS"));
    SIGNET_ASSIGN_OR_RETURN(auto exponent, session.required_attribute(object, CKA_PUBLIC_EXPONENT,
                                                                      "CKA_PUBLIC_EXPONENT"));
    return rsa_spki(modulus, exponent);
  }
  SIGNET_ASSIGN_OR_RETURN(auto value,
                          session.required_attribute(object, CKA_EC_POINT, "CKA_EC_POINT"));
  SIGNET_ASSIGN_OR_RETURN(auto point, unwrap_ec_point(value, algorithm));
  if (algorithm == KeyAlgorithm::kEd25519) return ed25519_spki(point);
  return ec_spki(algorithm, point);
}

base::Result<base::Bytes> certificate_spki(Session& session, CK_OBJECT_HANDLE certificate) {
  SIGNET_ASSIGN_OR_RETURN(auto der,
                          session.required_attribute(certificate, CKA_VALUE, "CKA_VALUE"));
  const unsigned char* cursor = der.data();
  base::X509Ptr parsed(d2i_X509(nullptr, &cursor, static_cast<long>(der.size())));
  if (!parsed) {
    return base::openssl_error(
        ErrorCode::kTokenError,
        "a certificate on token '" + session.token_label() + "' does not parse");
  }
  return to_spki(X509_get0_pubkey(parsed.get()));
}

base::Result<base::Bytes> private_key_spki(Session& session, CK_OBJECT_HANDLE private_key,
                                           base::ByteView id, KeyAlgorithm algorithm) {
  SIGNET_ASSIGN_OR_RETURN(
      auto publics, session.find_objects({attr(CKA_CLASS, kPublicKeyClass), attr(CKA_ID, id)}));
  if (!publics.empty()) return public_key_spki(session, publics.front(), algorithm);
  SIGNET_ASSIGN_OR_RETURN(
      auto certificates,
      session.find_objects({attr(CKA_CLASS, kCertificateClass), attr(CKA_ID, id)}));
  if (!certificates.empty()) return certificate_spki(session, certificates.front());
  auto own = public_key_spki(session, private_key, algorithm);
  if (own) return own;
  return Error(ErrorCode::kNotFound, "the private key with CKA_ID " + base::to_hex(id) +
                                         " on token '" + session.token_label() +
                                         "' has no public key or certificate beside it");
}

base::Result<std::size_t> raw_signature_size(KeyAlgorithm algorithm, base::ByteView spki) {
  if (base::is_rsa(algorithm)) {
    const unsigned char* cursor = spki.data();
    base::EvpPkeyPtr key(d2i_PUBKEY(nullptr, &cursor, static_cast<long>(spki.size())));
    if (!key) return base::openssl_error(ErrorCode::kInternal, "cannot parse our own SPKI");
    return static_cast<std::size_t>(EVP_PKEY_get_size(key.get()));
  }
  if (algorithm == KeyAlgorithm::kEd25519) return std::size_t{64};
  return 2 * ec_field_bytes(algorithm);
}

}  // namespace signet::hsm::internal
