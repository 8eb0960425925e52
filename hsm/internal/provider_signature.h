// The state of one "signet-token" signature operation and the pieces of it that are plain
// C++ (parsing the EVP parameters, choosing the scheme), kept apart from the OpenSSL
// dispatch functions in provider_signature.cpp. One context belongs to one EVP_PKEY_CTX and
// is used by one thread at a time (OpenSSL's rule for operation contexts).
#pragma once

#include <openssl/core.h>

#include <memory>

#include "base/keys.h"
#include "base/openssl.h"
#include "hsm/internal/provider_context.h"

namespace signet::hsm::internal {

enum class Operation { kNone, kSign, kDigestSign, kVerify, kDigestVerify };

// PSS_SALTLEN as asked: the digest's length, or an explicit number of bytes.
inline constexpr int kSaltAsDigest = -1;

struct SignatureContext {
  ProviderContext* provider = nullptr;
  KeyKind kind = KeyKind::kEc;
  Operation operation = Operation::kNone;
  std::shared_ptr<const base::Signer> signer;  // sign operations
  base::EvpPkeyPtr public_key;                 // shared with the key (up-referenced)

  base::DigestAlgorithm digest = base::DigestAlgorithm::kNone;  // kNone: not chosen yet
  bool digest_fixed = false;  // digest-sign: the hash is running, the digest cannot change
  base::EvpMdCtxPtr hash;     // digest-sign: the running hash
  base::RsaPadding padding = base::RsaPadding::kPkcs1v15;
  int salt_length = kSaltAsDigest;
  base::DigestAlgorithm mgf1 = base::DigestAlgorithm::kNone;  // kNone: the signature's digest

  // Verification is the default provider's, on the public key.
  base::EvpMdCtxPtr verifier;        // digest-verify
  base::EvpPkeyCtxPtr raw_verifier;  // verify
  EVP_PKEY_CTX* delegate() const;    // the default provider's context, if verifying
};

// Applies DIGEST, PAD_MODE, PSS_SALTLEN and MGF1_DIGEST (sign operations); raises and returns
// false on a value this provider cannot honour.
bool apply_sign_params(SignatureContext& context, const OSSL_PARAM params[]);

// The scheme a signature over a digest of `digest_length` bytes uses now; raises and returns
// nullopt when the settings do not make one (no digest for RSA, a PSS salt other than the
// digest's length, an MGF1 digest other than the signature's).
std::optional<base::SignatureScheme> scheme_for(const SignatureContext& context,
                                                std::size_t digest_length);

// OSSL_SIGNATURE_PARAM_ALGORITHM_ID (and what else `params` asks that the default provider
// knows) for the current settings, from a default-provider verification context over the
// public key: the AlgorithmIdentifier is a public fact of the scheme.
bool describe_algorithm(const SignatureContext& context, OSSL_PARAM params[]);

}  // namespace signet::hsm::internal
