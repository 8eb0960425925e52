// signet cert issue | renew | rekey | reissue | revoke | import: every one through an RA
// profile and an order (ca::CertificateService).
#include <filesystem>
#include <iostream>
#include <memory>

#include "appliance/cli/cert_support.h"
#include "appliance/cli/commands.h"
#include "appliance/cli/output.h"

namespace signet::appliance {
namespace {

using base::Error;
using base::ErrorCode;
using base::Result;

constexpr const char* kIdHelp = "serial number or SHA-256 fingerprint (hex)";

void add_days_option(CLI::App* cmd, std::optional<int>& days) {
  cmd->add_option("--days,--validity-days", days,
                  "validity in days (default: the profile's; capped at the CA's notAfter)");
}

void add_result_options(CLI::App* cmd, ResultOutput& out) {
  cmd->add_option("--out", out.out,
                  "write the certificate (PEM) here; without it the PEM goes to stdout (except "
                  "with --local-key) and the summary to stderr");
  cmd->add_flag("--chain", out.chain, "append the issuing CA chain to the PEM");
}

struct IssueOptions {
  KeySourceOptions key;
  std::string profile, ca, subject;
  std::vector<std::string> sans;
  std::optional<int> days;
  ResultOutput output;
};

Result<void> issue(ApplianceContext& ctx, const IssueOptions& o) {
  const bool has_subject = !o.subject.empty() || !o.sans.empty();
  SIGNET_ASSIGN_OR_RETURN(auto source, to_key_source(o.key, has_subject));
  if (source.kind != ca::KeySourceKind::kCsr && !has_subject) {
    return Error(ErrorCode::kInvalidArgument,
                 "give --subject DN and/or --san with --key-uri, --key-on-token and --local-key");
  }
  if (o.profile.empty() && o.ca.empty()) {
    return Error(ErrorCode::kInvalidArgument,
                 "give --profile P (or --ca N for the CA's default profile)");
  }
  SIGNET_ASSIGN_OR_RETURN(auto pfx_profile, pfx_profile_of(o.key));
  SIGNET_ASSIGN_OR_RETURN(auto* service, ctx.service());
  ca::IssueRequest request;
  request.profile = {o.profile, o.ca};
  request.key = std::move(source);
  request.subject = o.subject;
  request.subject_alt_names = o.sans;
  request.validity_days = o.days;
  request.pfx_profile = pfx_profile;
  SIGNET_ASSIGN_OR_RETURN(auto result, service->issue(request));
  auto output = o.output;
  output.pfx_out = o.key.pfx_out;
  output.password_out = o.key.password_out;
  return show_order_result(ctx, result, output, "Issued");
}

void register_issue(CLI::App* cert, Action& selected) {
  auto o = std::make_shared<IssueOptions>();
  auto* cmd = cert->add_subcommand(
      "issue",
      "issue a certificate through an RA profile (--profile, or --ca for its default profile) "
      "from one key source: --csr | --key-uri | --key-on-token | --local-key");
  cmd->add_option("--profile", o->profile, "RA profile: NAME or CA/NAME");
  cmd->add_option("--ca", o->ca, "the issuing CA (alone: its 'default' profile)");
  add_key_source_options(cmd, o->key);
  cmd->add_option("--subject", o->subject,
                  "subject DN (not with --csr): 'CN=host,O=Example' or '/O=Example/CN=host'");
  cmd->add_option("--san", o->sans,
                  "subject alternative name, repeatable: DNS:name, IP:addr, email:addr, URI:uri")
      ->allow_extra_args(false);
  add_days_option(cmd, o->days);
  add_result_options(cmd, o->output);
  cmd->callback([&selected, o] { selected = [o](ApplianceContext& ctx) { return issue(ctx, *o); }; });
}

struct RenewOptions {
  std::string id, ca, csr;
  std::optional<int> days;
  ResultOutput output;
};

void register_renew(CLI::App* cert, Action& selected) {
  auto o = std::make_shared<RenewOptions>();
  auto* cmd = cert->add_subcommand(
      "renew",
      "a new certificate with the same subject, SANs, profile and key (or the key of --csr) "
      "and a new validity period, under the profile's current rules");
  cmd->add_option("id", o->id, kIdHelp)->required();
  cmd->add_option("--ca", o->ca, "the issuing CA, when a serial is used by several");
  cmd->add_option("--csr", o->csr, "a new key after all: this PKCS#10 request (PEM or DER)");
  add_days_option(cmd, o->days);
  add_result_options(cmd, o->output);
  cmd->callback([&selected, o] {
    selected = [o](ApplianceContext& ctx) -> Result<void> {
      SIGNET_ASSIGN_OR_RETURN(auto record, find_certificate(ctx, o->id, o->ca));
      ca::RenewRequest request;
      request.certificate_id = record.id;
      request.validity_days = o->days;
      if (!o->csr.empty()) {
        SIGNET_ASSIGN_OR_RETURN(request.csr, read_input_file(o->csr));
      }
      SIGNET_ASSIGN_OR_RETURN(auto* service, ctx.service());
      SIGNET_ASSIGN_OR_RETURN(auto result, service->renew(request));
      return show_order_result(ctx, result, o->output, "Renewed");
    };
  });
}

struct RekeyOptions {
  std::string id, ca;
  KeySourceOptions key;
  bool revoke_previous = false;
  std::optional<int> days;
  ResultOutput output;
};

void register_rekey(CLI::App* cert, Action& selected, const std::string& name, bool as_reissue) {
  auto o = std::make_shared<RekeyOptions>();
  auto* cmd = cert->add_subcommand(
      name, as_reissue ? "reissue a certificate with a different key (the same as 'cert rekey', "
                         "under the name public CAs use)"
                       : "a new certificate for the same subject data with a different key "
                         "(lost or compromised key, new algorithm or size)");
  cmd->add_option("id", o->id, kIdHelp)->required();
  cmd->add_option("--ca", o->ca, "the issuing CA, when a serial is used by several");
  add_key_source_options(cmd, o->key);
  cmd->add_flag("--revoke-previous", o->revoke_previous,
                "revoke the previous certificate (reason superseded) in the same commit");
  add_days_option(cmd, o->days);
  add_result_options(cmd, o->output);
  cmd->callback([&selected, o, as_reissue] {
    selected = [o, as_reissue](ApplianceContext& ctx) -> Result<void> {
      SIGNET_ASSIGN_OR_RETURN(auto source, to_key_source(o->key, false));
      SIGNET_ASSIGN_OR_RETURN(auto pfx_profile, pfx_profile_of(o->key));
      SIGNET_ASSIGN_OR_RETURN(auto record, find_certificate(ctx, o->id, o->ca));
      ca::RekeyRequest request;
      request.certificate_id = record.id;
      request.key = std::move(source);
      request.revoke_previous = o->revoke_previous;
      request.as_reissue = as_reissue;
      request.validity_days = o->days;
      request.pfx_profile = pfx_profile;
      SIGNET_ASSIGN_OR_RETURN(auto* service, ctx.service());
      SIGNET_ASSIGN_OR_RETURN(auto result, service->rekey(request));
      if (o->revoke_previous) refresh_after_revocation(ctx, record.ca_name);
      auto output = o->output;
      output.pfx_out = o->key.pfx_out;
      output.password_out = o->key.password_out;
      return show_order_result(ctx, result, output, as_reissue ? "Reissued" : "Rekeyed");
    };
  });
}

struct RevokeOptions {
  std::string id, ca;
  RevocationOptions revocation;
};

void register_revoke(CLI::App* cert, Action& selected) {
  auto o = std::make_shared<RevokeOptions>();
  auto* cmd = cert->add_subcommand(
      "revoke", "revoke a certificate, permanently (RFC 5280 reasons; no certificateHold)");
  cmd->add_option("id", o->id, kIdHelp)->required();
  cmd->add_option("--ca", o->ca, "the issuing CA, when a serial is used by several");
  add_revocation_options(cmd, o->revocation);
  cmd->callback([&selected, o] {
    selected = [o](ApplianceContext& ctx) -> Result<void> {
      SIGNET_ASSIGN_OR_RETURN(auto request, to_revoke_request(o->revocation));
      SIGNET_ASSIGN_OR_RETURN(auto record, find_certificate(ctx, o->id, o->ca));
      request.certificate_id = record.id;
      SIGNET_ASSIGN_OR_RETURN(auto* service, ctx.service());
      SIGNET_ASSIGN_OR_RETURN(auto result, service->revoke(request));
      refresh_after_revocation(ctx, result.certificate.ca_name);
      const auto now = ctx.clock().now();
      if (ctx.json()) {
        auto j = certificate_json(result.certificate, now);
        j["order"] = order_json(result.order, now);
        j["order_id"] = result.order.id;
        print_json(j);
        return base::ok();
      }
      std::cout << "Revoked certificate " << result.certificate.serial.to_hex() << " of '"
                << result.certificate.subject << "' (order " << result.order.id << ").\n";
      print_certificate(result.certificate, now);
      return base::ok();
    };
  });
}

// The regular files of a directory (not recursive), by name; or the one file named.
Result<std::vector<std::filesystem::path>> import_inputs(const std::filesystem::path& path) {
  std::error_code error;
  if (!std::filesystem::is_directory(path, error)) return std::vector{path};
  std::vector<std::filesystem::path> files;
  for (const auto& entry : std::filesystem::directory_iterator(path, error)) {
    if (entry.is_regular_file()) files.push_back(entry.path());
  }
  if (error) {
    return Error(ErrorCode::kIoError,
                 "cannot read the directory '" + path.string() + "': " + error.message());
  }
  std::sort(files.begin(), files.end());
  return files;
}

void register_import(CLI::App* cert, Action& selected) {
  auto path = std::make_shared<std::string>();
  auto* cmd = cert->add_subcommand(
      "import",
      "record existing certificates as 'discovered': a PEM (bundles too) or DER file, or every "
      "file of a directory; known certificates (same SHA-256 fingerprint) are skipped");
  cmd->add_option("path", *path, "a file or a directory")->required();
  cmd->callback([&selected, path] {
    selected = [path](ApplianceContext& ctx) -> Result<void> {
      SIGNET_ASSIGN_OR_RETURN(auto files, import_inputs(*path));
      SIGNET_ASSIGN_OR_RETURN(auto* service, ctx.service());
      ca::ImportReport total;
      for (const auto& file : files) {
        auto data = read_input_file(file.string());
        if (!data) {
          total.errors.push_back(file.string() + ": " + data.error().message());
          continue;
        }
        auto report = service->import_certificates(*data, file.string());
        if (!report) {
          total.errors.push_back(file.string() + ": " + report.error().describe());
          continue;
        }
        for (auto& record : report->imported) total.imported.push_back(std::move(record));
        total.duplicates += report->duplicates;
        for (auto& e : report->errors) total.errors.push_back(std::move(e));
      }
      const auto now = ctx.clock().now();
      if (ctx.json()) {
        nlohmann::json imported = nlohmann::json::array();
        for (const auto& record : total.imported) imported.push_back(certificate_json(record, now));
        print_json({{"imported", imported},
                    {"imported_count", total.imported.size()},
                    {"duplicates", total.duplicates},
                    {"errors", total.errors}});
      } else {
        for (const auto& record : total.imported) {
          std::cout << "Imported " << record.serial.to_hex() << "  " << record.subject << "\n";
        }
        std::cout << "Imported " << total.imported.size() << ", already known " << total.duplicates
                  << ", errors " << total.errors.size() << ".\n";
        for (const auto& e : total.errors) std::cerr << "signet: import: " << e << "\n";
      }
      if (!total.errors.empty()) {
        return Error(ErrorCode::kInvalidArgument,
                     std::to_string(total.errors.size()) +
                         " input(s) could not be imported (listed above); the rest were");
      }
      return base::ok();
    };
  });
}

}  // namespace

void register_cert_lifecycle_commands(CLI::App* cert, Action& selected) {
  register_issue(cert, selected);
  register_renew(cert, selected);
  register_rekey(cert, selected, "rekey", false);
  register_rekey(cert, selected, "reissue", true);
  register_revoke(cert, selected);
  register_import(cert, selected);
}

}  // namespace signet::appliance
