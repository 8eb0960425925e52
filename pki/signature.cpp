#include "pki/signature.h"

#include <openssl/evp.h>

#include "base/openssl.h"
#include "pki/internal/spki.h"

namespace signet::pki {

namespace {

const EVP_MD* message_digest(base::DigestAlgorithm digest) {
  switch (digest) {
    case base::DigestAlgorithm::kSha256:
      return EVP_sha256();
    case base::DigestAlgorithm::kSha384:
      return EVP_sha384();
    case base::DigestAlgorithm::kSha512:
      return EVP_sha512();
    case base::DigestAlgorithm::kNone:
      break;
  }
  return nullptr;  // Ed25519 hashes inside the algorithm
}

}  // namespace

base::Result<void> verify_signature(base::ByteView spki_der, base::DigestAlgorithm digest,
                                    base::ByteView message, base::ByteView signature) {
  SIGNET_ASSIGN_OR_RETURN(auto key, internal::load_public_key(spki_der));
  base::EvpMdCtxPtr context(EVP_MD_CTX_new());
  if (!context ||
      EVP_DigestVerifyInit(context.get(), nullptr, message_digest(digest), nullptr, key.get()) !=
          1 ||
      EVP_DigestVerify(context.get(), signature.data(), signature.size(), message.data(),
                       message.size()) != 1) {
    return base::openssl_error(base::ErrorCode::kVerificationFailed,
                               "the signature does not verify with the signer's public key");
  }
  return base::ok();
}

}  // namespace signet::pki
