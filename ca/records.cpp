#include "ca/records.h"

#include <array>
#include <charconv>
#include <utility>

namespace signet::ca {

namespace {

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    auto lower = [](char c) { return (c >= 'A' && c <= 'Z') ? char(c - 'A' + 'a') : c; };
    if (lower(a[i]) != lower(b[i])) return false;
  }
  return true;
}

constexpr std::array<std::pair<RevocationReason, std::string_view>, 8> kReasons = {{
    {RevocationReason::kUnspecified, "unspecified"},
    {RevocationReason::kKeyCompromise, "keyCompromise"},
    {RevocationReason::kCaCompromise, "cACompromise"},
    {RevocationReason::kAffiliationChanged, "affiliationChanged"},
    {RevocationReason::kSuperseded, "superseded"},
    {RevocationReason::kCessationOfOperation, "cessationOfOperation"},
    {RevocationReason::kPrivilegeWithdrawn, "privilegeWithdrawn"},
    {RevocationReason::kAaCompromise, "aACompromise"},
}};

}  // namespace

std::string_view to_string(RevocationReason reason) {
  for (const auto& [value, name] : kReasons) {
    if (value == reason) return name;
  }
  return "unknown";
}

base::Result<RevocationReason> parse_revocation_reason(std::string_view text) {
  int code = -1;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), code);
  const bool numeric = ec == std::errc() && end == text.data() + text.size();
  if (iequals(text, "certificateHold") || iequals(text, "removeFromCRL") ||
      (numeric && (code == 6 || code == 8))) {
    return base::Error(base::ErrorCode::kInvalidArgument,
                       "revocation reason '" + std::string(text) +
                           "' is not offered: Signet revocations are permanent "
                           "(certificateHold and removeFromCRL are not used)");
  }
  for (const auto& [value, name] : kReasons) {
    if (iequals(text, name) || (numeric && code == static_cast<int>(value))) return value;
  }
  std::string known;
  for (const auto& [value, name] : kReasons) {
    if (!known.empty()) known += ", ";
    known += name;
  }
  return base::Error(
      base::ErrorCode::kInvalidArgument,
      "unknown revocation reason '" + std::string(text) + "' (expected one of " + known + ")");
}

base::Result<CertificateSource> parse_certificate_source(std::string_view text) {
  if (text == "managed") return CertificateSource::kManaged;
  if (text == "discovered") return CertificateSource::kDiscovered;
  return base::Error(
      base::ErrorCode::kInvalidArgument,
      "unknown certificate source '" + std::string(text) + "' (expected managed or discovered)");
}

std::string_view to_string(CertificateSort sort) {
  switch (sort) {
    case CertificateSort::kNotAfter:
      return "notAfter";
    case CertificateSort::kNotBefore:
      return "notBefore";
    case CertificateSort::kCommonName:
      return "cn";
    case CertificateSort::kSerial:
      return "serial";
  }
  return "unknown";
}

base::Result<CertificateSort> parse_certificate_sort(std::string_view text) {
  if (iequals(text, "notAfter")) return CertificateSort::kNotAfter;
  if (iequals(text, "notBefore")) return CertificateSort::kNotBefore;
  if (iequals(text, "cn")) return CertificateSort::kCommonName;
  if (iequals(text, "serial")) return CertificateSort::kSerial;
  return base::Error(
      base::ErrorCode::kInvalidArgument,
      "unknown sort key '" + std::string(text) + "' (expected notAfter, notBefore, cn or serial)");
}

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

std::string_view to_string(OcspSigning signing) {
  return signing == OcspSigning::kCaKey ? "ca" : "delegated";
}

base::Result<OcspSigning> parse_ocsp_signing(std::string_view text) {
  if (text == "ca") return OcspSigning::kCaKey;
  if (text == "delegated") return OcspSigning::kDelegated;
  return base::Error(base::ErrorCode::kInvalidArgument,
                     "unknown OCSP signing mode '" + std::string(text) +
                         "' (expected 'ca': the CA key signs responses, or 'delegated': a "
                         "responder certificate with its own token key does)");
}

namespace {
std::string published(const CaRecord& ca, std::string_view folder, std::string_view suffix) {
  if (ca.settings.base_url.empty()) return {};
  return ca.settings.base_url + "/" + std::string(folder) + "/" + ca.name + std::string(suffix);
}
}  // namespace

std::string full_crl_url(const CaRecord& ca) { return published(ca, "crl", ".crl"); }
std::string delta_crl_url(const CaRecord& ca) { return published(ca, "crl", "-delta.crl"); }
std::string ocsp_url(const CaRecord& ca) { return published(ca, "ocsp", ""); }
std::string ca_issuers_url(const CaRecord& ca) { return published(ca, "ca", ".crt"); }

std::string_view to_string(CrlKind kind) { return kind == CrlKind::kFull ? "full" : "delta"; }

CertificateStatus status_at(const CertificateRecord& record, base::TimePoint now) {
  if (record.revocation) return CertificateStatus::kRevoked;
  if (now >= record.not_after) return CertificateStatus::kExpired;
  return CertificateStatus::kActive;
}

AuditEvent make_audit_event(base::TimePoint time, std::string actor, std::string action,
                            std::string object, std::string detail) {
  AuditEvent event;
  event.time = time;
  event.actor = std::move(actor);
  event.action = std::move(action);
  event.object = std::move(object);
  event.detail = std::move(detail);
  return event;
}

}  // namespace signet::ca
