#include "pki/internal/spki.h"

#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/param_build.h>

#include <algorithm>
#include <array>
#include <cstring>
#include <mutex>

#include "pki/internal/der_writer.h"

namespace signet::pki::internal {

using base::ByteView;
using base::Error;
using base::ErrorCode;
using base::KeyAlgorithm;

namespace {

constexpr std::uint8_t kOidRsaEncryption[] = {0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01};
constexpr std::uint8_t kOidEcPublicKey[] = {0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01};
constexpr std::uint8_t kOidEd25519[] = {0x2b, 0x65, 0x70};
constexpr std::uint8_t kOidP256[] = {0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07};
constexpr std::uint8_t kOidP384[] = {0x2b, 0x81, 0x04, 0x00, 0x22};
constexpr std::uint8_t kOidP521[] = {0x2b, 0x81, 0x04, 0x00, 0x23};
constexpr std::uint8_t kOidSecp256k1[] = {0x2b, 0x81, 0x04, 0x00, 0x0a};

struct Curve {
  ByteView oid;
  const char* openssl_name;  // OSSL_PKEY_PARAM_GROUP_NAME
  const char* nist_name;     // what PublicKeyInfo::curve says
  const char* key_name;      // what PublicKeyInfo::name says
  int field_bytes;
  std::optional<KeyAlgorithm> algorithm;
};

const Curve kCurves[] = {
    {kOidP256, "prime256v1", "P-256", "ec-p256", 32, KeyAlgorithm::kEcP256},
    {kOidP384, "secp384r1", "P-384", "ec-p384", 48, KeyAlgorithm::kEcP384},
    {kOidP521, "secp521r1", "P-521", "ec-p521", 66, std::nullopt},
    {kOidSecp256k1, "secp256k1", "secp256k1", "ec-secp256k1", 32, std::nullopt},
};

bool equal(ByteView a, ByteView b) { return std::equal(a.begin(), a.end(), b.begin(), b.end()); }

const Curve* named_curve(ByteView parameters) {
  DerReader reader(parameters);
  auto oid = reader.next();
  if (!oid || oid->tag != kTagOid || !reader.at_end()) return nullptr;
  for (const auto& curve : kCurves) {
    if (equal(oid->content, curve.oid)) return &curve;
  }
  return nullptr;
}

// An uncompressed (04 || X || Y) or compressed (02/03 || X) point of the curve's size.
bool plausible_point(ByteView point, const Curve& curve) {
  const auto n = static_cast<std::size_t>(curve.field_bytes);
  if (point.size() == 1 + 2 * n) return point[0] == 0x04;
  if (point.size() == 1 + n) return point[0] == 0x02 || point[0] == 0x03;
  return false;
}

// RSAPublicKey ::= SEQUENCE { modulus INTEGER, publicExponent INTEGER } (RFC 8017 A.1.1),
// as positive magnitudes.
std::optional<std::pair<ByteView, ByteView>> rsa_parts(ByteView key) {
  DerReader outer(key);
  auto sequence = outer.next();
  if (!sequence || sequence->tag != kTagSequence || !outer.at_end()) return std::nullopt;
  DerReader inner(sequence->content);
  auto modulus = inner.next();
  auto exponent = inner.next();
  if (!modulus || !exponent || modulus->tag != kTagInteger || exponent->tag != kTagInteger ||
      !inner.at_end() || modulus->content.empty() || exponent->content.empty() ||
      (modulus->content[0] & 0x80) != 0 || (exponent->content[0] & 0x80) != 0) {
    return std::nullopt;
  }
  auto strip = [](ByteView v) {
    while (!v.empty() && v[0] == 0) v = v.subspan(1);
    return v;
  };
  auto n = strip(modulus->content);
  auto e = strip(exponent->content);
  if (n.empty() || e.empty()) return std::nullopt;
  return std::make_pair(n, e);
}

int bit_length(ByteView magnitude) {
  int top = 0;
  for (std::uint8_t b = magnitude[0]; b != 0; b >>= 1) ++top;
  return static_cast<int>((magnitude.size() - 1) * 8) + top;
}

base::Result<base::EvpPkeyPtr> from_params(const char* type, OSSL_PARAM* params) {
  base::EvpPkeyCtxPtr ctx(EVP_PKEY_CTX_new_from_name(nullptr, type, nullptr));
  EVP_PKEY* key = nullptr;
  if (!ctx || EVP_PKEY_fromdata_init(ctx.get()) != 1 ||
      EVP_PKEY_fromdata(ctx.get(), &key, EVP_PKEY_PUBLIC_KEY, params) != 1 || key == nullptr) {
    return base::openssl_error(ErrorCode::kInvalidArgument,
                               std::string("the ") + type + " public key is invalid");
  }
  return base::EvpPkeyPtr(key);
}

// A public key of `curve` (its generator point) whose domain parameters EC keys are copied
// from. Building an EC group from its name, as EVP_PKEY_fromdata does, recomputes the group's
// Montgomery constants and cost a third of the ECDSA verification it served; a copy of a built
// group does not. Built once per curve, then only read: EVP_PKEY_dup of a key that nobody
// changes is safe from any thread.
base::Result<const EVP_PKEY*> curve_template(const Curve& curve) {
  struct Template {
    std::once_flag once;
    base::EvpPkeyPtr key;
  };
  static std::array<Template, std::size(kCurves)> templates;
  auto& slot = templates[static_cast<std::size_t>(&curve - kCurves)];
  std::call_once(slot.once, [&] {
    std::unique_ptr<EC_GROUP, base::OpenSslDeleter<EC_GROUP_free>> group(
        EC_GROUP_new_by_curve_name(OBJ_txt2nid(curve.openssl_name)));
    if (!group) return;
    std::vector<std::uint8_t> generator(1 + 2 * static_cast<std::size_t>(curve.field_bytes));
    if (EC_POINT_point2oct(group.get(), EC_GROUP_get0_generator(group.get()),
                           POINT_CONVERSION_UNCOMPRESSED, generator.data(), generator.size(),
                           nullptr) != generator.size()) {
      return;
    }
    OSSL_PARAM params[] = {
        OSSL_PARAM_construct_utf8_string(OSSL_PKEY_PARAM_GROUP_NAME,
                                         const_cast<char*>(curve.openssl_name), 0),
        OSSL_PARAM_construct_octet_string(OSSL_PKEY_PARAM_PUB_KEY, generator.data(),
                                          generator.size()),
        OSSL_PARAM_construct_end()};
    if (auto key = from_params("EC", params)) slot.key = std::move(*key);
  });
  if (!slot.key) {
    return base::openssl_error(
        ErrorCode::kCryptoError,
        std::string("cannot build the parameters of curve ") + curve.nist_name);
  }
  return static_cast<const EVP_PKEY*>(slot.key.get());
}

// An EC public key: the curve's template copied, then its point replaced (checked to lie on
// the curve by OpenSSL, as EVP_PKEY_fromdata would).
base::Result<base::EvpPkeyPtr> ec_public_key(const Curve& curve, ByteView point) {
  SIGNET_ASSIGN_OR_RETURN(const EVP_PKEY* shape, curve_template(curve));
  base::EvpPkeyPtr key(EVP_PKEY_dup(const_cast<EVP_PKEY*>(shape)));
  if (!key || EVP_PKEY_set1_encoded_public_key(key.get(), point.data(), point.size()) != 1) {
    return base::openssl_error(ErrorCode::kInvalidArgument, "the EC public key is invalid");
  }
  return key;
}

base::Result<base::EvpPkeyPtr> load_with_openssl(ByteView spki_der) {
  const unsigned char* p = spki_der.data();
  base::EvpPkeyPtr key(d2i_PUBKEY(nullptr, &p, static_cast<long>(spki_der.size())));
  if (!key)
    return base::openssl_error(ErrorCode::kInvalidArgument, "the public key cannot be read");
  if (p != spki_der.data() + spki_der.size()) {
    return Error(ErrorCode::kInvalidArgument, "trailing data after the SubjectPublicKeyInfo");
  }
  return key;
}

}  // namespace

base::Result<SpkiParts> split_spki(ByteView spki_der) {
  DerReader outer(spki_der);
  SIGNET_ASSIGN_OR_RETURN(auto spki, outer.expect(kTagSequence, "SubjectPublicKeyInfo"));
  if (!outer.at_end()) {
    return Error(ErrorCode::kInvalidArgument, "trailing data after the SubjectPublicKeyInfo");
  }
  DerReader fields(spki.content);
  SIGNET_ASSIGN_OR_RETURN(auto algorithm, fields.expect(kTagSequence, "AlgorithmIdentifier"));
  SIGNET_ASSIGN_OR_RETURN(auto bits, fields.expect(kTagBitString, "subjectPublicKey"));
  if (!fields.at_end()) {
    return Error(ErrorCode::kInvalidArgument, "extra fields in the SubjectPublicKeyInfo");
  }
  DerReader algorithm_fields(algorithm.content);
  SIGNET_ASSIGN_OR_RETURN(auto oid, algorithm_fields.expect(kTagOid, "key algorithm"));
  SpkiParts parts;
  parts.algorithm_oid = oid.content;
  if (!algorithm_fields.at_end()) {
    SIGNET_ASSIGN_OR_RETURN(auto parameters, algorithm_fields.next());
    parts.parameters = parameters.whole;
    if (!algorithm_fields.at_end()) {
      return Error(ErrorCode::kInvalidArgument, "extra fields in the key's AlgorithmIdentifier");
    }
  }
  if (bits.content.empty() || bits.content[0] != 0) {
    return Error(ErrorCode::kInvalidArgument, "the subjectPublicKey BIT STRING is malformed");
  }
  parts.key = bits.content.subspan(1);
  return parts;
}

std::optional<PublicKeyInfo> describe_spki(const SpkiParts& parts) {
  PublicKeyInfo info;
  if (equal(parts.algorithm_oid, kOidRsaEncryption)) {
    auto rsa = rsa_parts(parts.key);
    if (!rsa) return std::nullopt;
    info.type = PublicKeyInfo::Type::kRsa;
    info.bits = bit_length(rsa->first);
    info.name = "rsa-" + std::to_string(info.bits);
    if (info.bits == 2048) info.algorithm = KeyAlgorithm::kRsa2048;
    if (info.bits == 3072) info.algorithm = KeyAlgorithm::kRsa3072;
    if (info.bits == 4096) info.algorithm = KeyAlgorithm::kRsa4096;
    return info;
  }
  if (equal(parts.algorithm_oid, kOidEcPublicKey)) {
    const Curve* curve = named_curve(parts.parameters);
    if (curve == nullptr || !plausible_point(parts.key, *curve)) return std::nullopt;
    info.type = PublicKeyInfo::Type::kEc;
    info.bits = curve->field_bytes == 66 ? 521 : curve->field_bytes * 8;
    info.curve = curve->nist_name;
    info.name = curve->key_name;
    info.algorithm = curve->algorithm;
    return info;
  }
  if (equal(parts.algorithm_oid, kOidEd25519) && parts.parameters.empty() &&
      parts.key.size() == 32) {
    info.type = PublicKeyInfo::Type::kEd25519;
    info.bits = 256;
    info.name = "ed25519";
    info.algorithm = KeyAlgorithm::kEd25519;
    return info;
  }
  return std::nullopt;
}

base::Result<base::EvpPkeyPtr> load_public_key(ByteView spki_der) {
  auto parts = split_spki(spki_der);
  if (!parts) return load_with_openssl(spki_der);
  if (equal(parts->algorithm_oid, kOidEcPublicKey)) {
    const Curve* curve = named_curve(parts->parameters);
    if (curve != nullptr && plausible_point(parts->key, *curve)) {
      return ec_public_key(*curve, parts->key);
    }
  } else if (equal(parts->algorithm_oid, kOidRsaEncryption)) {
    if (auto rsa = rsa_parts(parts->key)) {
      base::BignumPtr n(BN_bin2bn(rsa->first.data(), static_cast<int>(rsa->first.size()), nullptr));
      base::BignumPtr e(
          BN_bin2bn(rsa->second.data(), static_cast<int>(rsa->second.size()), nullptr));
      std::unique_ptr<OSSL_PARAM_BLD, base::OpenSslDeleter<OSSL_PARAM_BLD_free>> builder(
          OSSL_PARAM_BLD_new());
      if (!n || !e || !builder ||
          OSSL_PARAM_BLD_push_BN(builder.get(), OSSL_PKEY_PARAM_RSA_N, n.get()) != 1 ||
          OSSL_PARAM_BLD_push_BN(builder.get(), OSSL_PKEY_PARAM_RSA_E, e.get()) != 1) {
        return base::openssl_error(ErrorCode::kCryptoError, "cannot build the RSA key parameters");
      }
      std::unique_ptr<OSSL_PARAM, base::OpenSslDeleter<OSSL_PARAM_free>> params(
          OSSL_PARAM_BLD_to_param(builder.get()));
      if (!params)
        return base::openssl_error(ErrorCode::kCryptoError, "cannot build the RSA key parameters");
      return from_params("RSA", params.get());
    }
  } else if (equal(parts->algorithm_oid, kOidEd25519) && parts->parameters.empty() &&
             parts->key.size() == 32) {
    base::EvpPkeyPtr key(EVP_PKEY_new_raw_public_key_ex(nullptr, "ED25519", nullptr,
                                                        parts->key.data(), parts->key.size()));
    if (!key)
      return base::openssl_error(ErrorCode::kInvalidArgument, "the Ed25519 public key is invalid");
    return key;
  }
  return load_with_openssl(spki_der);
}

}  // namespace signet::pki::internal
