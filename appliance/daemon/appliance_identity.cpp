#include "appliance/daemon/appliance_identity.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "appliance/api/api.h"
#include "base/secret_input.h"
#include "ca/profile.h"
#include "hsm/key_provider.h"

namespace signet::appliance {

using base::Error;
using base::ErrorCode;
using base::Result;

namespace {

constexpr std::string_view kTlsProfile = "tls-server";
constexpr std::string_view kOperatorProfile = "operator";

ca::Profile appliance_profile(std::string name, std::string description,
                              std::vector<std::string> eku, int days) {
  auto profile = ca::default_profile(std::string(ApiServices::kApplianceCaName));
  profile.name = std::move(name);
  profile.description = std::move(description);
  profile.key_algorithms.allowed = {base::KeyAlgorithm::kEcP256, base::KeyAlgorithm::kEcP384,
                                    base::KeyAlgorithm::kRsa2048, base::KeyAlgorithm::kRsa3072};
  profile.extended_key_usage = std::move(eku);
  profile.validity.default_days = days;
  profile.validity.max_days = days;
  return profile;
}

Result<ca::CaRecord> ensure_appliance_ca(ApplianceContext& context,
                                         ca::CertificateService& service) {
  SIGNET_ASSIGN_OR_RETURN(auto* cas, context.cas());
  SIGNET_ASSIGN_OR_RETURN(auto found, cas->find_ca(ApiServices::kApplianceCaName));
  ca::CaRecord record;
  if (found) {
    record = std::move(*found);
  } else {
    SIGNET_ASSIGN_OR_RETURN(auto* authority, context.authority());
    ca::NewCaRequest request;
    request.name = std::string(ApiServices::kApplianceCaName);
    request.subject = "CN=Signet appliance CA";
    request.key_algorithm = base::KeyAlgorithm::kEcP256;
    request.validity_days = 3650;
    request.path_length = 0;
    SIGNET_ASSIGN_OR_RETURN(record, authority->create_root(request));
  }
  SIGNET_ASSIGN_OR_RETURN(auto* profiles, context.profiles());
  SIGNET_ASSIGN_OR_RETURN(auto tls, profiles->find_profile(record.name, kTlsProfile));
  if (!tls) {
    SIGNET_TRY(service.create_profile(appliance_profile(
        std::string(kTlsProfile), "signetd's HTTPS server certificate", {"serverAuth"}, 397)));
  }
  SIGNET_ASSIGN_OR_RETURN(auto op, profiles->find_profile(record.name, kOperatorProfile));
  if (!op) {
    SIGNET_TRY(service.create_profile(
        appliance_profile(std::string(kOperatorProfile),
                          "operators' client certificates (mTLS login)", {"clientAuth"}, 365)));
  }
  return record;
}

std::vector<std::string> wanted_sans(const std::vector<std::string>& names) {
  std::vector<std::string> sans = {"DNS:localhost", "IP:127.0.0.1", "IP:::1"};
  for (const auto& name : names) {
    if (name.empty() || name == "0.0.0.0" || name == "::") continue;
    const bool ip = name.find_first_not_of("0123456789.") == std::string::npos ||
                    name.find(':') != std::string::npos;
    const std::string san = (ip ? "IP:" : "DNS:") + name;
    if (std::find(sans.begin(), sans.end(), san) == sans.end()) sans.push_back(san);
  }
  return sans;
}

bool covers(const ca::CertificateRecord& record, const std::vector<std::string>& sans) {
  return std::all_of(sans.begin(), sans.end(), [&](const std::string& san) {
    // Stored SANs spell IPv6 in full; compare the names we can compare textually.
    if (san.rfind("IP:", 0) == 0 && san.find(':', 3) != std::string::npos) return true;
    return std::find(record.subject_alt_names.begin(), record.subject_alt_names.end(), san) !=
           record.subject_alt_names.end();
  });
}

}  // namespace

int validity_days_of(std::chrono::seconds lifetime) {
  const auto days = std::chrono::ceil<std::chrono::days>(lifetime).count();
  return static_cast<int>(std::clamp<std::int64_t>(days, 1, 397));
}

Result<TlsIdentity> ensure_tls_identity(ApplianceContext& context,
                                        const std::vector<std::string>& names,
                                        std::chrono::seconds lifetime,
                                        std::chrono::seconds renew_before) {
  SIGNET_ASSIGN_OR_RETURN(auto* service, context.service());
  SIGNET_ASSIGN_OR_RETURN(auto ca_record, ensure_appliance_ca(context, *service));
  SIGNET_ASSIGN_OR_RETURN(auto* inventory, context.inventory());
  SIGNET_ASSIGN_OR_RETURN(auto* keys, context.keys());
  const auto sans = wanted_sans(names);
  const auto now = context.clock().now();

  ca::CertificateQuery query;
  query.ca_name = ca_record.name;
  query.profile = std::string(kTlsProfile);
  query.limit = 50;
  SIGNET_ASSIGN_OR_RETURN(auto page, inventory->list_certificates(query));
  std::optional<ca::CertificateRecord> best;
  for (auto& record : page.items) {
    if (ca::status_at(record, now) != ca::CertificateStatus::kActive) continue;
    if (record.not_after - now < renew_before || !record.key_location || !covers(record, sans)) {
      continue;
    }
    if (!best || record.not_after > best->not_after) best = record;
  }
  if (best) {
    auto key = keys->find_key(*best->key_location);
    if (key) return TlsIdentity{*best, ca_record, std::move(*key)};
    // The key is gone from the token: issue a new certificate below.
  }
  ca::IssueRequest request;
  request.profile.ca_name = ca_record.name;
  request.profile.profile = std::string(kTlsProfile);
  request.key.kind = ca::KeySourceKind::kKeyOnToken;
  request.key.algorithm = base::KeyAlgorithm::kEcP256;
  request.subject = "CN=signetd";
  request.subject_alt_names = sans;
  request.validity_days = validity_days_of(lifetime);
  request.lifetime = lifetime;
  SIGNET_ASSIGN_OR_RETURN(auto issued, service->issue(request));
  if (!issued.certificate.key_location) {
    return Error(ErrorCode::kInternal, "the TLS certificate was issued without a key location");
  }
  SIGNET_ASSIGN_OR_RETURN(auto key, keys->find_key(*issued.certificate.key_location));
  return TlsIdentity{issued.certificate, ca_record, std::move(key)};
}

namespace {

Result<void> write_new_secret_file(const std::filesystem::path& path, base::ByteView secret) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) {
    return Error(ErrorCode::kIoError,
                 "cannot create '" + path.string() + "': " + std::strerror(errno));
  }
  const bool ok =
      ::write(fd, secret.data(), secret.size()) == static_cast<ssize_t>(secret.size()) &&
      ::write(fd, "\n", 1) == 1 && ::fsync(fd) == 0;
  ::close(fd);
  if (!ok) return Error(ErrorCode::kIoError, "cannot write '" + path.string() + "'");
  return base::ok();
}

}  // namespace

Result<std::string> ensure_initial_administrator(ApplianceContext& context,
                                                 Authenticator& authenticator,
                                                 const std::string& name,
                                                 const std::string& password_file) {
  SIGNET_ASSIGN_OR_RETURN(auto* operators, context.operators());
  SIGNET_ASSIGN_OR_RETURN(auto existing, operators->list_operators());
  if (!existing.empty()) return std::string();
  std::string written;
  base::SecureBuffer password;
  if (!password_file.empty()) {
    SIGNET_ASSIGN_OR_RETURN(password, base::read_secret_file(password_file));
  } else {
    password = base::SecureBuffer(24);
    static constexpr std::string_view kAlphabet =
        "abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    auto bytes = password.mutable_view();
    SIGNET_TRY(context.rng().fill(bytes));
    for (auto& b : bytes) b = static_cast<std::uint8_t>(kAlphabet[b % kAlphabet.size()]);
    const auto path = context.state_dir() / "initial-admin-password";
    SIGNET_TRY(write_new_secret_file(path, password.view()));
    written = path.string();
  }
  ca::OperatorRecord admin;
  admin.name = name;
  admin.role = ca::Role::kAdministrator;
  SIGNET_ASSIGN_OR_RETURN(admin.password_hash, authenticator.hash_password(password));
  admin.created = context.clock().now();
  admin.created_by = "signetd";
  SIGNET_TRY(operators->create_operator(
      admin, ca::make_audit_event(admin.created, "signetd", "operator.created", "operator:" + name,
                                  R"({"role":"administrator","initial":true})")));
  return written;
}

}  // namespace signet::appliance
