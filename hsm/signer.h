// Pkcs11Signer: a private key on a PKCS#11 token, as a base::Signer. The CA signs with it
// without knowing it is on a token.
//
// sign() hashes on the host and uses only raw mechanisms, which every token offers:
// CKM_ECDSA over the digest (the token's r || s is returned DER-encoded as ECDSA-Sig-Value),
// CKM_RSA_PKCS over DigestInfo(digest) (RFC 8017 §9.2), CKM_EDDSA over the message itself
// (PureEdDSA, RFC 8032). P-384 uses SHA-384 (base::default_digest).
//
// sign_digest() signs a digest the caller computed (TLS through hsm/openssl_provider.h):
// CKM_ECDSA, CKM_RSA_PKCS over DigestInfo(digest), or CKM_RSA_PKCS_PSS with MGF1 of the same
// digest and a salt as long as the digest (RFC 8017 §9.1, RFC 8446 §4.2.3). Ed25519 cannot.
//
// The private key's object handle is cached; it is found again by CKA_ID after a stale handle
// (CKR_OBJECT_HANDLE_INVALID, CKR_KEY_HANDLE_INVALID) or after the token's sessions died
// (re-insert). Nothing else is looked up per signature.
//
// Made by Pkcs11KeyProvider. Ownership: shares its token (and through it the module).
// Thread-safe: sign() may run on many threads at once, each on its own leased session.
#pragma once

#include <p11-kit/pkcs11.h>

#include <cstdint>
#include <memory>
#include <mutex>

#include "base/keys.h"
#include "base/openssl.h"

namespace signet::hsm {

namespace internal {
class Token;
class Session;
}  // namespace internal

class Pkcs11Signer final : public base::Signer {
 public:
  // `private_key` is the handle found by the caller (CK_INVALID_HANDLE: find it on first use).
  static base::Result<std::shared_ptr<Pkcs11Signer>> create(std::shared_ptr<internal::Token> token,
                                                            base::KeyRef ref,
                                                            base::KeyAlgorithm algorithm,
                                                            base::Bytes public_key_der,
                                                            CK_OBJECT_HANDLE private_key);

  const base::KeyRef& key_ref() const override { return ref_; }
  base::KeyAlgorithm algorithm() const override { return algorithm_; }
  const base::Bytes& public_key_der() const override { return public_key_der_; }
  base::Result<base::Bytes> sign(base::ByteView message) const override;
  base::Result<base::Bytes> sign_digest(base::ByteView digest,
                                        const base::SignatureScheme& scheme) const override;

 private:
  Pkcs11Signer(std::shared_ptr<internal::Token> token, base::KeyRef ref,
               base::KeyAlgorithm algorithm, base::Bytes public_key_der);

  // One C_SignInit + C_Sign with `mechanism` (its parameter must outlive the call), retried
  // once on a fresh handle after a stale one.
  base::Result<void> sign_raw(const CK_MECHANISM& mechanism, base::ByteView input,
                              base::Bytes& raw) const;
  // sign_raw(), then the signature as X.509 wants it: DER ECDSA-Sig-Value for CKM_ECDSA, as
  // the token gave it otherwise.
  base::Result<base::Bytes> sign_with(const CK_MECHANISM& mechanism, base::ByteView input) const;
  base::Result<CK_OBJECT_HANDLE> key_handle(internal::Session& session, bool refresh) const;
  base::Result<base::Bytes> to_der_ecdsa(base::ByteView raw) const;

  const std::shared_ptr<internal::Token> token_;
  const base::KeyRef ref_;
  const base::KeyAlgorithm algorithm_;
  const base::Bytes public_key_der_;
  CK_MECHANISM_TYPE mechanism_ = CKM_ECDSA;
  base::EvpMdPtr md_;           // null for Ed25519
  base::ByteView digest_info_;  // RSA only: the DER DigestInfo prefix
  std::size_t signature_size_ = 0;

  mutable std::mutex handle_mutex_;  // guards handle_ and handle_generation_
  mutable CK_OBJECT_HANDLE handle_ = CK_INVALID_HANDLE;
  mutable std::uint64_t handle_generation_ = 0;
};

}  // namespace signet::hsm
