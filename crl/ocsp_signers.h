// OcspSigners: which key signs a CA's OCSP responses, and the delegated responder
// certificates (RFC 6960 §4.2.2.2) that Signet issues and renews for CAs configured with
// ocsp_signing = delegated.
//
// A delegated responder has its own key pair, generated on the CA's token (sensitive, not
// extractable; label "signet-ocsp-<ca>"), and a short-lived certificate from the CA with
// keyUsage digitalSignature, extendedKeyUsage id-kp-OCSPSigning and id-pkix-ocsp-nocheck. It is
// recorded in the inventory like every certificate, and the CA record names it
// (ocsp_signer_certificate_id). It is renewed, with a new key, when less than the CA's
// ocsp_signer_renew_before_days remain; the previous key is then deleted from the token
// (its certificate stays in the inventory).
//
// Thread-safe: current() is called on every OCSP request and is answered from a cache.
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "base/bytes.h"
#include "base/clock.h"
#include "base/keys.h"
#include "base/result.h"
#include "ca/authority.h"
#include "ca/records.h"
#include "crl/crl_service.h"

namespace signet::crl {

inline constexpr const char* kOidOcspSigning = "1.3.6.1.5.5.7.3.9";

struct OcspSigningKey {
  std::shared_ptr<base::Signer> signer;
  base::Bytes responder_key_hash;  // ResponderID byKey
  base::Bytes certificate_der;     // the delegated certificate; empty when the CA key signs
  base::TimePoint not_after{};     // the signing certificate's (CA or delegated)
};

class OcspSigners {
 public:
  OcspSigners(ca::Authority& authority, CrlStores stores, base::KeyProvider& keys,
              const base::Clock& clock, std::string actor);

  // The key that signs `ca`'s responses now. With delegated signing and no usable responder
  // certificate (none yet, expired, or its key gone) one is issued first.
  base::Result<OcspSigningKey> current(const ca::CaRecord& ca);
  // Why the CA's delegated responder must be (re)issued now; nullopt when it need not be (or
  // the CA key signs).
  base::Result<std::optional<std::string>> renewal_due(const ca::CaRecord& ca);
  // Issues a new delegated responder certificate with a new key (audit: ocsp.signer_issued).
  base::Result<ca::CertificateRecord> renew(std::string_view ca_name);
  // Forgets cached keys (after the CA record changed elsewhere).
  void forget(std::string_view ca_name);

 private:
  base::Result<std::optional<ca::CertificateRecord>> delegated_record(const ca::CaRecord& ca);

  ca::Authority& authority_;
  CrlStores stores_;
  base::KeyProvider& keys_;
  const base::Clock& clock_;
  std::string actor_;

  struct Cached {
    std::string ca_key_uri;            // the CA key it was made for
    std::uint64_t certificate_id = 0;  // the delegated certificate (0: CA key)
    OcspSigningKey key;
  };
  std::mutex mutex_;
  std::map<std::string, Cached, std::less<>> cache_;
  std::mutex renew_mutex_;  // one issuance at a time
};

}  // namespace signet::crl
