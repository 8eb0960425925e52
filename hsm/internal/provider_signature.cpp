// The "signet-token" provider's signature operations. Signing hashes on the host (with the
// bridge's default-provider digests) and hands the digest to Signer::sign_digest(); Ed25519
// hands the message to Signer::sign(). Verification, which needs only the public key, is
// delegated to the default provider. Every failure is raised on OpenSSL's error queue with a
// sentence naming the key and, for a failed signature, the Signer's own error.
#include <openssl/core_dispatch.h>
#include <openssl/core_names.h>
#include <openssl/params.h>
#include <openssl/proverr.h>

#include <cstring>

#include "hsm/internal/provider_signature.h"

namespace signet::hsm::internal {
namespace {

SignatureContext* as_context(void* context) { return static_cast<SignatureContext*>(context); }

// --- binding a key, sizes, signing -------------------------------------------------------

bool bind_key(SignatureContext& context, void* provkey, Operation operation) {
  const auto* key = static_cast<const KeyData*>(provkey);
  if (key == nullptr || !key->public_key || key->kind != context.kind) {
    raise_error(PROV_R_NO_KEY_SET, "the signature operation got no usable token key");
    return false;
  }
  const bool signing = operation == Operation::kSign || operation == Operation::kDigestSign;
  if (signing && !key->signer) {
    raise_error(PROV_R_NOT_A_PRIVATE_KEY, "this key is a public key only: it cannot sign");
    return false;
  }
  context.operation = operation;
  context.signer = signing ? key->signer : nullptr;
  if (EVP_PKEY_up_ref(key->public_key.get()) != 1) return false;
  context.public_key.reset(key->public_key.get());
  context.digest = base::DigestAlgorithm::kNone;
  context.digest_fixed = false;
  context.hash.reset();
  context.padding = base::RsaPadding::kPkcs1v15;
  context.salt_length = kSaltAsDigest;
  context.mgf1 = base::DigestAlgorithm::kNone;
  context.verifier.reset();
  context.raw_verifier.reset();
  return true;
}

std::size_t max_signature_size(const SignatureContext& context) {
  const int size = EVP_PKEY_get_size(context.public_key.get());
  return size > 0 ? static_cast<std::size_t>(size) : 0;
}

// Copies a signature out, as every sign function must: size only when `out` is null.
int deliver(const base::Result<base::Bytes>& signature, const SignatureContext& context,
            unsigned char* out, size_t* out_length, size_t out_size) {
  if (!signature) {
    raise_error(PROV_R_FAILED_TO_SIGN, "signing with " + context.signer->key_ref().to_uri() +
                                           " failed: " + signature.error().describe());
    return 0;
  }
  if (signature->size() > out_size) {
    raise_error(PROV_R_OUTPUT_BUFFER_TOO_SMALL,
                "the signature needs " + std::to_string(signature->size()) + " bytes, the " +
                    "buffer has " + std::to_string(out_size));
    return 0;
  }
  std::memcpy(out, signature->data(), signature->size());
  *out_length = signature->size();
  return 1;
}

int sign_digest_into(const SignatureContext& context, base::ByteView digest, unsigned char* out,
                     size_t* out_length, size_t out_size) {
  const auto scheme = scheme_for(context, digest.size());
  if (!scheme) return 0;
  return deliver(context.signer->sign_digest(digest, *scheme), context, out, out_length, out_size);
}

bool start_hash(SignatureContext& context, const char* mdname) {
  if (context.kind == KeyKind::kEd25519) {
    if (mdname == nullptr || *mdname == '\0') return true;
    raise_error(
        PROV_R_DIGEST_NOT_ALLOWED,
        std::string("Ed25519 signs the message itself; it takes no digest (") + mdname + ")");
    return false;
  }
  if (mdname != nullptr && *mdname != '\0') {
    const auto digest = context.provider->digest_named(mdname);
    if (!digest) {
      raise_error(PROV_R_INVALID_DIGEST,
                  std::string("token keys sign with SHA-256, SHA-384 or SHA-512, not ") + mdname);
      return false;
    }
    context.digest = *digest;
  } else {
    context.digest = context.signer->digest();
  }
  context.hash.reset(EVP_MD_CTX_new());
  if (!context.hash ||
      EVP_DigestInit_ex2(context.hash.get(), context.provider->md(context.digest), nullptr) != 1) {
    raise_error(PROV_R_INVALID_DIGEST, "cannot start hashing the data to sign");
    return false;
  }
  context.digest_fixed = true;
  return true;
}

// --- context life --------------------------------------------------------------------------

template <KeyKind Kind>
void* signature_newctx(void* provctx, const char* /*propq*/) {
  return guarded<void*>(nullptr, [&]() -> void* {
    auto context = std::make_unique<SignatureContext>();
    context->provider = static_cast<ProviderContext*>(provctx);
    context->kind = Kind;
    return context.release();
  });
}

void signature_freectx(void* context) { delete as_context(context); }

bool copy_md_context(const base::EvpMdCtxPtr& from, base::EvpMdCtxPtr& to) {
  if (!from) return true;
  to.reset(EVP_MD_CTX_new());
  return to && EVP_MD_CTX_copy_ex(to.get(), from.get()) == 1;
}

void* signature_dupctx(void* context_in) {
  return guarded<void*>(nullptr, [&]() -> void* {
    const SignatureContext& from = *as_context(context_in);
    auto copy = std::make_unique<SignatureContext>();
    copy->provider = from.provider;
    copy->kind = from.kind;
    copy->operation = from.operation;
    copy->signer = from.signer;
    if (from.public_key && EVP_PKEY_up_ref(from.public_key.get()) == 1) {
      copy->public_key.reset(from.public_key.get());
    }
    copy->digest = from.digest;
    copy->digest_fixed = from.digest_fixed;
    copy->padding = from.padding;
    copy->salt_length = from.salt_length;
    copy->mgf1 = from.mgf1;
    if (!copy_md_context(from.hash, copy->hash) ||
        !copy_md_context(from.verifier, copy->verifier)) {
      return nullptr;
    }
    if (from.raw_verifier) {
      copy->raw_verifier.reset(EVP_PKEY_CTX_dup(from.raw_verifier.get()));
      if (!copy->raw_verifier) return nullptr;
    }
    return copy.release();
  });
}

// --- signing -----------------------------------------------------------------------------

int signature_sign_init(void* context, void* provkey, const OSSL_PARAM params[]) {
  return guarded(0, [&] {
    SignatureContext& c = *as_context(context);
    return bind_key(c, provkey, Operation::kSign) && apply_sign_params(c, params) ? 1 : 0;
  });
}

// EVP_PKEY_sign: `tbs` is the digest.
int signature_sign(void* context, unsigned char* sig, size_t* siglen, size_t sigsize,
                   const unsigned char* tbs, size_t tbslen) {
  return guarded(0, [&] {
    const SignatureContext& c = *as_context(context);
    if (sig == nullptr) {
      *siglen = max_signature_size(c);
      return 1;
    }
    return sign_digest_into(c, base::ByteView(tbs, tbslen), sig, siglen, sigsize);
  });
}

int signature_digest_sign_init(void* context, const char* mdname, void* provkey,
                               const OSSL_PARAM params[]) {
  return guarded(0, [&] {
    SignatureContext& c = *as_context(context);
    return bind_key(c, provkey, Operation::kDigestSign) && start_hash(c, mdname) &&
                   apply_sign_params(c, params)
               ? 1
               : 0;
  });
}

int signature_digest_sign_update(void* context, const unsigned char* data, size_t length) {
  SignatureContext& c = *as_context(context);
  if (!c.hash || EVP_DigestUpdate(c.hash.get(), data, length) != 1) {
    raise_error(PROV_R_FAILED_TO_SIGN, "cannot hash the data to sign");
    return 0;
  }
  return 1;
}

int signature_digest_sign_final(void* context, unsigned char* sig, size_t* siglen, size_t sigsize) {
  return guarded(0, [&] {
    SignatureContext& c = *as_context(context);
    if (sig == nullptr) {
      *siglen = max_signature_size(c);
      return 1;
    }
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int length = 0;
    if (!c.hash || EVP_DigestFinal_ex(c.hash.get(), digest, &length) != 1) {
      raise_error(PROV_R_FAILED_TO_SIGN, "cannot finish hashing the data to sign");
      return 0;
    }
    return sign_digest_into(c, base::ByteView(digest, length), sig, siglen, sigsize);
  });
}

// EVP_DigestSign in one call: the only way for Ed25519, and a shortcut for the others.
int signature_digest_sign(void* context, unsigned char* sig, size_t* siglen, size_t sigsize,
                          const unsigned char* tbs, size_t tbslen) {
  return guarded(0, [&] {
    const SignatureContext& c = *as_context(context);
    if (sig == nullptr) {
      *siglen = max_signature_size(c);
      return 1;
    }
    const base::ByteView message(tbs, tbslen);
    if (c.kind == KeyKind::kEd25519)
      return deliver(c.signer->sign(message), c, sig, siglen, sigsize);
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int length = 0;
    if (EVP_Digest(tbs, tbslen, digest, &length, c.provider->md(c.digest), nullptr) != 1) {
      raise_error(PROV_R_FAILED_TO_SIGN, "cannot hash the data to sign");
      return 0;
    }
    return sign_digest_into(c, base::ByteView(digest, length), sig, siglen, sigsize);
  });
}

// --- verification (the default provider's, on the public key) ------------------------------

int signature_verify_init(void* context, void* provkey, const OSSL_PARAM params[]) {
  return guarded(0, [&] {
    SignatureContext& c = *as_context(context);
    if (!bind_key(c, provkey, Operation::kVerify)) return 0;
    c.raw_verifier.reset(
        EVP_PKEY_CTX_new_from_pkey(c.provider->libctx, c.public_key.get(), kDefaultProviderQuery));
    return c.raw_verifier && EVP_PKEY_verify_init_ex(c.raw_verifier.get(), params) == 1 ? 1 : 0;
  });
}

int signature_verify(void* context, const unsigned char* sig, size_t siglen,
                     const unsigned char* tbs, size_t tbslen) {
  const SignatureContext& c = *as_context(context);
  if (!c.raw_verifier) return 0;
  return EVP_PKEY_verify(c.raw_verifier.get(), sig, siglen, tbs, tbslen) == 1 ? 1 : 0;
}

int signature_digest_verify_init(void* context, const char* mdname, void* provkey,
                                 const OSSL_PARAM params[]) {
  return guarded(0, [&] {
    SignatureContext& c = *as_context(context);
    if (!bind_key(c, provkey, Operation::kDigestVerify)) return 0;
    c.verifier.reset(EVP_MD_CTX_new());
    const char* name = mdname != nullptr && *mdname != '\0' ? mdname : nullptr;
    return c.verifier &&
                   EVP_DigestVerifyInit_ex(c.verifier.get(), nullptr, name, c.provider->libctx,
                                           kDefaultProviderQuery, c.public_key.get(), params) == 1
               ? 1
               : 0;
  });
}

int signature_digest_verify_update(void* context, const unsigned char* data, size_t length) {
  const SignatureContext& c = *as_context(context);
  return c.verifier && EVP_DigestVerifyUpdate(c.verifier.get(), data, length) == 1 ? 1 : 0;
}

int signature_digest_verify_final(void* context, const unsigned char* sig, size_t siglen) {
  const SignatureContext& c = *as_context(context);
  return c.verifier && EVP_DigestVerifyFinal(c.verifier.get(), sig, siglen) == 1 ? 1 : 0;
}

int signature_digest_verify(void* context, const unsigned char* sig, size_t siglen,
                            const unsigned char* tbs, size_t tbslen) {
  const SignatureContext& c = *as_context(context);
  return c.verifier && EVP_DigestVerify(c.verifier.get(), sig, siglen, tbs, tbslen) == 1 ? 1 : 0;
}

// --- parameters ----------------------------------------------------------------------------

int signature_set_ctx_params(void* context, const OSSL_PARAM params[]) {
  return guarded(0, [&] {
    SignatureContext& c = *as_context(context);
    if (params == nullptr) return 1;
    if (EVP_PKEY_CTX* delegate = c.delegate()) return EVP_PKEY_CTX_set_params(delegate, params);
    return apply_sign_params(c, params) ? 1 : 0;
  });
}

int signature_get_ctx_params(void* context, OSSL_PARAM params[]) {
  return guarded(0, [&] {
    const SignatureContext& c = *as_context(context);
    if (params == nullptr) return 1;
    if (EVP_PKEY_CTX* delegate = c.delegate()) return EVP_PKEY_CTX_get_params(delegate, params);
    if (OSSL_PARAM_locate(params, OSSL_SIGNATURE_PARAM_ALGORITHM_ID) != nullptr &&
        !describe_algorithm(c, params)) {
      return 0;
    }
    OSSL_PARAM* digest = OSSL_PARAM_locate(params, OSSL_SIGNATURE_PARAM_DIGEST);
    const EVP_MD* md = c.provider->md(c.digest);
    if (digest != nullptr && md != nullptr &&
        OSSL_PARAM_set_utf8_string(digest, EVP_MD_get0_name(md)) != 1) {
      return 0;
    }
    return 1;
  });
}

const OSSL_PARAM kGettable[] = {
    OSSL_PARAM_octet_string(OSSL_SIGNATURE_PARAM_ALGORITHM_ID, nullptr, 0),
    OSSL_PARAM_utf8_string(OSSL_SIGNATURE_PARAM_DIGEST, nullptr, 0), OSSL_PARAM_END};

const OSSL_PARAM kEcSettable[] = {
    OSSL_PARAM_utf8_string(OSSL_SIGNATURE_PARAM_DIGEST, nullptr, 0),
    OSSL_PARAM_utf8_string(OSSL_SIGNATURE_PARAM_PROPERTIES, nullptr, 0), OSSL_PARAM_END};
const OSSL_PARAM kRsaSettable[] = {
    OSSL_PARAM_utf8_string(OSSL_SIGNATURE_PARAM_DIGEST, nullptr, 0),
    OSSL_PARAM_utf8_string(OSSL_SIGNATURE_PARAM_PROPERTIES, nullptr, 0),
    OSSL_PARAM_utf8_string(OSSL_SIGNATURE_PARAM_PAD_MODE, nullptr, 0),
    OSSL_PARAM_utf8_string(OSSL_SIGNATURE_PARAM_PSS_SALTLEN, nullptr, 0),
    OSSL_PARAM_utf8_string(OSSL_SIGNATURE_PARAM_MGF1_DIGEST, nullptr, 0),
    OSSL_PARAM_utf8_string(OSSL_SIGNATURE_PARAM_MGF1_PROPERTIES, nullptr, 0),
    OSSL_PARAM_END};
const OSSL_PARAM kEd25519Settable[] = {OSSL_PARAM_END};

const OSSL_PARAM* signature_gettable_ctx_params(void* /*context*/, void* /*provctx*/) {
  return kGettable;
}

template <KeyKind Kind>
const OSSL_PARAM* signature_settable_ctx_params(void* /*context*/, void* /*provctx*/) {
  if (Kind == KeyKind::kRsa) return kRsaSettable;
  return Kind == KeyKind::kEc ? kEcSettable : kEd25519Settable;
}

// --- dispatch tables -------------------------------------------------------------------------

template <KeyKind Kind>
const OSSL_DISPATCH kHashingSignature[] = {
    {OSSL_FUNC_SIGNATURE_NEWCTX, to_dispatch(&signature_newctx<Kind>)},
    {OSSL_FUNC_SIGNATURE_FREECTX, to_dispatch(&signature_freectx)},
    {OSSL_FUNC_SIGNATURE_DUPCTX, to_dispatch(&signature_dupctx)},
    {OSSL_FUNC_SIGNATURE_SIGN_INIT, to_dispatch(&signature_sign_init)},
    {OSSL_FUNC_SIGNATURE_SIGN, to_dispatch(&signature_sign)},
    {OSSL_FUNC_SIGNATURE_DIGEST_SIGN_INIT, to_dispatch(&signature_digest_sign_init)},
    {OSSL_FUNC_SIGNATURE_DIGEST_SIGN_UPDATE, to_dispatch(&signature_digest_sign_update)},
    {OSSL_FUNC_SIGNATURE_DIGEST_SIGN_FINAL, to_dispatch(&signature_digest_sign_final)},
    {OSSL_FUNC_SIGNATURE_DIGEST_SIGN, to_dispatch(&signature_digest_sign)},
    {OSSL_FUNC_SIGNATURE_VERIFY_INIT, to_dispatch(&signature_verify_init)},
    {OSSL_FUNC_SIGNATURE_VERIFY, to_dispatch(&signature_verify)},
    {OSSL_FUNC_SIGNATURE_DIGEST_VERIFY_INIT, to_dispatch(&signature_digest_verify_init)},
    {OSSL_FUNC_SIGNATURE_DIGEST_VERIFY_UPDATE, to_dispatch(&signature_digest_verify_update)},
    {OSSL_FUNC_SIGNATURE_DIGEST_VERIFY_FINAL, to_dispatch(&signature_digest_verify_final)},
    {OSSL_FUNC_SIGNATURE_DIGEST_VERIFY, to_dispatch(&signature_digest_verify)},
    {OSSL_FUNC_SIGNATURE_SET_CTX_PARAMS, to_dispatch(&signature_set_ctx_params)},
    {OSSL_FUNC_SIGNATURE_SETTABLE_CTX_PARAMS, to_dispatch(&signature_settable_ctx_params<Kind>)},
    {OSSL_FUNC_SIGNATURE_GET_CTX_PARAMS, to_dispatch(&signature_get_ctx_params)},
    {OSSL_FUNC_SIGNATURE_GETTABLE_CTX_PARAMS, to_dispatch(&signature_gettable_ctx_params)},
    {0, nullptr}};

// PureEdDSA: one-shot only (RFC 8032 hashes the message twice; no streaming).
const OSSL_DISPATCH kEd25519Signature[] = {
    {OSSL_FUNC_SIGNATURE_NEWCTX, to_dispatch(&signature_newctx<KeyKind::kEd25519>)},
    {OSSL_FUNC_SIGNATURE_FREECTX, to_dispatch(&signature_freectx)},
    {OSSL_FUNC_SIGNATURE_DUPCTX, to_dispatch(&signature_dupctx)},
    {OSSL_FUNC_SIGNATURE_DIGEST_SIGN_INIT, to_dispatch(&signature_digest_sign_init)},
    {OSSL_FUNC_SIGNATURE_DIGEST_SIGN, to_dispatch(&signature_digest_sign)},
    {OSSL_FUNC_SIGNATURE_DIGEST_VERIFY_INIT, to_dispatch(&signature_digest_verify_init)},
    {OSSL_FUNC_SIGNATURE_DIGEST_VERIFY, to_dispatch(&signature_digest_verify)},
    {OSSL_FUNC_SIGNATURE_SET_CTX_PARAMS, to_dispatch(&signature_set_ctx_params)},
    {OSSL_FUNC_SIGNATURE_SETTABLE_CTX_PARAMS,
     to_dispatch(&signature_settable_ctx_params<KeyKind::kEd25519>)},
    {OSSL_FUNC_SIGNATURE_GET_CTX_PARAMS, to_dispatch(&signature_get_ctx_params)},
    {OSSL_FUNC_SIGNATURE_GETTABLE_CTX_PARAMS, to_dispatch(&signature_gettable_ctx_params)},
    {0, nullptr}};

}  // namespace

const OSSL_ALGORITHM* signature_algorithms() {
  // Names only this provider offers (see the keymgmt's query_operation_name).
  static const OSSL_ALGORITHM kAlgorithms[] = {
      {"SIGNET-TOKEN-ECDSA", "provider=signet-token", kHashingSignature<KeyKind::kEc>,
       "ECDSA by a token key"},
      {"SIGNET-TOKEN-RSA", "provider=signet-token", kHashingSignature<KeyKind::kRsa>,
       "RSA PKCS#1 v1.5 and PSS by a token key"},
      {"SIGNET-TOKEN-ED25519", "provider=signet-token", kEd25519Signature,
       "Ed25519 by a token key"},
      {nullptr, nullptr, nullptr, nullptr}};
  return kAlgorithms;
}

}  // namespace signet::hsm::internal
