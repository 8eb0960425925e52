#include "appliance/core/views.h"

#include <chrono>
#include <ctime>

#include "pki/certificate.h"
#include "pki/digest.h"

namespace signet::appliance {

using base::Error;
using base::ErrorCode;

std::string format_time(base::TimePoint t) {
  const std::time_t seconds = static_cast<std::time_t>(base::to_unix_seconds(t));
  std::tm tm{};
  ::gmtime_r(&seconds, &tm);
  char buffer[32];
  std::strftime(buffer, sizeof(buffer), "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buffer;
}

base::Result<base::TimePoint> parse_time(std::string_view text) {
  std::tm tm{};
  std::string copy(text);
  const char* end = ::strptime(copy.c_str(), "%Y-%m-%dT%H:%M:%SZ", &tm);
  if (end == nullptr || *end != '\0') {
    return Error(ErrorCode::kInvalidArgument,
                 "'" + copy + "' is not an RFC 3339 UTC time (e.g. 2026-01-31T12:00:00Z)");
  }
  const std::int64_t seconds = ::timegm(&tm);
  // base::TimePoint counts nanoseconds in 64 bits: it ends in April 2262.
  constexpr std::int64_t kLimit =
      std::chrono::duration_cast<std::chrono::seconds>(base::TimePoint::duration::max()).count();
  if (seconds > kLimit || seconds < -kLimit) {
    return Error(ErrorCode::kInvalidArgument,
                 "'" + copy + "' is outside the times Signet represents (1678 to 2262)");
  }
  return base::from_unix_seconds(seconds);
}

std::string colon_hex(base::ByteView bytes) { return base::to_hex_upper(bytes, ':'); }

namespace {

long days_until(base::TimePoint when, base::TimePoint now) {
  return static_cast<long>(std::chrono::floor<std::chrono::days>(when - now).count());
}

}  // namespace

namespace {

nlohmann::json revocation_json(const ca::Revocation& revoked) {
  nlohmann::json revocation = {{"revoked_at", format_time(revoked.revoked_at)},
                               {"reason_code", revoked.reason}};
  revocation["reason"] = std::to_string(revoked.reason);
  if (auto reason = ca::parse_revocation_reason(std::to_string(revoked.reason))) {
    revocation["reason"] = std::string(ca::to_string(*reason));
  }
  if (revoked.invalidity_date)
    revocation["invalidity_date"] = format_time(*revoked.invalidity_date);
  return revocation;
}

}  // namespace

nlohmann::json certificate_json(const ca::CertificateRecord& r, base::TimePoint now) {
  nlohmann::json j = {
      {"id", r.id},
      {"serial", r.serial.to_hex()},
      {"ca", r.ca_name},
      {"subject", r.subject},
      {"common_name", r.common_name},
      {"subject_alt_names", r.subject_alt_names},
      {"issuer", r.issuer},
      {"not_before", format_time(r.not_before)},
      {"not_after", format_time(r.not_after)},
      {"days_until_expiry", days_until(r.not_after, now)},
      {"status", std::string(ca::to_string(ca::status_at(r, now)))},
      {"source", std::string(ca::to_string(r.source))},
      {"key_algorithm", r.key_algorithm},
      {"digest", r.digest},
      {"fingerprint_sha256", colon_hex(r.fingerprint_sha256)},
      {"is_ca", r.is_ca},
      {"recorded_at", format_time(r.recorded_at)},
  };
  j["key_location"] = r.key_location ? nlohmann::json(r.key_location->to_uri()) : nullptr;
  // A local software key kept wrapped by the appliance: a PKCS#12 can be exported.
  j["local_key"] = r.wrapped_key.has_value();
  if (r.wrapped_key) {
    j["key_storage"] = "local software key, wrapped under the token key " +
                       r.wrapped_key->kek.to_uri() + " (PFX export available)";
  } else if (r.key_location) {
    j["key_storage"] = "on token " +
                       (r.key_location->token_label.empty() ? r.key_location->token_serial
                                                            : r.key_location->token_label) +
                       " (serial " + r.key_location->token_serial + ")";
    // A smart card: the reader it was enrolled in (cards move between readers).
    if (!r.key_location->reader.empty()) {
      j["key_reader"] = r.key_location->reader;
      j["key_storage"] = j["key_storage"].get<std::string>() +
                         ", a smart card enrolled in reader '" + r.key_location->reader + "'";
    }
  }
  if (!r.profile.empty()) {
    j["profile"] = r.ca_name.empty() ? r.profile : r.ca_name + "/" + r.profile;
    j["profile_version"] = r.profile_version;
  }
  if (r.order_id != 0) j["order_id"] = r.order_id;
  if (r.predecessor_id != 0) j["predecessor_id"] = r.predecessor_id;
  if (r.successor_id != 0) j["successor_id"] = r.successor_id;
  if (r.revocation) {
    const auto revocation = revocation_json(*r.revocation);
    j["revocation"] = revocation;
    j["revocation_reason"] = revocation["reason"];
    j["revoked_at"] = revocation["revoked_at"];
    if (r.revocation->invalidity_date) j["invalidity_date"] = revocation["invalidity_date"];
  }
  return j;
}

base::Result<std::optional<ca::CertificateRecord>> ca_own_certificate(ca::Inventory& inventory,
                                                                      const ca::CaRecord& record) {
  if (record.certificate_der.empty()) return std::optional<ca::CertificateRecord>();
  return inventory.find_certificate_by_fingerprint(pki::sha256(record.certificate_der));
}

nlohmann::json ca_json(const ca::CaRecord& r, base::TimePoint now,
                       const ca::CertificateRecord* own_certificate) {
  const bool revoked = own_certificate != nullptr && own_certificate->revocation.has_value();
  nlohmann::json j = {
      {"name", r.name},
      {"state", revoked ? std::string("revoked") : std::string(ca::to_string(r.state))},
      {"subject", r.subject},
      {"parent", r.parent.empty() ? nlohmann::json(nullptr) : nlohmann::json(r.parent)},
      {"external_parent", r.external_parent},
      {"key_algorithm", std::string(base::to_string(r.key_algorithm))},
      {"key_uri", r.key.to_uri()},
      {"token_serial", r.key.token_serial},
      {"created_at", format_time(r.created_at)},
      {"default_validity_days", r.settings.default_validity_days},
      {"base_url", r.settings.base_url},
      {"previous_certificates", r.previous_certificates_der.size()},
  };
  if (!r.settings.base_url.empty()) {
    j["crl_url"] = ca::full_crl_url(r);
    if (r.settings.delta_crls) j["delta_crl_url"] = ca::delta_crl_url(r);
    j["ocsp_url"] = ca::ocsp_url(r);
    j["ca_issuers_url"] = ca::ca_issuers_url(r);
  }
  const auto& s = r.settings;
  j["revocation"] = {{"crl_validity_hours", s.crl_validity_hours},
                     {"crl_overlap_minutes", s.crl_overlap_minutes},
                     {"crl_on_revocation", s.crl_on_revocation},
                     {"delta_crls", s.delta_crls},
                     {"delta_crl_validity_minutes", s.delta_crl_validity_minutes},
                     {"crl_expired_grace_days", s.crl_expired_grace_days},
                     {"crl_history", s.crl_history},
                     {"ocsp_signing", std::string(ca::to_string(s.ocsp_signing))},
                     {"ocsp_validity_minutes", s.ocsp_validity_minutes},
                     {"ocsp_signer_validity_days", s.ocsp_signer_validity_days},
                     {"ocsp_signer_renew_before_days", s.ocsp_signer_renew_before_days},
                     {"ocsp_signer_certificate_id", r.ocsp_signer_certificate_id}};
  // One line each for people.
  j["crl_schedule"] =
      std::to_string(s.crl_validity_hours) + " h, regenerated " +
      std::to_string(s.crl_overlap_minutes) + " min before nextUpdate" +
      (s.crl_on_revocation ? " and on revocation" : "") +
      (s.crl_expired_grace_days >= 0
           ? "; expired entries kept " + std::to_string(s.crl_expired_grace_days) + " days"
           : "; expired entries kept");
  j["delta_crls"] =
      s.delta_crls ? "every " + std::to_string(s.delta_crl_validity_minutes) + " min" : "off";
  j["ocsp_signing"] = std::string(ca::to_string(s.ocsp_signing)) + ", responses valid " +
                      std::to_string(s.ocsp_validity_minutes) + " min";
  if (auto cert = pki::Certificate::from_der(r.certificate_der)) {
    j["serial"] = cert->serial().to_hex();
    j["issuer"] = cert->issuer();
    j["not_before"] = format_time(cert->not_before());
    j["not_after"] = format_time(cert->not_after());
    j["days_until_expiry"] = days_until(cert->not_after(), now);
    j["fingerprint_sha256"] = colon_hex(cert->sha256_fingerprint());
    j["path_length"] = cert->path_length() ? nlohmann::json(*cert->path_length()) : nullptr;
  }
  if (revoked) {
    const auto revocation = revocation_json(*own_certificate->revocation);
    j["certificate_revocation"] = revocation;
    j["revocation_reason"] = revocation["reason"];  // flat, as for certificates
    j["revoked_at"] = revocation["revoked_at"];
  }
  return j;
}

nlohmann::json order_json(const ca::Order& o, base::TimePoint now) {
  nlohmann::json j = {
      {"id", o.id},
      {"kind", std::string(ca::to_string(o.kind))},
      {"status", std::string(ca::to_string(o.status))},
      {"common_name", o.common_name},
      {"ca", o.ca_name},
      {"profile", o.profile.empty() ? o.profile : o.ca_name + "/" + o.profile},
      {"profile_version", o.profile_version},
      {"key_source", std::string(ca::to_string(o.key_source))},
      {"requested_by", o.requested_by},
      {"created_at", format_time(o.created_at)},
      {"updated_at", format_time(o.updated_at)},
      {"duration_ms", o.duration_ms(now)},
      {"warnings", o.warnings},
      {"worker", o.worker},
  };
  j["completed_at"] = o.completed_at ? nlohmann::json(format_time(*o.completed_at)) : nullptr;
  j["certificate_id"] = o.certificate_id != 0 ? nlohmann::json(o.certificate_id) : nullptr;
  j["target_certificate_id"] =
      o.target_certificate_id != 0 ? nlohmann::json(o.target_certificate_id) : nullptr;
  if (!o.error_code.empty() || !o.error_message.empty()) {
    j["error"] = {{"code", o.error_code}, {"message", o.error_message}};
    j["error_message"] = o.error_message;
  }
  if (o.generated_key) j["generated_key"] = o.generated_key->to_uri();
  if (o.resubmitted_from != 0) j["resubmitted_from"] = o.resubmitted_from;
  // The original request (never a secret), as kept for resubmission.
  if (!o.parameters.empty()) {
    j["parameters"] = nlohmann::json::parse(o.parameters, nullptr, false);
    if (j["parameters"].is_discarded()) j["parameters"] = o.parameters;
  }
  return j;
}

nlohmann::json alert_json(const ca::Alert& a) {
  nlohmann::json j = {{"id", a.id},           {"raised_at", format_time(a.raised_at)},
                      {"kind", a.kind},       {"object", a.object},
                      {"message", a.message}, {"acknowledged", a.acknowledged}};
  if (a.acknowledged_at) j["acknowledged_at"] = format_time(*a.acknowledged_at);
  if (!a.acknowledged_by.empty()) j["acknowledged_by"] = a.acknowledged_by;
  return j;
}

}  // namespace signet::appliance
