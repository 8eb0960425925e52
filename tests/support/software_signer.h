// A software Signer and KeyProvider over OpenSSL, for unit tests of every module that signs
// (pki/, ca/, crl/, protocols/). Keys live in memory; nothing here belongs in production.
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

namespace signet::test {

class SoftwareSigner final : public base::Signer {
 public:
  // A fresh key of `algorithm`; the KeyRef's token_serial is "software".
  static base::Result<std::shared_ptr<SoftwareSigner>> generate(base::KeyAlgorithm algorithm,
                                                                base::KeyRef ref = {});
  // Wraps an existing private key (PEM), e.g. one made by `openssl genpkey` in a test.
  static base::Result<std::shared_ptr<SoftwareSigner>> from_private_key_pem(std::string_view pem,
                                                                            base::KeyRef ref = {});

  const base::KeyRef& key_ref() const override { return ref_; }
  base::KeyAlgorithm algorithm() const override { return algorithm_; }
  const base::Bytes& public_key_der() const override { return spki_; }
  // Signs with the algorithm's default digest: DER ECDSA-Sig-Value, PKCS#1 v1.5, raw Ed25519.
  base::Result<base::Bytes> sign(base::ByteView message) const override;

  // The private key as unencrypted PKCS#8 PEM (for handing to openssl in tests).
  std::string private_key_pem() const;
  EVP_PKEY* native() const { return key_.get(); }

  SoftwareSigner(base::EvpPkeyPtr key, base::KeyAlgorithm algorithm, base::KeyRef ref,
                 base::Bytes spki)
      : key_(std::move(key)), algorithm_(algorithm), ref_(std::move(ref)), spki_(std::move(spki)) {}

 private:
  base::EvpPkeyPtr key_;
  base::KeyAlgorithm algorithm_;
  base::KeyRef ref_;
  base::Bytes spki_;
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

  std::size_t size() const;

 private:
  mutable std::mutex mutex_;
  std::map<base::Bytes, std::shared_ptr<SoftwareSigner>> keys_;  // guarded by mutex_, by CKA_ID
  std::uint32_t next_id_ = 1;                                    // guarded by mutex_
};

}  // namespace signet::test
