#include "ca/records.h"

namespace signet::ca {

std::string_view to_string(CertificateStatus status) {
  switch (status) {
    case CertificateStatus::kActive:
      return "active";
    case CertificateStatus::kExpired:
      return "expired";
    case CertificateStatus::kRevoked:
      return "revoked";
  }
  return "unknown";
}

base::Result<CertificateStatus> parse_certificate_status(std::string_view text) {
  if (text == "active") return CertificateStatus::kActive;
  if (text == "expired") return CertificateStatus::kExpired;
  if (text == "revoked") return CertificateStatus::kRevoked;
  return base::Error(base::ErrorCode::kInvalidArgument,
                     "unknown certificate status '" + std::string(text) +
                         "' (expected active, expired or revoked)");
}

std::string_view to_string(CertificateSource source) {
  return source == CertificateSource::kManaged ? "managed" : "discovered";
}

std::string_view to_string(CaState state) {
  return state == CaState::kActive ? "active" : "awaiting-certificate";
}

CertificateStatus status_at(const CertificateRecord& record, base::TimePoint now) {
  if (record.revocation) return CertificateStatus::kRevoked;
  if (now >= record.not_after) return CertificateStatus::kExpired;
  return CertificateStatus::kActive;
}

}  // namespace signet::ca
