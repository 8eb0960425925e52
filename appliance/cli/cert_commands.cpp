// signet cert issue | list | show | export
#include <iostream>
#include <memory>

#include "appliance/cli/commands.h"
#include "appliance/cli/output.h"
#include "pki/pem.h"

namespace signet::appliance {
namespace {

using base::Error;
using base::ErrorCode;
using base::Result;

// ID is a SHA-256 fingerprint (32 bytes) or a serial number, hex with or without colons.
Result<ca::CertificateRecord> find_by_id(CliContext& ctx, const std::string& id,
                                         const std::string& ca_name) {
  SIGNET_ASSIGN_OR_RETURN(auto* inventory, ctx.inventory());
  auto bytes = base::from_hex(id);
  if (!bytes) {
    return Error(ErrorCode::kInvalidArgument,
                 "'" + id + "' is neither a serial number nor a SHA-256 fingerprint (hex)");
  }
  if (bytes->size() == 32) {
    SIGNET_ASSIGN_OR_RETURN(auto found, inventory->find_certificate_by_fingerprint(*bytes));
    if (found) return std::move(*found);
  }
  SIGNET_ASSIGN_OR_RETURN(auto serial, pki::SerialNumber::from_bytes(*bytes));
  SIGNET_ASSIGN_OR_RETURN(auto matches, inventory->find_certificates_by_serial(serial));
  if (!ca_name.empty()) {
    std::erase_if(matches, [&](const auto& r) { return r.ca_name != ca_name; });
  }
  if (matches.empty()) {
    return Error(ErrorCode::kNotFound, "no certificate has serial number or fingerprint " + id);
  }
  if (matches.size() > 1) {
    std::string cas;
    for (const auto& m : matches) cas += (cas.empty() ? "" : ", ") + m.ca_name;
    return Error(ErrorCode::kInvalidArgument, "serial number " + id + " is used by several CAs (" +
                                                  cas +
                                                  "); name one with --ca or use the fingerprint");
  }
  return std::move(matches.front());
}

Result<std::string> pem_with_chain(CliContext& ctx, const ca::CertificateRecord& record,
                                   bool chain) {
  std::string pem = pki::pem_encode("CERTIFICATE", record.der);
  if (!chain) return pem;
  if (record.ca_name.empty()) {
    return Error(ErrorCode::kInvalidArgument,
                 "the certificate was not issued by a CA here, so its chain is unknown");
  }
  SIGNET_ASSIGN_OR_RETURN(auto* authority, ctx.authority());
  SIGNET_ASSIGN_OR_RETURN(auto issuers, authority->ca_chain(record.ca_name));
  for (const auto& der : issuers) {
    if (der == record.der) continue;  // a root's own certificate is its chain's end
    pem += pki::pem_encode("CERTIFICATE", der);
  }
  return pem;
}

}  // namespace

void register_cert_commands(CLI::App& app, Action& selected) {
  auto* cert = app.add_subcommand("cert", "end-entity certificates: issue, list, show, export");
  cert->require_subcommand(1);
  {
    struct IssueOptions {
      std::string ca, csr, out;
      std::optional<int> validity_days;
      bool chain = false;
    };
    auto o = std::make_shared<IssueOptions>();
    auto* cmd = cert->add_subcommand("issue", "issue a certificate from a PKCS#10 CSR");
    cmd->add_option("--ca", o->ca, "the issuing CA")->required();
    cmd->add_option("--csr", o->csr, "the request, PEM or DER")->required();
    cmd->add_option("--validity-days", o->validity_days,
                    "validity in days (default: the CA's default; capped at the CA's notAfter)");
    cmd->add_option("--out", o->out, "write the certificate (PEM) here instead of stdout");
    cmd->add_flag("--chain", o->chain, "append the issuing CA chain to the PEM output");
    cmd->callback([&selected, o] {
      selected = [o](CliContext& ctx) -> Result<void> {
        SIGNET_ASSIGN_OR_RETURN(auto csr, read_input_file(o->csr));
        SIGNET_ASSIGN_OR_RETURN(auto* authority, ctx.authority());
        SIGNET_ASSIGN_OR_RETURN(
            auto record, authority->issue_from_csr({o->ca, std::move(csr), o->validity_days}));
        SIGNET_ASSIGN_OR_RETURN(auto pem, pem_with_chain(ctx, record, o->chain));
        if (ctx.json()) {
          auto j = certificate_json(record, ctx.clock().now());
          j["pem"] = pem;
          if (!o->out.empty()) SIGNET_TRY(write_output(o->out, base::as_bytes(pem)));
          print_json(j);
          return base::ok();
        }
        SIGNET_TRY(write_output(o->out, base::as_bytes(pem)));
        if (!o->out.empty()) {
          std::cerr << "Issued certificate " << record.serial.to_hex() << " for '" << record.subject
                    << "' to " << o->out << "\n";
        }
        return base::ok();
      };
    });
  }
  {
    struct ListOptions {
      std::string status, ca, after;
      std::optional<int> expiring_within;
      std::size_t limit = 100;
    };
    auto o = std::make_shared<ListOptions>();
    auto* cmd = cert->add_subcommand("list", "list certificates, soonest to expire first");
    cmd->add_option("--status", o->status, "active, expired or revoked")
        ->check(CLI::IsMember({"active", "expired", "revoked"}));
    cmd->add_option("--expiring-within", o->expiring_within, "expiring within DAYS from now");
    cmd->add_option("--ca", o->ca, "issued by this CA");
    cmd->add_option("--limit", o->limit, "at most this many (1-1000)")->capture_default_str();
    cmd->add_option("--after", o->after, "continue after this cursor (from a previous page)");
    cmd->callback([&selected, o] {
      selected = [o](CliContext& ctx) -> Result<void> {
        ca::CertificateQuery query;
        query.now = ctx.clock().now();
        if (!o->status.empty()) {
          SIGNET_ASSIGN_OR_RETURN(query.status, ca::parse_certificate_status(o->status));
        }
        if (o->expiring_within) {
          if (*o->expiring_within < 0) {
            return Error(ErrorCode::kInvalidArgument, "--expiring-within must not be negative");
          }
          query.not_after_before = query.now + std::chrono::days(*o->expiring_within);
        }
        if (!o->ca.empty()) query.ca_name = o->ca;
        query.limit = o->limit;
        query.cursor = o->after;
        SIGNET_ASSIGN_OR_RETURN(auto* inventory, ctx.inventory());
        SIGNET_ASSIGN_OR_RETURN(auto page, inventory->list_certificates(query));
        if (ctx.json()) {
          nlohmann::json items = nlohmann::json::array();
          for (const auto& record : page.items)
            items.push_back(certificate_json(record, query.now));
          print_json(
              {{"items", items},
               {"next_cursor", page.next_cursor.empty() ? nlohmann::json(nullptr)
                                                        : nlohmann::json(page.next_cursor)}});
          return base::ok();
        }
        std::vector<std::vector<std::string>> rows;
        for (const auto& r : page.items) {
          rows.push_back(
              {r.serial.to_hex(), r.ca_name.empty() ? "-" : r.ca_name,
               r.common_name.empty() ? r.subject : r.common_name, format_time(r.not_after),
               std::string(ca::to_string(ca::status_at(r, query.now))), r.key_algorithm});
        }
        print_table({"SERIAL", "CA", "COMMON NAME", "NOT AFTER", "STATUS", "KEY"}, rows);
        if (!page.next_cursor.empty()) {
          std::cout << "(more: --after " << page.next_cursor << ")\n";
        }
        return base::ok();
      };
    });
  }
  {
    struct ShowOptions {
      std::string id, ca;
    };
    auto o = std::make_shared<ShowOptions>();
    auto* cmd = cert->add_subcommand("show", "show a certificate by serial or SHA-256 fingerprint");
    cmd->add_option("id", o->id, "serial number or SHA-256 fingerprint (hex)")->required();
    cmd->add_option("--ca", o->ca, "the issuing CA, when a serial is used by several");
    cmd->callback([&selected, o] {
      selected = [o](CliContext& ctx) -> Result<void> {
        SIGNET_ASSIGN_OR_RETURN(auto record, find_by_id(ctx, o->id, o->ca));
        if (ctx.json()) {
          print_json(certificate_json(record, ctx.clock().now()));
        } else {
          print_certificate(record, ctx.clock().now());
        }
        return base::ok();
      };
    });
  }
  {
    struct ExportOptions {
      std::string id, ca, format = "pem", out;
      bool chain = false;
    };
    auto o = std::make_shared<ExportOptions>();
    auto* cmd = cert->add_subcommand("export", "write a certificate as PEM or DER");
    cmd->add_option("id", o->id, "serial number or SHA-256 fingerprint (hex)")->required();
    cmd->add_option("--format", o->format, "pem or der")
        ->check(CLI::IsMember({"pem", "der"}))
        ->capture_default_str();
    cmd->add_flag("--chain", o->chain, "append the issuing CA chain (PEM only)");
    cmd->add_option("--out", o->out, "output file (default: stdout)");
    cmd->add_option("--ca", o->ca, "the issuing CA, when a serial is used by several");
    cmd->callback([&selected, o] {
      selected = [o](CliContext& ctx) -> Result<void> {
        if (o->chain && o->format == "der") {
          return Error(ErrorCode::kInvalidArgument,
                       "a DER file holds one certificate; use --format pem with --chain");
        }
        SIGNET_ASSIGN_OR_RETURN(auto record, find_by_id(ctx, o->id, o->ca));
        if (o->format == "der") return write_output(o->out, record.der);
        SIGNET_ASSIGN_OR_RETURN(auto pem, pem_with_chain(ctx, record, o->chain));
        return write_output(o->out, base::as_bytes(pem));
      };
    });
  }
}

}  // namespace signet::appliance
