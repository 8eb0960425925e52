// OpensslBridge: token keys as OpenSSL EVP_PKEYs, for TLS and any OpenSSL API that wants one.
//
// An in-process OpenSSL 3 provider ("signet-token") whose keymgmt holds a base::Signer (a key
// on a PKCS#11 token, a smart card, or a software signer in tests) and whose signature
// operations call it. Its keymgmt answers the standard names ("EC", "RSA", "ED25519", so that
// EVP_PKEY_is_a() and libssl's choice of certificate type work) and its signature offers
// ECDSA, RSA PKCS#1 v1.5 and PSS, and EdDSA, hashing on the host and calling
// Signer::sign_digest() (Signer::sign() for Ed25519). In OpenSSL 3.0 the signature must come
// from the same provider as the key's keymgmt, so both live here.
//
// The bridge owns its own OSSL_LIB_CTX with the "default" provider and "signet-token" loaded:
// SSL_CTX_new_ex(bridge.library_context(), ...) and EVP_* calls made in that context find
// both, while the process-wide default context (which an in-process PKCS#11 module such as
// SoftHSM uses for its own cryptography) never sees the token provider and cannot recurse
// into it. Public-key operations (verify, key comparison) on a bridged key are served through
// the default provider from the Signer's SubjectPublicKeyInfo.
//
// Fetches in the context that name no provider prefer "default" ("?provider=default"). A
// bridged key's keymgmt names a signature only this provider offers ("SIGNET-TOKEN-ECDSA",
// "-RSA", "-ED25519"), so EVP never pairs a token key with another provider's signature, in
// this context or any other (X509_sign with a null library context works too). The keymgmt
// exports and imports public parts only; nothing private ever exists outside the Signer.
//
// Errors: a failed signature fails the EVP call (libssl aborts the handshake) and queues a
// provider error whose data string names the key and carries the Signer's error (read it with
// ERR_get_error_all; ERR_error_string alone omits it).
//
// Thread-safe: keys may be made and used from many threads; each EVP_PKEY keeps its Signer
// alive. The bridge must outlive every EVP_PKEY and SSL_CTX made from its context, and every
// certificate or key that was compared with a bridged key (EVP_PKEY_eq and
// X509_check_private_key cache a copy of the other public key in this provider).
#pragma once

#include <openssl/types.h>

#include <memory>

#include "base/keys.h"
#include "base/openssl.h"
#include "base/result.h"

namespace signet::hsm {

class OpensslBridge {
 public:
  static base::Result<std::unique_ptr<OpensslBridge>> create();
  ~OpensslBridge();
  OpensslBridge(const OpensslBridge&) = delete;
  OpensslBridge& operator=(const OpensslBridge&) = delete;

  // The library context that holds "default" and "signet-token".
  OSSL_LIB_CTX* library_context() const;

  // An EVP_PKEY (of library_context()) whose private operations are `signer`'s. Its public
  // half equals the signer's SubjectPublicKeyInfo, so X509_check_private_key() and
  // SSL_CTX_use_PrivateKey() accept it with the matching certificate.
  base::Result<base::EvpPkeyPtr> make_key(std::shared_ptr<const base::Signer> signer);

 private:
  struct State;
  explicit OpensslBridge(std::unique_ptr<State> state);
  std::unique_ptr<State> state_;
};

}  // namespace signet::hsm
