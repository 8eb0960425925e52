// A software Signer and KeyProvider over OpenSSL, for unit tests of every module that signs
// (pki/, ca/, crl/, protocols/). Keys live in memory; nothing here belongs in production.
// SoftwareSigner delegates to pki::SoftwareKey, the production type for the local-key
// pathway, so tests and production sign the same way.
// Both classes are thread-safe: sign() only reads the key, and the provider's map is guarded
// by a mutex.
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>

#include "base/keys.h"
#include "base/openssl.h"
#include "base/secure_buffer.h"
#include "pki/software_key.h"

namespace signet::test {

// A thin test-facing wrapper over pki::SoftwareKey (which holds the key and signs), adding
// what tests need: keys from PEM and back to PEM.
class SoftwareSigner final : public base::Signer {
 public:
  // A fresh key of `algorithm`; the KeyRef's token_serial is "software".
  static base::Result<std::shared_ptr<SoftwareSigner>> generate(base::KeyAlgorithm algorithm,
                                                                base::KeyRef ref = {});
  // Wraps an existing private key (PEM), e.g. one made by `openssl genpkey` in a test.
  static base::Result<std::shared_ptr<SoftwareSigner>> from_private_key_pem(std::string_view pem,
                                                                            base::KeyRef ref = {});

  explicit SoftwareSigner(std::shared_ptr<pki::SoftwareKey> key) : key_(std::move(key)) {}

  const base::KeyRef& key_ref() const override { return key_->key_ref(); }
  base::KeyAlgorithm algorithm() const override { return key_->algorithm(); }
  const base::Bytes& public_key_der() const override { return key_->public_key_der(); }
  // Signs with the algorithm's default digest: DER ECDSA-Sig-Value, PKCS#1 v1.5, raw Ed25519.
  base::Result<base::Bytes> sign(base::ByteView message) const override {
    return key_->sign(message);
  }
  // EVP_PKEY_sign over a digest (pki::SoftwareKey::sign_digest).
  base::Result<base::Bytes> sign_digest(base::ByteView digest,
                                        const base::SignatureScheme& scheme) const override {
    return key_->sign_digest(digest, scheme);
  }

  // The private key as unencrypted PKCS#8 PEM (for handing to openssl in tests).
  std::string private_key_pem() const;
  EVP_PKEY* native() const { return key_->native(); }
  const std::shared_ptr<pki::SoftwareKey>& key() const { return key_; }

 private:
  std::shared_ptr<pki::SoftwareKey> key_;
};

class SoftwareKeyProvider final : public base::KeyProvider {
 public:
  base::Result<std::shared_ptr<base::Signer>> generate_key(
      const base::KeyGenerationRequest& request) override;
  base::Result<std::shared_ptr<base::Signer>> find_key(const base::KeyRef& ref) override;
  // Matches "pkcs11:" URIs by id= (percent-encoded CKA_ID) or object= (label); refuses
  // pin-value.
  base::Result<std::shared_ptr<base::Signer>> find_key_by_uri(std::string_view uri) override;
  base::Result<void> destroy_key(const base::KeyRef& ref) override;

  // Passes unless a test said set_room(false); then kResourceExhausted.
  base::Result<void> check_room(std::string_view token) override;
  // RFC 5649 (AES-256 key wrap with padding, OpenSSL's EVP_aes_256_wrap_pad) under a KEK made
  // on first use and held in memory, so that tampering is detected as on a token. The KEK's
  // KeyRef is {"software", "kek"}: a WrappedSecret naming another KEK gives kNotFound.
  base::Result<base::WrappedSecret> wrap_secret(std::string_view token,
                                                base::ByteView secret) override;
  base::Result<base::SecureBuffer> unwrap_secret(const base::WrappedSecret& wrapped) override;

  std::size_t size() const;
  // Test hooks: make check_room() fail, and forget the KEK (as if it was deleted from the token).
  void set_room(bool room);
  void forget_kek();

 private:
  base::KeyRef kek_ref() const;

  mutable std::mutex mutex_;
  std::map<base::Bytes, std::shared_ptr<SoftwareSigner>> keys_;  // guarded by mutex_, by CKA_ID
  std::uint32_t next_id_ = 1;                                    // guarded by mutex_
  bool room_ = true;                                             // guarded by mutex_
  base::SecureBuffer kek_;                                       // guarded by mutex_; empty: none
};

}  // namespace signet::test
