// encode_tbs_with_openssl: the TBSCertificate built through OpenSSL's X509 API, an
// independent implementation against which tests compare TbsTemplate::encode byte for byte.
// Not on the hot path.
#include <openssl/objects.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "base/openssl.h"
#include "pki/name.h"
#include "pki/tbs_certificate.h"

namespace signet::pki {

using base::DigestAlgorithm;
using base::Error;
using base::ErrorCode;
using base::KeyAlgorithm;

namespace {

template <typename T, void (*Free)(T*)>
using Owned = std::unique_ptr<T, base::OpenSslDeleter<Free>>;

struct GeneralNamesFree {
  void operator()(GENERAL_NAMES* p) const noexcept { GENERAL_NAMES_free(p); }
};
struct ObjectsFree {
  void operator()(STACK_OF(ASN1_OBJECT) * p) const noexcept {
    sk_ASN1_OBJECT_pop_free(p, ASN1_OBJECT_free);
  }
};
struct DistPointsFree {
  void operator()(CRL_DIST_POINTS* p) const noexcept { CRL_DIST_POINTS_free(p); }
};
struct AiaFree {
  void operator()(AUTHORITY_INFO_ACCESS* p) const noexcept { AUTHORITY_INFO_ACCESS_free(p); }
};

Error failed(const std::string& what) {
  return base::openssl_error(ErrorCode::kCryptoError, "OpenSSL could not " + what);
}

base::Result<base::X509NamePtr> to_name(base::ByteView der) {
  const unsigned char* p = der.data();
  base::X509NamePtr name(d2i_X509_NAME(nullptr, &p, static_cast<long>(der.size())));
  if (!name) return failed("parse a Name");
  return name;
}

base::Result<void> set_time(X509* x, base::TimePoint t, bool not_before) {
  // ASN1_TIME_set picks UTCTime for 1950-2049 and GeneralizedTime otherwise (RFC 5280).
  base::Asn1TimePtr time(ASN1_TIME_set(nullptr, static_cast<time_t>(base::to_unix_seconds(t))));
  if (!time) return failed("encode a time");
  const int ok =
      not_before ? X509_set1_notBefore(x, time.get()) : X509_set1_notAfter(x, time.get());
  if (ok != 1) return failed("set the validity");
  return base::ok();
}

// The signature AlgorithmIdentifier, derived through OpenSSL's own tables.
base::Result<void> set_signature_algorithm(X509* x, const IssuerFields& issuer) {
  int pkey_nid = NID_undef;
  if (base::is_ec(issuer.key_algorithm)) {
    pkey_nid = NID_X9_62_id_ecPublicKey;
  } else if (base::is_rsa(issuer.key_algorithm)) {
    pkey_nid = NID_rsaEncryption;
  } else {
    pkey_nid = NID_ED25519;
  }
  int md_nid = NID_undef;
  switch (issuer.digest) {
    case DigestAlgorithm::kNone:
      md_nid = NID_undef;
      break;
    case DigestAlgorithm::kSha256:
      md_nid = NID_sha256;
      break;
    case DigestAlgorithm::kSha384:
      md_nid = NID_sha384;
      break;
    case DigestAlgorithm::kSha512:
      md_nid = NID_sha512;
      break;
  }
  int signature_nid = NID_undef;
  if (pkey_nid == NID_ED25519) {
    // RFC 8410 §3: the key's OID is the signature's; OpenSSL's digest/key cross-reference
    // table leaves out algorithms without a separate digest.
    signature_nid = NID_ED25519;
  } else if (OBJ_find_sigid_by_algs(&signature_nid, md_nid, pkey_nid) != 1) {
    return failed("find the signature algorithm");
  }
  // RFC 4055 §5: RSA PKCS#1 v1.5 algorithms carry NULL parameters; ECDSA (RFC 5758) and
  // Ed25519 (RFC 8410) none.
  const int parameter_type = base::is_rsa(issuer.key_algorithm) ? V_ASN1_NULL : V_ASN1_UNDEF;
  // OpenSSL sets the inner signature field only when it signs; we sign elsewhere.
  auto* algorithm = const_cast<X509_ALGOR*>(X509_get0_tbs_sigalg(x));
  if (X509_ALGOR_set0(algorithm, OBJ_nid2obj(signature_nid), parameter_type, nullptr) != 1) {
    return failed("set the signature algorithm");
  }
  return base::ok();
}

base::Result<void> add(X509* x, int nid, void* value, bool critical) {
  if (X509_add1_ext_i2d(x, nid, value, critical ? 1 : 0, X509V3_ADD_APPEND) != 1) {
    return failed(std::string("add the ") + OBJ_nid2sn(nid) + " extension");
  }
  return base::ok();
}

// otherName { 1.3.6.1.4.1.311.20.2.3 (msUPN), UTF8String }.
GENERAL_NAME* upn_to_openssl(const GeneralName& name) {
  Owned<GENERAL_NAME, GENERAL_NAME_free> out(GENERAL_NAME_new());
  ASN1_OBJECT* oid = OBJ_txt2obj("1.3.6.1.4.1.311.20.2.3", 1);
  ASN1_TYPE* value = ASN1_TYPE_new();
  ASN1_UTF8STRING* text = ASN1_UTF8STRING_new();
  if (!out || oid == nullptr || value == nullptr || text == nullptr ||
      ASN1_STRING_set(text, name.value.data(), static_cast<int>(name.value.size())) != 1) {
    ASN1_OBJECT_free(oid);
    ASN1_TYPE_free(value);
    ASN1_UTF8STRING_free(text);
    return nullptr;
  }
  ASN1_TYPE_set(value, V_ASN1_UTF8STRING, text);
  if (GENERAL_NAME_set0_othername(out.get(), oid, value) != 1) {
    ASN1_OBJECT_free(oid);
    ASN1_TYPE_free(value);
    return nullptr;
  }
  return out.release();
}

GENERAL_NAME* to_openssl(const GeneralName& name) {
  if (name.type == GeneralName::Type::kUpn) return upn_to_openssl(name);
  GENERAL_NAME* out = GENERAL_NAME_new();
  if (out == nullptr) return nullptr;
  ASN1_STRING* value =
      name.type == GeneralName::Type::kIp ? ASN1_OCTET_STRING_new() : ASN1_IA5STRING_new();
  const auto& bytes = name.type == GeneralName::Type::kIp
                          ? name.ip_octets
                          : base::Bytes(name.value.begin(), name.value.end());
  if (value == nullptr ||
      ASN1_STRING_set(value, bytes.data(), static_cast<int>(bytes.size())) != 1) {
    ASN1_STRING_free(value);
    GENERAL_NAME_free(out);
    return nullptr;
  }
  int type = GEN_DNS;
  switch (name.type) {
    case GeneralName::Type::kDns:
      type = GEN_DNS;
      break;
    case GeneralName::Type::kIp:
      type = GEN_IPADD;
      break;
    case GeneralName::Type::kEmail:
      type = GEN_EMAIL;
      break;
    case GeneralName::Type::kUri:
      type = GEN_URI;
      break;
    case GeneralName::Type::kUpn:  // upn_to_openssl
      break;
  }
  GENERAL_NAME_set0_value(out, type, value);
  return out;
}

GENERAL_NAME* uri(const std::string& url) {
  GeneralName name;
  name.type = GeneralName::Type::kUri;
  name.value = url;
  return to_openssl(name);
}

base::Result<void> add_subject_extensions(X509* x, const SubjectFields& s) {
  Owned<BASIC_CONSTRAINTS, BASIC_CONSTRAINTS_free> bc(BASIC_CONSTRAINTS_new());
  if (!bc) return failed("allocate basicConstraints");
  bc->ca = s.is_ca ? 0xff : 0;
  if (s.path_length) {
    bc->pathlen = ASN1_INTEGER_new();
    if (bc->pathlen == nullptr || ASN1_INTEGER_set(bc->pathlen, *s.path_length) != 1) {
      return failed("encode the path length");
    }
  }
  SIGNET_TRY(add(x, NID_basic_constraints, bc.get(), true));
  if (s.key_usage != 0) {
    Owned<ASN1_BIT_STRING, ASN1_BIT_STRING_free> bits(ASN1_BIT_STRING_new());
    for (int bit = 0; bit < 9 && bits; ++bit) {
      if ((s.key_usage & (1u << bit)) && ASN1_BIT_STRING_set_bit(bits.get(), bit, 1) != 1) {
        return failed("encode keyUsage");
      }
    }
    if (!bits) return failed("allocate keyUsage");
    SIGNET_TRY(add(x, NID_key_usage, bits.get(), true));
  }
  if (!s.extended_key_usage.empty()) {
    std::unique_ptr<STACK_OF(ASN1_OBJECT), ObjectsFree> usages(sk_ASN1_OBJECT_new_null());
    for (const auto& oid : s.extended_key_usage) {
      ASN1_OBJECT* object = OBJ_txt2obj(oid.c_str(), 1);
      if (object == nullptr || sk_ASN1_OBJECT_push(usages.get(), object) <= 0) {
        ASN1_OBJECT_free(object);
        return failed("encode the extendedKeyUsage '" + oid + "'");
      }
    }
    SIGNET_TRY(add(x, NID_ext_key_usage, usages.get(), false));
  }
  if (!s.subject_key_identifier.empty()) {
    base::Asn1OctetStringPtr ski(ASN1_OCTET_STRING_new());
    if (!ski || ASN1_OCTET_STRING_set(ski.get(), s.subject_key_identifier.data(),
                                      static_cast<int>(s.subject_key_identifier.size())) != 1) {
      return failed("encode the subjectKeyIdentifier");
    }
    SIGNET_TRY(add(x, NID_subject_key_identifier, ski.get(), false));
  }
  return base::ok();
}

base::Result<void> add_aki(X509* x, const IssuerFields& issuer) {
  if (issuer.authority_key_identifier.empty()) return base::ok();
  Owned<AUTHORITY_KEYID, AUTHORITY_KEYID_free> aki(AUTHORITY_KEYID_new());
  if (!aki) return failed("allocate the authorityKeyIdentifier");
  aki->keyid = ASN1_OCTET_STRING_new();
  if (aki->keyid == nullptr ||
      ASN1_OCTET_STRING_set(aki->keyid, issuer.authority_key_identifier.data(),
                            static_cast<int>(issuer.authority_key_identifier.size())) != 1) {
    return failed("encode the authorityKeyIdentifier");
  }
  return add(x, NID_authority_key_identifier, aki.get(), false);
}

base::Result<void> add_san(X509* x, const SubjectFields& s) {
  if (s.subject_alt_names.empty()) return base::ok();
  std::unique_ptr<GENERAL_NAMES, GeneralNamesFree> names(sk_GENERAL_NAME_new_null());
  for (const auto& name : s.subject_alt_names) {
    GENERAL_NAME* entry = to_openssl(name);
    if (entry == nullptr || sk_GENERAL_NAME_push(names.get(), entry) <= 0) {
      GENERAL_NAME_free(entry);
      return failed("encode the subjectAltName '" + name.to_string() + "'");
    }
  }
  return add(x, NID_subject_alt_name, names.get(), is_empty_name(s.subject_name_der));
}

base::Result<void> add_issuer_urls(X509* x, const IssuerFields& issuer) {
  if (!issuer.crl_url.empty()) {
    std::unique_ptr<CRL_DIST_POINTS, DistPointsFree> points(sk_DIST_POINT_new_null());
    DIST_POINT* point = DIST_POINT_new();
    if (point == nullptr || sk_DIST_POINT_push(points.get(), point) <= 0) {
      DIST_POINT_free(point);
      return failed("allocate a distribution point");
    }
    point->distpoint = DIST_POINT_NAME_new();
    if (point->distpoint == nullptr) return failed("allocate a distribution point name");
    point->distpoint->type = 0;  // fullName
    point->distpoint->name.fullname = sk_GENERAL_NAME_new_null();
    GENERAL_NAME* name = uri(issuer.crl_url);
    if (point->distpoint->name.fullname == nullptr || name == nullptr ||
        sk_GENERAL_NAME_push(point->distpoint->name.fullname, name) <= 0) {
      GENERAL_NAME_free(name);
      return failed("encode the CRL URL");
    }
    SIGNET_TRY(add(x, NID_crl_distribution_points, points.get(), false));
  }
  if (!issuer.ocsp_url.empty() || !issuer.ca_issuers_url.empty()) {
    std::unique_ptr<AUTHORITY_INFO_ACCESS, AiaFree> aia(sk_ACCESS_DESCRIPTION_new_null());
    auto push = [&aia](int method, const std::string& url) -> bool {
      ACCESS_DESCRIPTION* description = ACCESS_DESCRIPTION_new();
      if (description == nullptr) return false;
      if (sk_ACCESS_DESCRIPTION_push(aia.get(), description) <= 0) {
        ACCESS_DESCRIPTION_free(description);
        return false;
      }
      ASN1_OBJECT_free(description->method);
      description->method = OBJ_nid2obj(method);
      GENERAL_NAME_free(description->location);
      description->location = uri(url);
      return description->location != nullptr;
    };
    if (!issuer.ocsp_url.empty() && !push(NID_ad_OCSP, issuer.ocsp_url)) {
      return failed("encode the OCSP URL");
    }
    if (!issuer.ca_issuers_url.empty() && !push(NID_ad_ca_issuers, issuer.ca_issuers_url)) {
      return failed("encode the caIssuers URL");
    }
    SIGNET_TRY(add(x, NID_info_access, aia.get(), false));
  }
  return base::ok();
}

}  // namespace

base::Result<base::Bytes> encode_tbs_with_openssl(const IssuerFields& issuer,
                                                  const SubjectFields& s) {
  // Refuse exactly what TbsTemplate refuses.
  SIGNET_TRY(TbsTemplate::create(issuer));
  if (s.serial.magnitude().empty()) {
    return Error(ErrorCode::kInvalidArgument, "the certificate's serial number is not set");
  }
  base::X509Ptr x(X509_new());
  if (!x || X509_set_version(x.get(), X509_VERSION_3) != 1) return failed("create a certificate");
  base::BignumPtr serial_bn(BN_bin2bn(s.serial.magnitude().data(),
                                      static_cast<int>(s.serial.magnitude().size()), nullptr));
  base::Asn1IntegerPtr serial(serial_bn ? BN_to_ASN1_INTEGER(serial_bn.get(), nullptr) : nullptr);
  if (!serial || X509_set_serialNumber(x.get(), serial.get()) != 1) return failed("set the serial");
  SIGNET_TRY(set_signature_algorithm(x.get(), issuer));
  SIGNET_ASSIGN_OR_RETURN(auto issuer_name, to_name(issuer.issuer_name_der));
  SIGNET_ASSIGN_OR_RETURN(auto subject_name, to_name(s.subject_name_der));
  if (X509_set_issuer_name(x.get(), issuer_name.get()) != 1 ||
      X509_set_subject_name(x.get(), subject_name.get()) != 1) {
    return failed("set the names");
  }
  SIGNET_TRY(set_time(x.get(), s.not_before, true));
  SIGNET_TRY(set_time(x.get(), s.not_after, false));
  const unsigned char* p = s.public_key_der.data();
  base::EvpPkeyPtr key(d2i_PUBKEY(nullptr, &p, static_cast<long>(s.public_key_der.size())));
  if (!key || X509_set_pubkey(x.get(), key.get()) != 1) return failed("set the public key");
  SIGNET_TRY(add_subject_extensions(x.get(), s));
  SIGNET_TRY(add_aki(x.get(), issuer));
  SIGNET_TRY(add_san(x.get(), s));
  SIGNET_TRY(add_issuer_urls(x.get(), issuer));
  if (s.ocsp_no_check) {
    Owned<ASN1_NULL, ASN1_NULL_free> null(ASN1_NULL_new());
    if (!null) return failed("allocate the OCSP no-check value");
    SIGNET_TRY(add(x.get(), NID_id_pkix_OCSP_noCheck, null.get(), false));
  }
  unsigned char* der = nullptr;
  const int length = i2d_re_X509_tbs(x.get(), &der);
  if (length <= 0) return failed("encode the TBSCertificate");
  base::Bytes out(der, der + length);
  OPENSSL_free(der);
  return out;
}

}  // namespace signet::pki
