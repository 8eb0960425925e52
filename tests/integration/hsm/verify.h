// Independent checks for hsm tests: OpenSSL verifies what the token signed, from the SPKI.
#pragma once

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "base/keys.h"
#include "base/openssl.h"

namespace signet::test {

inline bool openssl_verifies(const base::Signer& signer, base::ByteView message,
                             base::ByteView signature) {
  const auto& spki = signer.public_key_der();
  const unsigned char* cursor = spki.data();
  base::EvpPkeyPtr key(d2i_PUBKEY(nullptr, &cursor, static_cast<long>(spki.size())));
  if (!key) return false;
  const EVP_MD* md = nullptr;
  switch (signer.digest()) {
    case base::DigestAlgorithm::kSha256:
      md = EVP_sha256();
      break;
    case base::DigestAlgorithm::kSha384:
      md = EVP_sha384();
      break;
    case base::DigestAlgorithm::kSha512:
      md = EVP_sha512();
      break;
    case base::DigestAlgorithm::kNone:
      md = nullptr;
      break;
  }
  base::EvpMdCtxPtr context(EVP_MD_CTX_new());
  if (EVP_DigestVerifyInit(context.get(), nullptr, md, nullptr, key.get()) != 1) return false;
  return EVP_DigestVerify(context.get(), signature.data(), signature.size(), message.data(),
                          message.size()) == 1;
}

}  // namespace signet::test
