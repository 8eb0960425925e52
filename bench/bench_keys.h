// Keys the bench makes in memory: the subject keys its CSRs are signed with, and a CA key
// whose signatures cost nothing, used to measure everything an issuance does besides signing.
//
// Software keys come from the test suite's SoftwareSigner (tests/support), which the bench
// builds even with SIGNET_BUILD_TESTS=OFF. Nothing here belongs in production: the keys live
// in process memory. Thread-safe.
#pragma once

#include <map>
#include <memory>
#include <mutex>

#include "base/keys.h"
#include "base/openssl.h"

namespace signet::bench {

// A KeyProvider whose generate_key() makes a real SoftwareKey (so that a root CA's
// self-signed certificate is genuine), but whose find_key() - what the Authority uses to
// issue - returns a signer that answers every sign() with one signature made in advance.
// It has the right length and DER shape, so the certificate assembles and parses exactly as a
// real one does; it does not verify, which nothing on the issuance path checks. Issuing with
// it measures the cost of an issuance minus the CA's signature.
class CannedSignatureKeyProvider final : public base::KeyProvider {
 public:
  base::Result<std::shared_ptr<base::Signer>> generate_key(
      const base::KeyGenerationRequest& request) override;
  base::Result<std::shared_ptr<base::Signer>> find_key(const base::KeyRef& ref) override;
  base::Result<std::shared_ptr<base::Signer>> find_key_by_uri(std::string_view uri) override;
  base::Result<void> destroy_key(const base::KeyRef& ref) override;
  // Always room; the bench never wraps software keys (kNotSupported).
  base::Result<void> check_room(std::string_view token) override;
  base::Result<base::WrappedSecret> wrap_secret(std::string_view token,
                                                base::ByteView secret) override;
  base::Result<base::SecureBuffer> unwrap_secret(const base::WrappedSecret& wrapped) override;

 private:
  std::mutex mutex_;                                             // guards the two fields below
  std::map<base::Bytes, std::shared_ptr<base::Signer>> canned_;  // by CKA_ID
  unsigned next_id_ = 1;
};

}  // namespace signet::bench
