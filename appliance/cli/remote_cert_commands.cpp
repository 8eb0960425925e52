// signet cert list | show | export | issue | renew | rekey | reissue | revoke | import through
// signetd's REST API (/api/v1/certificates...), with the flags and output of the local
// commands (cert_commands.cpp, cert_lifecycle_commands.cpp).
#include <algorithm>
#include <filesystem>
#include <iostream>
#include <memory>

#include "appliance/cli/cert_support.h"
#include "appliance/cli/output.h"
#include "appliance/cli/remote.h"
#include "pki/pem.h"

namespace signet::appliance {
namespace {

using base::Error;
using base::ErrorCode;
using base::Result;
using nlohmann::json;

constexpr const char* kIdHelp = "serial number or SHA-256 fingerprint (hex)";

// ---- list, show, export ----

struct ListOptions {
  std::string status, source, ca, profile, search, sort = "notAfter", after;
  std::optional<int> expiring_within;
  bool descending = false;
  std::size_t limit = 100;
};

// A certificate as a row of `cert list`: the profile without its CA, as the record holds it.
std::vector<std::string> list_row(const json& c) {
  const std::string ca_name = json_text(c, "ca");
  std::string profile = json_text(c, "profile");
  if (!ca_name.empty() && profile.rfind(ca_name + "/", 0) == 0) {
    profile = profile.substr(ca_name.size() + 1);
  }
  const std::string cn = json_text(c, "common_name");
  return {json_text(c, "serial"),
          ca_name.empty() ? "-" : ca_name,
          cn.empty() ? json_text(c, "subject") : cn,
          json_text(c, "not_after"),
          json_text(c, "status"),
          json_text(c, "source"),
          profile.empty() ? "-" : profile,
          json_text(c, "key_algorithm")};
}

Result<void> list(RemoteContext& ctx, const ListOptions& o) {
  if (o.expiring_within && (*o.expiring_within < 0 || *o.expiring_within > 36500)) {
    return Error(ErrorCode::kInvalidArgument, "--expiring-within must be 0 to 36500 days");
  }
  if (o.limit < 1 || o.limit > 1000) {
    return Error(ErrorCode::kInvalidArgument, "--limit must be between 1 and 1000");
  }
  const std::string target =
      "/api/v1/certificates" +
      query_string(
          {{"status", o.status},
           {"source", o.source},
           {"ca", o.ca},
           {"profile", o.profile},
           {"expiring_within_days", o.expiring_within ? std::to_string(*o.expiring_within) : ""},
           {"q", o.search},
           {"sort", o.sort},
           {"order", o.descending ? "desc" : ""},
           {"limit", std::to_string(o.limit)},
           {"cursor", o.after}});
  SIGNET_ASSIGN_OR_RETURN(auto page, ctx.api.call("GET", target));
  const json items = page.value("items", json::array());
  const std::string next = json_text(page, "next_cursor");
  if (ctx.json) {
    print_json({{"items", items}, {"next_cursor", next.empty() ? json(nullptr) : json(next)}});
    return base::ok();
  }
  std::vector<std::vector<std::string>> rows;
  for (const auto& c : items) rows.push_back(list_row(c));
  print_table({"SERIAL", "CA", "COMMON NAME", "NOT AFTER", "STATUS", "SOURCE", "PROFILE", "KEY"},
              rows);
  if (!next.empty()) std::cout << "(more: --after " << next << ")\n";
  return base::ok();
}

void register_list(CLI::App* cert, RemoteAction& selected) {
  auto o = std::make_shared<ListOptions>();
  auto* cmd = cert->add_subcommand(
      "list", "list certificates (default: soonest to expire first), a page at a time");
  cmd->add_option("--status", o->status, "active, expired or revoked")
      ->check(CLI::IsMember({"active", "expired", "revoked"}));
  cmd->add_option("--source", o->source, "managed (issued here) or discovered (imported)")
      ->check(CLI::IsMember({"managed", "discovered"}));
  cmd->add_option("--expiring-within", o->expiring_within, "expiring within DAYS from now");
  cmd->add_option("--ca", o->ca, "issued by this CA");
  cmd->add_option("--profile", o->profile, "issued through this RA profile (NAME or CA/NAME)");
  cmd->add_option("--search", o->search,
                  "prefix of the CN or a SAN, or a DNS suffix ('*.example.com')");
  cmd->add_option("--sort", o->sort, "notAfter, notBefore, cn or serial")
      ->check(CLI::IsMember({"notAfter", "notBefore", "cn", "serial"}))
      ->capture_default_str();
  cmd->add_flag("--desc", o->descending, "sort descending");
  cmd->add_option("--limit", o->limit, "at most this many (1-1000)")->capture_default_str();
  cmd->add_option("--after", o->after, "continue after this cursor (from a previous page)");
  cmd->callback([&selected, o] { selected = [o](RemoteContext& ctx) { return list(ctx, *o); }; });
}

void register_show(CLI::App* cert, RemoteAction& selected) {
  struct ShowOptions {
    std::string id, ca;
  };
  auto o = std::make_shared<ShowOptions>();
  auto* cmd = cert->add_subcommand(
      "show", "show every detail of a certificate (the view is recorded in the audit log)");
  cmd->add_option("id", o->id, kIdHelp)->required();
  cmd->add_option("--ca", o->ca, "the issuing CA, when a serial is used by several");
  cmd->callback([&selected, o] {
    selected = [o](RemoteContext& ctx) -> Result<void> {
      SIGNET_ASSIGN_OR_RETURN(auto j, ctx.api.call("GET", certificate_target(o->id, "", o->ca)));
      if (ctx.json) {
        print_json(j);
      } else {
        print_certificate_json(j);
      }
      return base::ok();
    };
  });
}

struct ExportOptions {
  std::string id, ca, format = "pem", out, pfx_profile = "modern", password_out;
  bool chain = false;
};

Result<void> export_pfx(RemoteContext& ctx, const ExportOptions& o) {
  if (o.out.empty() || o.out == "-") {
    return Error(ErrorCode::kInvalidArgument, "--format pfx needs --out FILE");
  }
  SIGNET_TRY(check_password_out(o.password_out));
  const json body = {{"pfx_profile", o.pfx_profile}};
  SIGNET_ASSIGN_OR_RETURN(auto reply,
                          ctx.api.call("POST", certificate_target(o.id, "pfx", o.ca), &body));
  SIGNET_ASSIGN_OR_RETURN(auto local_key, take_local_key(reply));
  if (!local_key) {
    return Error(ErrorCode::kInternal, "signetd's reply carries no PKCS#12");
  }
  const auto& delivery = *local_key;
  SIGNET_TRY(deliver_pfx(delivery, o.out, o.password_out));
  const std::string serial = json_text(reply, "serial");
  if (ctx.json) {
    print_json({{"serial", serial},
                {"pfx_out", o.out},
                {"pfx_profile", std::string(pki::to_string(delivery.profile))},
                {"password_out", o.password_out.empty() ? json(nullptr) : json(o.password_out)}});
  } else {
    std::cout << "Wrote the PKCS#12 (" << pki::to_string(delivery.profile) << ") of " << serial
              << " to " << o.out
              << (o.password_out.empty() ? "" : ", its password to " + o.password_out) << ".\n";
  }
  return base::ok();
}

void register_export(CLI::App* cert, RemoteAction& selected) {
  auto o = std::make_shared<ExportOptions>();
  auto* cmd = cert->add_subcommand(
      "export",
      "write a certificate as PEM or DER (--chain: with its CA chain), or as PKCS#12 with a new "
      "one-time password when it was issued with --local-key");
  cmd->add_option("id", o->id, kIdHelp)->required();
  cmd->add_option("--format", o->format, "pem, der or pfx")
      ->check(CLI::IsMember({"pem", "der", "pfx"}))
      ->capture_default_str();
  cmd->add_flag("--chain", o->chain, "append the issuing CA chain (PEM; always in a PFX)");
  cmd->add_option("--out", o->out, "output file (default: stdout; required for pfx)");
  cmd->add_option("--ca", o->ca, "the issuing CA, when a serial is used by several");
  cmd->add_option("--pfx-profile", o->pfx_profile, "with --format pfx: modern or compat")
      ->check(CLI::IsMember({"modern", "compat"}))
      ->capture_default_str();
  cmd->add_option("--password-out", o->password_out,
                  "with --format pfx: write the new password to this new file (mode 0600) "
                  "instead of stderr");
  cmd->callback([&selected, o] {
    selected = [o](RemoteContext& ctx) -> Result<void> {
      if (o->chain && o->format == "der") {
        return Error(ErrorCode::kInvalidArgument,
                     "a DER file holds one certificate; use --format pem with --chain");
      }
      if (o->format != "pfx" && !o->password_out.empty()) {
        return Error(ErrorCode::kInvalidArgument, "--password-out goes with --format pfx");
      }
      if (o->format == "pfx") return export_pfx(ctx, *o);
      const std::string suffix = o->format == "der" ? "der" : (o->chain ? "chain" : "pem");
      SIGNET_ASSIGN_OR_RETURN(auto data,
                              ctx.api.download(certificate_target(o->id, suffix, o->ca)));
      return write_output(o->out, base::as_bytes(data));
    };
  });
}

// ---- issue, renew, rekey, reissue, revoke ----

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

// The "key_source" of a request body, after to_key_source() checked the combination.
Result<json> key_source_json(const KeySourceOptions& o, bool has_subject) {
  SIGNET_TRY(to_key_source(o, has_subject));
  if (!o.csr.empty()) {
    SIGNET_ASSIGN_OR_RETURN(auto pem, read_csr_pem(o.csr));
    return json{{"kind", "csr"}, {"csr", pem}};
  }
  if (!o.key_uri.empty()) return json{{"kind", "token_key"}, {"key_uri", o.key_uri}};
  json source = {{"kind", o.local_key ? "local_key" : "key_on_token"}};
  if (!o.key.empty()) source["algorithm"] = o.key;
  if (!o.token.empty()) source["token"] = o.token;
  if (o.local_key) source["pfx_profile"] = o.pfx_profile;
  return source;
}

ResultOutput with_pfx(ResultOutput output, const KeySourceOptions& key) {
  output.pfx_out = key.pfx_out;
  output.password_out = key.password_out;
  return output;
}

struct IssueOptions {
  KeySourceOptions key;
  std::string profile, ca, subject;
  std::vector<std::string> sans;
  std::optional<int> days;
  ResultOutput output;
};

Result<void> issue(RemoteContext& ctx, const IssueOptions& o) {
  const bool has_subject = !o.subject.empty() || !o.sans.empty();
  SIGNET_ASSIGN_OR_RETURN(auto source, key_source_json(o.key, has_subject));
  if (o.key.csr.empty() && !has_subject) {
    return Error(ErrorCode::kInvalidArgument,
                 "give --subject DN and/or --san with --key-uri, --key-on-token and --local-key");
  }
  if (o.profile.empty() && o.ca.empty()) {
    return Error(ErrorCode::kInvalidArgument,
                 "give --profile P (or --ca N for the CA's default profile)");
  }
  json body = {{"key_source", source}};
  if (!o.profile.empty()) body["profile"] = o.profile;
  if (!o.ca.empty()) body["ca"] = o.ca;
  if (!o.subject.empty()) body["subject"] = o.subject;
  if (!o.sans.empty()) body["subject_alt_names"] = o.sans;
  if (o.days) body["validity_days"] = *o.days;
  SIGNET_ASSIGN_OR_RETURN(auto reply, ctx.api.call("POST", "/api/v1/certificates", &body));
  return show_remote_order_result(ctx, std::move(reply), with_pfx(o.output, o.key), "Issued");
}

void register_issue(CLI::App* cert, RemoteAction& selected) {
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
  cmd->callback([&selected, o] { selected = [o](RemoteContext& ctx) { return issue(ctx, *o); }; });
}

struct RenewOptions {
  std::string id, ca, csr;
  std::optional<int> days;
  ResultOutput output;
};

void register_renew(CLI::App* cert, RemoteAction& selected) {
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
    selected = [o](RemoteContext& ctx) -> Result<void> {
      json body = json::object();
      if (!o->csr.empty()) {
        SIGNET_ASSIGN_OR_RETURN(auto pem, read_csr_pem(o->csr));
        body["csr"] = pem;
      }
      if (o->days) body["validity_days"] = *o->days;
      SIGNET_ASSIGN_OR_RETURN(
          auto reply, ctx.api.call("POST", certificate_target(o->id, "renew", o->ca), &body));
      return show_remote_order_result(ctx, std::move(reply), o->output, "Renewed");
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

void register_rekey(CLI::App* cert, RemoteAction& selected, const std::string& name,
                    bool as_reissue) {
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
  cmd->callback([&selected, o, name, as_reissue] {
    selected = [o, name, as_reissue](RemoteContext& ctx) -> Result<void> {
      SIGNET_ASSIGN_OR_RETURN(auto source, key_source_json(o->key, false));
      json body = {{"key_source", source}, {"revoke_previous", o->revoke_previous}};
      if (o->days) body["validity_days"] = *o->days;
      SIGNET_ASSIGN_OR_RETURN(auto reply,
                              ctx.api.call("POST", certificate_target(o->id, name, o->ca), &body));
      return show_remote_order_result(ctx, std::move(reply), with_pfx(o->output, o->key),
                                      as_reissue ? "Reissued" : "Rekeyed");
    };
  });
}

void register_revoke(CLI::App* cert, RemoteAction& selected) {
  struct RevokeOptions {
    std::string id, ca;
    RevocationOptions revocation;
  };
  auto o = std::make_shared<RevokeOptions>();
  auto* cmd = cert->add_subcommand(
      "revoke", "revoke a certificate, permanently (RFC 5280 reasons; no certificateHold)");
  cmd->add_option("id", o->id, kIdHelp)->required();
  cmd->add_option("--ca", o->ca, "the issuing CA, when a serial is used by several");
  add_revocation_options(cmd, o->revocation);
  cmd->callback([&selected, o] {
    selected = [o](RemoteContext& ctx) -> Result<void> {
      SIGNET_TRY(to_revoke_request(o->revocation));  // the local command's checks and messages
      json body = {{"reason", o->revocation.reason}};
      if (!o->revocation.invalidity_date.empty()) {
        body["invalidity_date"] = o->revocation.invalidity_date;
      }
      SIGNET_ASSIGN_OR_RETURN(
          auto reply, ctx.api.call("POST", certificate_target(o->id, "revoke", o->ca), &body));
      show_remote_revocation(ctx, reply);
      return base::ok();
    };
  });
}

// ---- import ----

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

struct ImportTotal {
  json imported = json::array();
  std::size_t duplicates = 0;
  std::vector<std::string> errors;
};

// Sends one file (PEM as it is; anything else as one DER certificate) and adds up the report.
void import_file(RemoteContext& ctx, const std::filesystem::path& file, ImportTotal& total) {
  auto data = read_input_file(file.string());
  if (!data) {
    total.errors.push_back(file.string() + ": " + data.error().message());
    return;
  }
  std::string pem(base::as_chars(*data));
  if (pem.find("-----BEGIN") == std::string::npos) pem = pki::pem_encode("CERTIFICATE", *data);
  const json body = {{"pem", pem}};
  auto report = ctx.api.call("POST", "/api/v1/certificates/import", &body);
  if (!report) {
    total.errors.push_back(file.string() + ": " + report.error().describe());
    return;
  }
  for (const auto& c : report->value("imported", json::array())) total.imported.push_back(c);
  total.duplicates += report->value("duplicates", std::size_t{0});
  for (const auto& e : report->value("errors", json::array())) {
    total.errors.push_back(file.string() + ": " + e.get<std::string>());
  }
}

void register_import(CLI::App* cert, RemoteAction& selected) {
  auto path = std::make_shared<std::string>();
  auto* cmd = cert->add_subcommand(
      "import",
      "record existing certificates as 'discovered': a PEM (bundles too) or DER file, or every "
      "file of a directory; known certificates (same SHA-256 fingerprint) are skipped");
  cmd->add_option("path", *path, "a file or a directory")->required();
  cmd->callback([&selected, path] {
    selected = [path](RemoteContext& ctx) -> Result<void> {
      SIGNET_ASSIGN_OR_RETURN(auto files, import_inputs(*path));
      ImportTotal total;
      for (const auto& file : files) import_file(ctx, file, total);
      if (ctx.json) {
        print_json({{"imported", total.imported},
                    {"imported_count", total.imported.size()},
                    {"duplicates", total.duplicates},
                    {"errors", total.errors}});
      } else {
        for (const auto& c : total.imported) {
          std::cout << "Imported " << json_text(c, "serial") << "  " << json_text(c, "subject")
                    << "\n";
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

void register_remote_cert_commands(CLI::App& app, RemoteAction& selected) {
  auto* cert = app.add_subcommand(
      "cert", "certificates: issue, renew, rekey, reissue, revoke, import, list, show, export");
  cert->require_subcommand(1);
  register_issue(cert, selected);
  register_renew(cert, selected);
  register_rekey(cert, selected, "rekey", false);
  register_rekey(cert, selected, "reissue", true);
  register_revoke(cert, selected);
  register_import(cert, selected);
  register_list(cert, selected);
  register_show(cert, selected);
  register_export(cert, selected);
}

}  // namespace signet::appliance
