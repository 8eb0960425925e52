// The per-CA state an issuance needs, built once and shared read-only between threads:
// the CA record, its parsed certificate, its Signer and its TBS template.
#pragma once

#include <memory>

#include "base/keys.h"
#include "base/result.h"
#include "ca/authority.h"
#include "ca/records.h"
#include "pki/certificate.h"
#include "pki/tbs_certificate.h"

namespace signet::ca {

struct Authority::IssuingCa {
  CaRecord record;
  pki::Certificate certificate;
  std::shared_ptr<base::Signer> signer;
  pki::TbsTemplate tbs_template;

  // Checks that the CA is active, its certificate parses, and the key found on the token is
  // the certificate's key.
  static base::Result<std::shared_ptr<const IssuingCa>> create(CaRecord record,
                                                               base::KeyProvider& keys);
};

// The issuer-constant fields of certificates signed by `certificate`'s key under `settings`.
pki::IssuerFields issuer_fields_for(const CaRecord& record, const pki::Certificate& certificate,
                                    const base::Signer& signer);

}  // namespace signet::ca
