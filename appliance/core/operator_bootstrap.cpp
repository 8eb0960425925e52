#include "appliance/core/operator_bootstrap.h"

#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "base/secret_input.h"
#include "pki/certificate.h"

namespace signet::appliance {
namespace {

using base::Error;
using base::ErrorCode;
using base::Result;
using nlohmann::json;

Result<base::Bytes> certificate_fingerprint(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Error(ErrorCode::kNotFound, "the file '" + path + "' cannot be read");
  std::stringstream text;
  text << in.rdbuf();
  auto certificate = pki::Certificate::from_pem(text.str());
  if (!certificate) {
    return std::move(certificate).error().with_context("reading the certificate '" + path + "'");
  }
  return certificate->sha256_fingerprint();
}

// The record a declaration makes (without its password).
Result<ca::OperatorRecord> declared_record(const firmware_config::OperatorAccount& account) {
  ca::OperatorRecord op;
  op.name = account.name;
  SIGNET_TRY(ca::validate_operator_name(op.name));
  SIGNET_ASSIGN_OR_RETURN(op.role, ca::parse_role(account.role));
  op.disabled = account.disabled;
  if (!account.certificate_file.empty()) {
    SIGNET_ASSIGN_OR_RETURN(op.certificate_fingerprint,
                            certificate_fingerprint(account.certificate_file));
  }
  return op;
}

// "role (file auditor, stored ra-officer); disabled (file false, stored true)"
std::string differences(const ca::OperatorRecord& file, const ca::OperatorRecord& stored) {
  std::vector<std::string> parts;
  if (file.role != stored.role) {
    parts.push_back("role (file " + std::string(ca::to_string(file.role)) + ", stored " +
                    std::string(ca::to_string(stored.role)) + ")");
  }
  if (file.disabled != stored.disabled) {
    parts.push_back(std::string("disabled (file ") + (file.disabled ? "true" : "false") +
                    ", stored " + (stored.disabled ? "true" : "false") + ")");
  }
  if (file.certificate_fingerprint != stored.certificate_fingerprint) {
    const auto show = [](const base::Bytes& f) {
      return f.empty() ? std::string("none") : base::to_hex(f);
    };
    parts.push_back("certificate (file " + show(file.certificate_fingerprint) + ", stored " +
                    show(stored.certificate_fingerprint) + ")");
  }
  std::string out;
  for (const auto& part : parts) out += (out.empty() ? "" : "; ") + part;
  return out;
}

Result<void> create(const firmware_config::OperatorAccount& account, ca::OperatorRecord op,
                    ca::OperatorDirectory& operators, const PasswordHasher& hash_password,
                    base::TimePoint now, const std::string& actor) {
  if (!account.password_file.empty()) {
    SIGNET_ASSIGN_OR_RETURN(auto password, base::read_secret_file(account.password_file));
    SIGNET_ASSIGN_OR_RETURN(op.password_hash, hash_password(password));
  }
  op.created = now;
  op.created_by = actor;
  json detail = {{"role", std::string(ca::to_string(op.role))},
                 {"disabled", op.disabled},
                 {"password", !op.password_hash.empty()},
                 {"declared", true}};
  if (!op.certificate_fingerprint.empty()) {
    detail["certificate_fingerprint_sha256"] = base::to_hex(op.certificate_fingerprint);
  }
  return operators.create_operator(op, ca::make_audit_event(now, actor, "operator.created",
                                                            "operator:" + op.name, detail.dump()));
}

}  // namespace

Result<void> check_certificate_file(const std::string& path) {
  SIGNET_TRY(certificate_fingerprint(path));
  return base::ok();
}

std::vector<std::string> OperatorBootstrapReport::lines() const {
  std::vector<std::string> out;
  for (const auto& line : created) out.push_back("created operator " + line);
  for (const auto& line : drifted) out.push_back("drift: operator " + line);
  for (const auto& line : failed) out.push_back("could not create operator " + line);
  return out;
}

OperatorBootstrapReport bootstrap_operators(
    const std::vector<firmware_config::OperatorAccount>& declared, ca::OperatorDirectory& operators,
    ca::AuditSink& audit, const PasswordHasher& hash_password, base::TimePoint now,
    const std::string& actor) {
  OperatorBootstrapReport report;
  for (const auto& account : declared) {
    auto op = declared_record(account);
    if (!op) {
      report.failed.push_back(account.name + ": " + op.error().describe());
      continue;
    }
    auto stored = operators.find_operator(account.name);
    if (!stored) {
      report.failed.push_back(account.name + ": " + stored.error().describe());
    } else if (!*stored) {
      auto created = create(account, *op, operators, hash_password, now, actor);
      if (created) {
        report.created.push_back(account.name + " (" + account.role + ")");
      } else {
        report.failed.push_back(account.name + ": " + created.error().describe());
      }
    } else if (auto diff = differences(*op, **stored); !diff.empty()) {
      report.drifted.push_back(account.name +
                               " differs from the file, which does not overwrite it: " + diff);
      const json detail = {{"operator", account.name}, {"differences", diff}};
      auto audited = audit.append_audit(ca::make_audit_event(
          now, actor, "config.operator_drift", "operator:" + account.name, detail.dump()));
      if (!audited) {
        report.failed.push_back(account.name +
                                ": its drift was not audited: " + audited.error().message());
      }
    }
  }
  return report;
}

}  // namespace signet::appliance
