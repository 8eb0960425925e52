#include "ca/certificate_record.h"

namespace signet::ca {

CertificateRecord describe_certificate(const pki::Certificate& certificate,
                                       base::TimePoint recorded_at) {
  CertificateRecord record;
  record.serial = certificate.serial();
  record.fingerprint_sha256 = certificate.sha256_fingerprint();
  record.der = certificate.der();
  record.subject = certificate.subject();
  record.common_name = certificate.common_name();
  for (const auto& name : certificate.subject_alt_names()) {
    record.subject_alt_names.push_back(name.to_string());
  }
  record.issuer = certificate.issuer();
  record.not_before = certificate.not_before();
  record.not_after = certificate.not_after();
  record.recorded_at = recorded_at;
  record.key_algorithm = certificate.public_key().name;
  record.digest = certificate.signature_digest();
  record.is_ca = certificate.is_ca();
  return record;
}

}  // namespace signet::ca
