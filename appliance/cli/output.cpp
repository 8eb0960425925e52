#include "appliance/cli/output.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <fstream>
#include <iostream>
#include <iterator>

#include "pki/certificate.h"

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
  if (r.wrapped_key) {
    j["key_storage"] = "local software key, wrapped under the token key " +
                       r.wrapped_key->kek.to_uri() + " (PFX export available)";
  } else if (r.key_location) {
    j["key_storage"] = "on token " +
                       (r.key_location->token_label.empty() ? r.key_location->token_serial
                                                            : r.key_location->token_label) +
                       " (serial " + r.key_location->token_serial + ")";
  }
  if (!r.profile.empty()) {
    j["profile"] = r.ca_name.empty() ? r.profile : r.ca_name + "/" + r.profile;
    j["profile_version"] = r.profile_version;
  }
  if (r.order_id != 0) j["order_id"] = r.order_id;
  if (r.predecessor_id != 0) j["predecessor_id"] = r.predecessor_id;
  if (r.successor_id != 0) j["successor_id"] = r.successor_id;
  if (r.revocation) {
    nlohmann::json revocation = {{"revoked_at", format_time(r.revocation->revoked_at)},
                                 {"reason_code", r.revocation->reason}};
    revocation["reason"] = std::to_string(r.revocation->reason);
    if (auto reason = ca::parse_revocation_reason(std::to_string(r.revocation->reason))) {
      revocation["reason"] = std::string(ca::to_string(*reason));
    }
    if (r.revocation->invalidity_date) {
      revocation["invalidity_date"] = format_time(*r.revocation->invalidity_date);
    }
    j["revocation"] = revocation;
    j["revocation_reason"] = revocation["reason"];
    j["revoked_at"] = revocation["revoked_at"];
    if (r.revocation->invalidity_date) j["invalidity_date"] = revocation["invalidity_date"];
  }
  return j;
}

nlohmann::json ca_json(const ca::CaRecord& r, base::TimePoint now) {
  nlohmann::json j = {
      {"name", r.name},
      {"state", std::string(ca::to_string(r.state))},
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

void print_json(const nlohmann::json& value) { std::cout << value.dump(2) << "\n"; }

void print_fields(const nlohmann::json& j,
                  const std::vector<std::pair<std::string, std::string>>& fields, std::FILE* out) {
  for (const auto& [key, label] : fields) {
    if (!j.contains(key) || j[key].is_null()) continue;
    const auto& v = j[key];
    std::string text;
    if (v.is_string()) {
      text = v.get<std::string>();
    } else if (v.is_array()) {
      for (const auto& item : v) text += (text.empty() ? "" : ", ") + item.get<std::string>();
    } else {
      text = v.dump();
    }
    if (text.empty()) continue;
    std::fprintf(out, "%-22s %s\n", (label + ":").c_str(), text.c_str());
  }
  std::fflush(out);
}

void print_certificate(const ca::CertificateRecord& record, base::TimePoint now, std::FILE* out) {
  print_certificate_json(certificate_json(record, now), out);
}

void print_certificate_json(const nlohmann::json& j, std::FILE* out) {
  print_fields(j,
               {{"common_name", "Common name"},
                {"subject", "Subject"},
                {"subject_alt_names", "SANs"},
                {"issuer", "Issuer"},
                {"ca", "CA"},
                {"serial", "Serial"},
                {"not_before", "Valid from"},
                {"not_after", "Valid to"},
                {"days_until_expiry", "Days until expiry"},
                {"status", "Status"},
                {"source", "Source"},
                {"key_algorithm", "Algorithm"},
                {"digest", "Digest"},
                {"fingerprint_sha256", "SHA-256 fingerprint"},
                {"key_location", "Key location"},
                {"key_storage", "Key storage"},
                {"profile", "Profile"},
                {"profile_version", "Profile version"},
                {"order_id", "Order"},
                {"predecessor", "Predecessor"},
                {"successor", "Successor"},
                {"revocation_reason", "Revocation reason"},
                {"revoked_at", "Revoked at"},
                {"invalidity_date", "Invalidity date"},
                {"is_ca", "CA certificate"}},
               out);
}

void print_ca(const ca::CaRecord& record, base::TimePoint now) {
  print_fields(ca_json(record, now), {{"name", "Name"},
                                      {"state", "State"},
                                      {"subject", "Subject"},
                                      {"issuer", "Issuer"},
                                      {"parent", "Parent CA"},
                                      {"serial", "Serial"},
                                      {"not_before", "Valid from"},
                                      {"not_after", "Valid to"},
                                      {"days_until_expiry", "Days until expiry"},
                                      {"key_algorithm", "Key algorithm"},
                                      {"key_uri", "Key"},
                                      {"fingerprint_sha256", "SHA-256 fingerprint"},
                                      {"path_length", "Path length"},
                                      {"default_validity_days", "Default validity"},
                                      {"base_url", "Base URL"},
                                      {"crl_url", "CRL URL"},
                                      {"ocsp_url", "OCSP URL"},
                                      {"ca_issuers_url", "CA issuers URL"},
                                      {"delta_crl_url", "Delta CRL URL"},
                                      {"crl_schedule", "CRLs"},
                                      {"delta_crls", "Delta CRLs"},
                                      {"ocsp_signing", "OCSP signing"},
                                      {"created_at", "Created"}});
}

void print_order(const ca::Order& order, base::TimePoint now, std::FILE* out) {
  auto j = order_json(order, now);
  if (j.contains("error")) j["error_text"] = j["error"]["message"];
  print_fields(j,
               {{"id", "Order"},
                {"kind", "Kind"},
                {"status", "Status"},
                {"common_name", "Common name"},
                {"profile", "Profile"},
                {"profile_version", "Profile version"},
                {"key_source", "Key source"},
                {"requested_by", "Requested by"},
                {"created_at", "Created"},
                {"completed_at", "Completed"},
                {"duration_ms", "Duration (ms)"},
                {"certificate_id", "Certificate id"},
                {"target_certificate_id", "Acted on id"},
                {"generated_key", "Generated key"},
                {"resubmitted_from", "Resubmission of"},
                {"worker", "Worker"},
                {"error_text", "Error"}},
               out);
  for (const auto& warning : order.warnings) {
    std::fprintf(out, "%-22s %s\n", "Warning:", warning.c_str());
  }
  std::fflush(out);
}

void print_table(const std::vector<std::string>& header,
                 const std::vector<std::vector<std::string>>& rows) {
  std::vector<std::size_t> widths(header.size());
  for (std::size_t i = 0; i < header.size(); ++i) widths[i] = header[i].size();
  for (const auto& row : rows) {
    for (std::size_t i = 0; i < row.size() && i < widths.size(); ++i) {
      widths[i] = std::max(widths[i], row[i].size());
    }
  }
  auto print_row = [&](const std::vector<std::string>& row) {
    std::string line;
    for (std::size_t i = 0; i < row.size(); ++i) {
      line += row[i];
      if (i + 1 < row.size()) line += std::string(widths[i] - row[i].size() + 2, ' ');
    }
    std::cout << line << "\n";
  };
  print_row(header);
  for (const auto& row : rows) print_row(row);
}

base::Result<void> write_private_output(const std::string& path, base::ByteView data) {
  if (path.empty() || path == "-") {
    return Error(ErrorCode::kInvalidArgument,
                 "a file with a private key is written to a file only (give --out FILE)");
  }
  SIGNET_TRY(write_output(path, data, 0600));
  // open() applies the mode to new files only: tighten a file that existed before.
  if (::chmod(path.c_str(), 0600) != 0) {
    return Error(ErrorCode::kIoError,
                 "cannot restrict '" + path + "' to mode 0600: " + std::strerror(errno));
  }
  return base::ok();
}

base::Result<void> write_output(const std::string& path, base::ByteView data, int mode) {
  if (path.empty() || path == "-") {
    std::cout.write(reinterpret_cast<const char*>(data.data()),
                    static_cast<std::streamsize>(data.size()));
    std::cout.flush();
    return base::ok();
  }
  int fd =
      ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, static_cast<mode_t>(mode));
  if (fd < 0) {
    return Error(ErrorCode::kIoError, "cannot write '" + path + "': " + std::strerror(errno));
  }
  std::size_t done = 0;
  while (done < data.size()) {
    ssize_t n = ::write(fd, data.data() + done, data.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      std::string why = std::strerror(errno);
      ::close(fd);
      return Error(ErrorCode::kIoError, "cannot write '" + path + "': " + why);
    }
    done += static_cast<std::size_t>(n);
  }
  if (::close(fd) != 0) {
    return Error(ErrorCode::kIoError, "cannot write '" + path + "': " + std::strerror(errno));
  }
  return base::ok();
}

base::Result<base::Bytes> read_input_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return Error(ErrorCode::kNotFound, "cannot read '" + path + "': " + std::strerror(errno));
  }
  base::Bytes data((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (data.size() > 16 * 1024 * 1024) {
    return Error(ErrorCode::kInvalidArgument, "'" + path + "' is larger than 16 MiB");
  }
  return data;
}

}  // namespace signet::appliance
