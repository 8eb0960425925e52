// Parameters of "signet-token" signature operations: what EVP callers set (libssl sets the
// digest, and for RSA-PSS the padding and salt length; X509_sign_ctx asks for the
// AlgorithmIdentifier) mapped onto base::SignatureScheme, refusing what a token signature
// cannot be.
#include <openssl/core_names.h>
#include <openssl/params.h>
#include <openssl/proverr.h>
#include <openssl/rsa.h>

#include <charconv>
#include <cstring>
#include <string_view>

#include "hsm/internal/provider_signature.h"

namespace signet::hsm::internal {
namespace {

using base::DigestAlgorithm;

// A parameter that may come as an integer (EVP_PKEY_CTX_ctrl) or as text (ctrl_str, params).
struct IntOrText {
  std::optional<int> number;
  std::string_view text;
};

std::optional<IntOrText> read_int_or_text(const OSSL_PARAM& param) {
  IntOrText value;
  if (param.data_type == OSSL_PARAM_UTF8_STRING) {
    const char* text = nullptr;
    if (OSSL_PARAM_get_utf8_string_ptr(&param, &text) != 1 || text == nullptr) return std::nullopt;
    value.text = text;
    int number = 0;
    const auto [end, error] =
        std::from_chars(value.text.data(), value.text.data() + value.text.size(), number);
    if (error == std::errc() && end == value.text.data() + value.text.size()) value.number = number;
    return value;
  }
  int number = 0;
  if (OSSL_PARAM_get_int(&param, &number) != 1) return std::nullopt;
  value.number = number;
  return value;
}

bool set_digest(SignatureContext& context, const OSSL_PARAM& param) {
  const char* name = nullptr;
  if (OSSL_PARAM_get_utf8_string_ptr(&param, &name) != 1) {
    raise_error(PROV_R_FAILED_TO_GET_PARAMETER, "the digest must be given by name");
    return false;
  }
  if (context.kind == KeyKind::kEd25519) {
    if (name == nullptr || *name == '\0') return true;
    raise_error(PROV_R_DIGEST_NOT_ALLOWED,
                std::string("Ed25519 signs the message itself; it takes no digest (") + name + ")");
    return false;
  }
  const auto digest = context.provider->digest_named(name);
  if (!digest) {
    raise_error(PROV_R_INVALID_DIGEST, std::string("token keys sign with SHA-256, SHA-384 or "
                                                   "SHA-512, not ") +
                                           (name != nullptr ? name : "(none)"));
    return false;
  }
  if (context.digest_fixed && *digest != context.digest) {
    raise_error(PROV_R_DIGEST_NOT_ALLOWED,
                "the digest of a digest-sign operation cannot change once it has started");
    return false;
  }
  context.digest = *digest;
  return true;
}

bool set_padding(SignatureContext& context, const OSSL_PARAM& param) {
  const auto value = read_int_or_text(param);
  if (value && ((value->number && *value->number == RSA_PKCS1_PADDING) ||
                value->text == OSSL_PKEY_RSA_PAD_MODE_PKCSV15)) {
    context.padding = base::RsaPadding::kPkcs1v15;
    return true;
  }
  if (value && ((value->number && *value->number == RSA_PKCS1_PSS_PADDING) ||
                value->text == OSSL_PKEY_RSA_PAD_MODE_PSS)) {
    context.padding = base::RsaPadding::kPss;
    return true;
  }
  raise_error(PROV_R_INVALID_PADDING_MODE,
              "token RSA keys sign with PKCS#1 v1.5 (\"pkcs1\") or PSS (\"pss\") padding only");
  return false;
}

// RFC 8446 §4.2.3 wants the salt as long as the digest; that is what the token makes. "auto"
// (any salt is accepted when verifying) is satisfied by it too.
bool set_salt_length(SignatureContext& context, const OSSL_PARAM& param) {
  const auto value = read_int_or_text(param);
  if (value && (value->text == OSSL_PKEY_RSA_PSS_SALT_LEN_DIGEST ||
                value->text == OSSL_PKEY_RSA_PSS_SALT_LEN_AUTO ||
                (value->number && (*value->number == RSA_PSS_SALTLEN_DIGEST ||
                                   *value->number == RSA_PSS_SALTLEN_AUTO)))) {
    context.salt_length = kSaltAsDigest;
    return true;
  }
  if (value && value->number && *value->number >= 0) {
    context.salt_length = *value->number;  // checked against the digest when signing
    return true;
  }
  raise_error(PROV_R_INVALID_SALT_LENGTH,
              "token RSA-PSS signatures use a salt as long as the digest (\"digest\", -1, "
              "\"auto\" or that number of bytes); \"max\" and other lengths are not offered");
  return false;
}

bool set_mgf1(SignatureContext& context, const OSSL_PARAM& param) {
  const char* name = nullptr;
  const auto digest = OSSL_PARAM_get_utf8_string_ptr(&param, &name) == 1
                          ? context.provider->digest_named(name)
                          : std::nullopt;
  if (!digest) {
    raise_error(PROV_R_INVALID_MGF1_MD, "token RSA-PSS uses MGF1 with SHA-256, SHA-384 or SHA-512");
    return false;
  }
  context.mgf1 = *digest;
  return true;
}

DigestAlgorithm digest_of_length(std::size_t length) {
  switch (length) {
    case 32:
      return DigestAlgorithm::kSha256;
    case 48:
      return DigestAlgorithm::kSha384;
    case 64:
      return DigestAlgorithm::kSha512;
    default:
      return DigestAlgorithm::kNone;
  }
}

}  // namespace

EVP_PKEY_CTX* SignatureContext::delegate() const {
  if (raw_verifier) return raw_verifier.get();
  if (verifier) return EVP_MD_CTX_get_pkey_ctx(verifier.get());
  return nullptr;
}

bool apply_sign_params(SignatureContext& context, const OSSL_PARAM params[]) {
  if (params == nullptr) return true;
  if (const OSSL_PARAM* p = OSSL_PARAM_locate_const(params, OSSL_SIGNATURE_PARAM_DIGEST)) {
    if (!set_digest(context, *p)) return false;
  }
  if (context.kind != KeyKind::kRsa) return true;  // the rest is RSA's
  if (const OSSL_PARAM* p = OSSL_PARAM_locate_const(params, OSSL_SIGNATURE_PARAM_PAD_MODE)) {
    if (!set_padding(context, *p)) return false;
  }
  if (const OSSL_PARAM* p = OSSL_PARAM_locate_const(params, OSSL_SIGNATURE_PARAM_PSS_SALTLEN)) {
    if (!set_salt_length(context, *p)) return false;
  }
  if (const OSSL_PARAM* p = OSSL_PARAM_locate_const(params, OSSL_SIGNATURE_PARAM_MGF1_DIGEST)) {
    if (!set_mgf1(context, *p)) return false;
  }
  return true;
}

std::optional<base::SignatureScheme> scheme_for(const SignatureContext& context,
                                                std::size_t digest_length) {
  base::SignatureScheme scheme;
  scheme.digest = context.digest;
  if (scheme.digest == DigestAlgorithm::kNone && context.kind == KeyKind::kEc) {
    scheme.digest = digest_of_length(digest_length);  // EVP_PKEY_sign without a digest set
  }
  if (scheme.digest == DigestAlgorithm::kNone) {
    raise_error(PROV_R_INVALID_DIGEST,
                "set the digest (EVP_PKEY_CTX_set_signature_md) before signing " +
                    std::to_string(digest_length) + " bytes with a token key");
    return std::nullopt;
  }
  if (context.kind != KeyKind::kRsa) return scheme;
  scheme.padding = context.padding;
  if (scheme.padding != base::RsaPadding::kPss) return scheme;
  const std::size_t size = base::digest_size(scheme.digest);
  if (context.salt_length != kSaltAsDigest &&
      static_cast<std::size_t>(context.salt_length) != size) {
    raise_error(PROV_R_INVALID_SALT_LENGTH,
                "token RSA-PSS signatures use a salt of " + std::to_string(size) + " bytes (the " +
                    std::string(base::to_string(scheme.digest)) + " digest's length), not " +
                    std::to_string(context.salt_length));
    return std::nullopt;
  }
  if (context.mgf1 != DigestAlgorithm::kNone && context.mgf1 != scheme.digest) {
    raise_error(PROV_R_INVALID_MGF1_MD,
                "token RSA-PSS signatures use MGF1 with the signature's digest (" +
                    std::string(base::to_string(scheme.digest)) + ")");
    return std::nullopt;
  }
  return scheme;
}

bool describe_algorithm(const SignatureContext& context, OSSL_PARAM params[]) {
  const EVP_MD* md = context.provider->md(context.digest);
  if (context.kind != KeyKind::kEd25519 && md == nullptr) return true;  // nothing chosen yet
  const bool pss = context.kind == KeyKind::kRsa && context.padding == base::RsaPadding::kPss;
  char pad_mode[] = OSSL_PKEY_RSA_PAD_MODE_PSS;
  int salt = static_cast<int>(base::digest_size(context.digest));
  char mgf1[32] = {};
  if (md != nullptr) std::strncpy(mgf1, EVP_MD_get0_name(md), sizeof(mgf1) - 1);
  const OSSL_PARAM pss_settings[] = {
      OSSL_PARAM_construct_utf8_string(OSSL_SIGNATURE_PARAM_PAD_MODE, pad_mode, 0),
      OSSL_PARAM_construct_int(OSSL_SIGNATURE_PARAM_PSS_SALTLEN, &salt),
      OSSL_PARAM_construct_utf8_string(OSSL_SIGNATURE_PARAM_MGF1_DIGEST, mgf1, 0),
      OSSL_PARAM_construct_end()};
  base::EvpMdCtxPtr verifier(EVP_MD_CTX_new());
  EVP_PKEY_CTX* delegate = nullptr;
  if (!verifier ||
      EVP_DigestVerifyInit_ex(verifier.get(), &delegate,
                              md != nullptr ? EVP_MD_get0_name(md) : nullptr,
                              context.provider->libctx, kDefaultProviderQuery,
                              context.public_key.get(), pss ? pss_settings : nullptr) != 1 ||
      EVP_PKEY_CTX_get_params(delegate, params) != 1) {
    raise_error(PROV_R_FAILED_TO_GET_PARAMETER,
                "cannot describe the signature algorithm (AlgorithmIdentifier)");
    return false;
  }
  return true;
}

}  // namespace signet::hsm::internal
