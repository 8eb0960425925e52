// SoftwareKey: a private key generated and held in process memory, for the one pathway that
// needs a key file (the local software key, delivered as PKCS#12). Everywhere else keys live
// on tokens. The key's PKCS#8 form only ever leaves in a SecureBuffer, to be wrapped under a
// token key at once; the EVP_PKEY is freed (and OpenSSL clears it) with the object.
// Thread-safe: sign() only reads the key.
#pragma once

#include <memory>

#include "base/bytes.h"
#include "base/keys.h"
#include "base/openssl.h"
#include "base/result.h"
#include "base/secure_buffer.h"

namespace signet::pki {

class SoftwareKey final : public base::Signer {
 public:
  // A fresh key pair of `algorithm` from OpenSSL's CSPRNG. `ref` is informational (software
  // keys have no token); its token_serial defaults to "software".
  static base::Result<std::shared_ptr<SoftwareKey>> generate(base::KeyAlgorithm algorithm,
                                                             base::KeyRef ref = {});
  // From an unencrypted PKCS#8 PrivateKeyInfo (DER), e.g. one just unwrapped.
  static base::Result<std::shared_ptr<SoftwareKey>> from_pkcs8(base::ByteView pkcs8,
                                                               base::KeyRef ref = {});

  const base::KeyRef& key_ref() const override { return ref_; }
  base::KeyAlgorithm algorithm() const override { return algorithm_; }
  const base::Bytes& public_key_der() const override { return spki_; }
  // The algorithm's default digest: DER ECDSA-Sig-Value, PKCS#1 v1.5, raw Ed25519.
  base::Result<base::Bytes> sign(base::ByteView message) const override;
  // EVP_PKEY_sign over the caller's digest: ECDSA (DER), RSA PKCS#1 v1.5 or PSS (MGF1 with the
  // same digest, salt as long as the digest); kNotSupported for Ed25519.
  base::Result<base::Bytes> sign_digest(base::ByteView digest,
                                        const base::SignatureScheme& scheme) const override;

  // The private key as unencrypted PKCS#8 DER, in locked memory.
  base::Result<base::SecureBuffer> to_pkcs8() const;
  EVP_PKEY* native() const { return key_.get(); }

  SoftwareKey(base::EvpPkeyPtr key, base::KeyAlgorithm algorithm, base::KeyRef ref,
              base::Bytes spki)
      : key_(std::move(key)), algorithm_(algorithm), ref_(std::move(ref)), spki_(std::move(spki)) {}

 private:
  base::EvpPkeyPtr key_;
  base::KeyAlgorithm algorithm_;
  base::KeyRef ref_;
  base::Bytes spki_;
};

}  // namespace signet::pki
