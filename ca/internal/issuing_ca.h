// The per-CA state an issuance needs, built once and shared read-only between threads:
// the CA record, its parsed certificate, its Signer and its TBS template.
#pragma once

#include <atomic>
#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "base/keys.h"
#include "base/result.h"
#include "ca/authority.h"
#include "ca/records.h"
#include "pki/certificate.h"
#include "pki/tbs_certificate.h"

namespace signet::ca {

// Clients' clocks lag: backdating notBefore keeps a fresh certificate from being "not yet
// valid" on them (step-ca does the same).
inline constexpr auto kBackdate = std::chrono::seconds(60);
// The longest validity anyone may ask for, CA or end entity (100 years).
inline constexpr int kMaxValidityDays = 36500;
// The shortest lifetime EndEntityPlan::lifetime may ask for.
inline constexpr auto kMinLifetime = std::chrono::seconds(60);
// CA certificates when the operator names no validity.
inline constexpr int kDefaultRootValidityDays = 3650;
inline constexpr int kDefaultIntermediateValidityDays = 1825;
// How far a chain is followed up to its root before it is called circular.
inline constexpr int kMaxChainDepth = 16;

struct Authority::IssuingCa {
  IssuingCa(CaRecord record, pki::Certificate certificate, std::shared_ptr<base::Signer> signer,
            pki::TbsTemplate tbs_template, std::vector<base::Bytes> chain_der)
      : record(std::move(record)),
        certificate(std::move(certificate)),
        signer(std::move(signer)),
        tbs_template(std::move(tbs_template)),
        chain_der(std::move(chain_der)),
        subject_text(this->certificate.subject()),
        digest_name(base::to_string(this->signer->digest())) {}

  CaRecord record;
  pki::Certificate certificate;
  std::shared_ptr<base::Signer> signer;
  pki::TbsTemplate tbs_template;
  // This CA's certificate followed by its issuers (each checked to have signed the one below
  // it when the context was built): the chain handed out with what this context signs.
  std::vector<base::Bytes> chain_der;
  std::string subject_text;  // the issuer field of what this CA signs, RFC 2253
  std::string digest_name;   // "sha256"...
  // Set once the first certificate this context signed was parsed by OpenSSL and its
  // signature verified with the CA certificate's key (see Authority::sign_end_entity).
  mutable std::atomic<bool> first_certificate_checked{false};

  // Checks that the CA is active, its certificate parses, and the key found on the token is
  // the certificate's key.
  static base::Result<std::shared_ptr<const IssuingCa>> create(CaRecord record,
                                                               base::KeyProvider& keys,
                                                               std::vector<base::Bytes> chain_der);
};

// The issuer-constant fields of certificates signed by `certificate`'s key under `settings`.
pki::IssuerFields issuer_fields_for(const CaRecord& record, const pki::Certificate& certificate,
                                    const base::Signer& signer);

}  // namespace signet::ca
