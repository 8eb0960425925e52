#include "appliance/cli/output.h"

#include <fcntl.h>
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
  return base::from_unix_seconds(::timegm(&tm));
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
  if (!r.profile.empty()) j["profile"] = r.profile;
  if (r.revocation) {
    j["revocation"] = {{"revoked_at", format_time(r.revocation->revoked_at)},
                       {"reason", r.revocation->reason}};
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
    j["crl_url"] = r.settings.base_url + "/crl/" + r.name + ".crl";
    j["ocsp_url"] = r.settings.base_url + "/ocsp/" + r.name;
    j["ca_issuers_url"] = r.settings.base_url + "/ca/" + r.name + ".crt";
  }
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

void print_json(const nlohmann::json& value) { std::cout << value.dump(2) << "\n"; }

namespace {

void print_fields(const nlohmann::json& j,
                  const std::vector<std::pair<std::string, std::string>>& fields) {
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
    std::printf("%-22s %s\n", (label + ":").c_str(), text.c_str());
  }
}

}  // namespace

void print_certificate(const ca::CertificateRecord& record, base::TimePoint now) {
  print_fields(certificate_json(record, now), {{"common_name", "Common name"},
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
                                               {"profile", "Profile"},
                                               {"is_ca", "CA certificate"}});
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
                                      {"created_at", "Created"}});
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

base::Result<void> write_output(const std::string& path, base::ByteView data) {
  if (path.empty() || path == "-") {
    std::cout.write(reinterpret_cast<const char*>(data.data()),
                    static_cast<std::streamsize>(data.size()));
    std::cout.flush();
    return base::ok();
  }
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
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
