#include "pki/public_key.h"

#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/objects.h>
#include <openssl/x509.h>

#include <cctype>

#include "base/openssl.h"
#include "pki/internal/spki.h"

namespace signet::pki {

using base::Error;
using base::ErrorCode;
using base::KeyAlgorithm;

namespace {

std::string lower(std::string text) {
  for (char& c : text) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return text;
}

void describe_rsa(EVP_PKEY* key, PublicKeyInfo& info) {
  info.type = PublicKeyInfo::Type::kRsa;
  info.bits = EVP_PKEY_get_bits(key);
  info.name = "rsa-" + std::to_string(info.bits);
  switch (info.bits) {
    case 2048:
      info.algorithm = KeyAlgorithm::kRsa2048;
      break;
    case 3072:
      info.algorithm = KeyAlgorithm::kRsa3072;
      break;
    case 4096:
      info.algorithm = KeyAlgorithm::kRsa4096;
      break;
    default:
      break;
  }
}

void describe_ec(EVP_PKEY* key, PublicKeyInfo& info) {
  info.type = PublicKeyInfo::Type::kEc;
  info.bits = EVP_PKEY_get_bits(key);
  char group[80] = {};
  size_t length = 0;
  if (EVP_PKEY_get_utf8_string_param(key, OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof(group),
                                     &length) != 1) {
    // Explicit curve parameters (RFC 5480 §2.1.1 forbids them in PKIX; describe, don't guess).
    info.curve = "explicit";
    info.name = "ec-explicit";
    return;
  }
  const int nid = OBJ_txt2nid(group);
  const char* nist = nid != NID_undef ? EC_curve_nid2nist(nid) : nullptr;
  info.curve = nist != nullptr ? nist : group;  // "P-256", or e.g. "secp256k1"
  if (nid == NID_X9_62_prime256v1) {
    info.name = "ec-p256";
    info.algorithm = KeyAlgorithm::kEcP256;
  } else if (nid == NID_secp384r1) {
    info.name = "ec-p384";
    info.algorithm = KeyAlgorithm::kEcP384;
  } else if (nid == NID_secp521r1) {
    info.name = "ec-p521";
  } else {
    info.name = "ec-" + lower(group);
  }
}

// A key type OpenSSL cannot load: name it by its algorithm OID.
base::Result<PublicKeyInfo> describe_unknown(base::ByteView spki_der) {
  const unsigned char* p = spki_der.data();
  std::unique_ptr<X509_PUBKEY, base::OpenSslDeleter<X509_PUBKEY_free>> pub(
      d2i_X509_PUBKEY(nullptr, &p, static_cast<long>(spki_der.size())));
  ASN1_OBJECT* object = nullptr;
  if (!pub || X509_PUBKEY_get0_param(&object, nullptr, nullptr, nullptr, pub.get()) != 1) {
    return base::openssl_error(ErrorCode::kInvalidArgument, "not a DER SubjectPublicKeyInfo");
  }
  char oid[128] = {};
  OBJ_obj2txt(oid, sizeof(oid), object, 0);
  base::drain_openssl_errors();  // the failed load above left reasons that do not apply
  PublicKeyInfo info;
  info.name = lower(oid);
  return info;
}

}  // namespace

base::Result<PublicKeyInfo> inspect_public_key(base::ByteView spki_der) {
  // The everyday key types are described from their DER (see internal/spki.h for why).
  if (auto parts = internal::split_spki(spki_der)) {
    if (auto info = internal::describe_spki(*parts)) return std::move(*info);
  }
  const unsigned char* p = spki_der.data();
  base::EvpPkeyPtr key(d2i_PUBKEY(nullptr, &p, static_cast<long>(spki_der.size())));
  if (!key) return describe_unknown(spki_der);
  if (p != spki_der.data() + spki_der.size()) {
    return Error(ErrorCode::kInvalidArgument, "trailing data after the SubjectPublicKeyInfo");
  }
  PublicKeyInfo info;
  switch (EVP_PKEY_get_base_id(key.get())) {
    case EVP_PKEY_RSA:
      describe_rsa(key.get(), info);
      break;
    case EVP_PKEY_RSA_PSS:
      info.type = PublicKeyInfo::Type::kRsa;
      info.bits = EVP_PKEY_get_bits(key.get());
      info.name = "rsa-pss-" + std::to_string(info.bits);
      break;
    case EVP_PKEY_EC:
      describe_ec(key.get(), info);
      break;
    case EVP_PKEY_ED25519:
      info.type = PublicKeyInfo::Type::kEd25519;
      info.bits = 256;
      info.name = "ed25519";
      info.algorithm = KeyAlgorithm::kEd25519;
      break;
    case EVP_PKEY_ED448:
      info.type = PublicKeyInfo::Type::kEd448;
      info.bits = EVP_PKEY_get_bits(key.get());
      info.name = "ed448";
      break;
    default: {
      info.bits = EVP_PKEY_get_bits(key.get());
      const char* type = EVP_PKEY_get0_type_name(key.get());
      info.name = lower(type != nullptr ? type : "unknown");
      break;
    }
  }
  return info;
}

}  // namespace signet::pki
