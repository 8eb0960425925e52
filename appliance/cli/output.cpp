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
                {"key_reader", "Card reader"},
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
  print_ca_json(ca_json(record, now));
}

void print_ca_json(const nlohmann::json& ca) {
  print_fields(ca, {{"name", "Name"},
                    {"state", "State"},
                    {"revoked_at", "Revoked at"},
                    {"revocation_reason", "Revocation reason"},
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
  print_order_json(order_json(order, now), out);
}

void print_order_json(const nlohmann::json& order, std::FILE* out) {
  auto j = order;
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
  for (const auto& warning : j.value("warnings", nlohmann::json::array())) {
    if (warning.is_string()) {
      std::fprintf(out, "%-22s %s\n", "Warning:", warning.get<std::string>().c_str());
    }
  }
  std::fflush(out);
}

void print_crl_json(const nlohmann::json& crl) {
  print_fields(crl, {{"ca", "CA"},
                     {"number", "CRL number"},
                     {"kind", "Kind"},
                     {"base_number", "Delta of CRL"},
                     {"this_update", "This update"},
                     {"next_update", "Next update"},
                     {"entries", "Entries"},
                     {"size", "Size (bytes)"},
                     {"signature_algorithm", "Signature"},
                     {"issuer", "Issuer"},
                     {"freshest_crl_url", "Freshest CRL"}});
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

base::Result<void> show_audit_key_rotation(bool json, const nlohmann::json& rotation,
                                           const std::string& retired_out) {
  const auto text = [&](const char* key) { return rotation.value(key, std::string()); };
  if (!retired_out.empty()) {
    SIGNET_TRY(write_output(retired_out, base::as_bytes(text("retired_public_key_pem"))));
  }
  if (json) {
    print_json(rotation);
    return base::ok();
  }
  std::cout << "Retired the audit key as '" << text("retired_label") << "' (" << text("retired")
            << ") and generated " << text("key") << ", which signed a checkpoint at sequence "
            << rotation.value("checkpoint_sequence", std::uint64_t{0})
            << ".\nOffline verification now needs both public keys: --pubkey NEW --pubkey OLD.\n";
  return base::ok();
}

}  // namespace signet::appliance
