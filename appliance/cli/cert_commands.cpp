// signet cert list | show | export (issue, renew, rekey, reissue, revoke and import live in
// cert_lifecycle_commands.cpp).
#include <iostream>
#include <memory>

#include "appliance/cli/cert_support.h"
#include "appliance/cli/commands.h"
#include "appliance/cli/output.h"
#include "pki/pem.h"

namespace signet::appliance {
namespace {

using base::Error;
using base::ErrorCode;
using base::Result;

struct ListOptions {
  std::string status, source, ca, profile, search, sort = "notAfter", after;
  std::optional<int> expiring_within;
  bool descending = false;
  std::size_t limit = 100;
};

Result<ca::CertificateQuery> to_query(const ListOptions& o, base::TimePoint now) {
  ca::CertificateQuery query;
  query.now = now;
  if (!o.status.empty()) {
    SIGNET_ASSIGN_OR_RETURN(query.status, ca::parse_certificate_status(o.status));
  }
  if (!o.source.empty()) {
    SIGNET_ASSIGN_OR_RETURN(query.source, ca::parse_certificate_source(o.source));
  }
  if (o.expiring_within) {
    if (*o.expiring_within < 0 || *o.expiring_within > 36500) {
      return Error(ErrorCode::kInvalidArgument, "--expiring-within must be 0 to 36500 days");
    }
    query.not_after_before = now + std::chrono::days(*o.expiring_within);
  }
  if (!o.ca.empty()) query.ca_name = o.ca;
  if (!o.profile.empty()) {
    // "ca/name" filters by both; a bare name by the profile name.
    const auto slash = o.profile.find('/');
    if (slash == std::string::npos) {
      query.profile = o.profile;
    } else {
      query.ca_name = o.profile.substr(0, slash);
      query.profile = o.profile.substr(slash + 1);
    }
  }
  query.search = o.search;
  SIGNET_ASSIGN_OR_RETURN(query.sort, ca::parse_certificate_sort(o.sort));
  query.descending = o.descending;
  if (o.limit < 1 || o.limit > 1000) {
    return Error(ErrorCode::kInvalidArgument, "--limit must be between 1 and 1000");
  }
  query.limit = o.limit;
  query.cursor = o.after;
  return query;
}

void register_list(CLI::App* cert, Action& selected) {
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
                  "prefix of the CN or a SAN ('www.exa'), or a DNS suffix ('*.example.com' finds "
                  "a.b.example.com)");
  cmd->add_option("--sort", o->sort, "notAfter, notBefore, cn or serial")
      ->check(CLI::IsMember({"notAfter", "notBefore", "cn", "serial"}))
      ->capture_default_str();
  cmd->add_flag("--desc", o->descending, "sort descending");
  cmd->add_option("--limit", o->limit, "at most this many (1-1000)")->capture_default_str();
  cmd->add_option("--after", o->after, "continue after this cursor (from a previous page)");
  cmd->callback([&selected, o] {
    selected = [o](ApplianceContext& ctx) -> Result<void> {
      SIGNET_ASSIGN_OR_RETURN(auto query, to_query(*o, ctx.clock().now()));
      SIGNET_ASSIGN_OR_RETURN(auto* inventory, ctx.inventory());
      SIGNET_ASSIGN_OR_RETURN(auto page, inventory->list_certificates(query));
      if (ctx.json()) {
        nlohmann::json items = nlohmann::json::array();
        for (const auto& record : page.items) items.push_back(certificate_json(record, query.now));
        print_json({{"items", items},
                    {"next_cursor", page.next_cursor.empty() ? nlohmann::json(nullptr)
                                                             : nlohmann::json(page.next_cursor)}});
        return base::ok();
      }
      std::vector<std::vector<std::string>> rows;
      for (const auto& r : page.items) {
        rows.push_back({r.serial.to_hex(), r.ca_name.empty() ? "-" : r.ca_name,
                        r.common_name.empty() ? r.subject : r.common_name, format_time(r.not_after),
                        std::string(ca::to_string(ca::status_at(r, query.now))),
                        std::string(ca::to_string(r.source)), r.profile.empty() ? "-" : r.profile,
                        r.key_algorithm});
      }
      print_table(
          {"SERIAL", "CA", "COMMON NAME", "NOT AFTER", "STATUS", "SOURCE", "PROFILE", "KEY"}, rows);
      if (!page.next_cursor.empty()) std::cout << "(more: --after " << page.next_cursor << ")\n";
      return base::ok();
    };
  });
}

// Predecessor and successor by serial, for the detail view.
void add_links(ApplianceContext& ctx, const ca::CertificateRecord& record, nlohmann::json& j) {
  auto inventory = ctx.inventory();
  if (!inventory) return;
  auto link = [&](std::uint64_t id, const char* key) {
    if (id == 0) return;
    auto found = (*inventory)->find_certificate_by_id(id);
    if (found && *found) {
      j[key] = (*found)->serial.to_hex() + " (" + (*found)->ca_name + ")";
    } else {
      j[key] = "#" + std::to_string(id);
    }
  };
  link(record.predecessor_id, "predecessor");
  link(record.successor_id, "successor");
}

void register_show(CLI::App* cert, Action& selected) {
  struct ShowOptions {
    std::string id, ca;
  };
  auto o = std::make_shared<ShowOptions>();
  auto* cmd = cert->add_subcommand(
      "show", "show every detail of a certificate (the view is recorded in the audit log)");
  cmd->add_option("id", o->id, "serial number or SHA-256 fingerprint (hex)")->required();
  cmd->add_option("--ca", o->ca, "the issuing CA, when a serial is used by several");
  cmd->callback([&selected, o] {
    selected = [o](ApplianceContext& ctx) -> Result<void> {
      SIGNET_ASSIGN_OR_RETURN(auto found, find_certificate(ctx, o->id, o->ca));
      SIGNET_ASSIGN_OR_RETURN(auto* service, ctx.service());
      // By fingerprint: unambiguous even when several CAs used the serial.
      SIGNET_ASSIGN_OR_RETURN(auto record, service->view(base::to_hex(found.fingerprint_sha256)));
      auto j = certificate_json(record, ctx.clock().now());
      add_links(ctx, record, j);
      if (ctx.json()) {
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

Result<void> export_pfx(ApplianceContext& ctx, const ExportOptions& o,
                        const ca::CertificateRecord& record) {
  if (o.out.empty() || o.out == "-") {
    return Error(ErrorCode::kInvalidArgument, "--format pfx needs --out FILE");
  }
  SIGNET_TRY(check_password_out(o.password_out));
  SIGNET_ASSIGN_OR_RETURN(auto profile, pki::parse_pfx_profile(o.pfx_profile));
  SIGNET_ASSIGN_OR_RETURN(auto* service, ctx.service());
  SIGNET_ASSIGN_OR_RETURN(auto delivery, service->export_pfx(record.id, profile));
  SIGNET_TRY(deliver_pfx(delivery, o.out, o.password_out));
  if (ctx.json()) {
    print_json({{"serial", record.serial.to_hex()},
                {"pfx_out", o.out},
                {"pfx_profile", std::string(pki::to_string(delivery.profile))},
                {"password_out", o.password_out.empty() ? nlohmann::json(nullptr)
                                                        : nlohmann::json(o.password_out)}});
  } else {
    std::cout << "Wrote the PKCS#12 (" << pki::to_string(delivery.profile) << ") of "
              << record.serial.to_hex() << " to " << o.out
              << (o.password_out.empty() ? "" : ", its password to " + o.password_out) << ".\n";
  }
  return base::ok();
}

void register_export(CLI::App* cert, Action& selected) {
  auto o = std::make_shared<ExportOptions>();
  auto* cmd = cert->add_subcommand(
      "export",
      "write a certificate as PEM or DER (--chain: with its CA chain), or as PKCS#12 with a new "
      "one-time password when it was issued with --local-key");
  cmd->add_option("id", o->id, "serial number or SHA-256 fingerprint (hex)")->required();
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
    selected = [o](ApplianceContext& ctx) -> Result<void> {
      if (o->chain && o->format == "der") {
        return Error(ErrorCode::kInvalidArgument,
                     "a DER file holds one certificate; use --format pem with --chain");
      }
      if (o->format != "pfx" && !o->password_out.empty()) {
        return Error(ErrorCode::kInvalidArgument, "--password-out goes with --format pfx");
      }
      SIGNET_ASSIGN_OR_RETURN(auto record, find_certificate(ctx, o->id, o->ca));
      if (o->format == "pfx") return export_pfx(ctx, *o, record);
      SIGNET_ASSIGN_OR_RETURN(auto* service, ctx.service());
      SIGNET_ASSIGN_OR_RETURN(auto ders, service->download(record.id, o->chain));
      if (o->format == "der") return write_output(o->out, ders.front());
      std::string pem;
      for (std::size_t i = 0; i < ders.size(); ++i) {
        // A root's own certificate ends its chain: write it once.
        if (i > 0 && ders[i] == record.der) continue;
        pem += pki::pem_encode("CERTIFICATE", ders[i]);
      }
      return write_output(o->out, base::as_bytes(pem));
    };
  });
}

}  // namespace

void register_cert_commands(CLI::App& app, Action& selected) {
  auto* cert = app.add_subcommand(
      "cert", "certificates: issue, renew, rekey, reissue, revoke, import, list, show, export");
  cert->require_subcommand(1);
  register_cert_lifecycle_commands(cert, selected);
  register_list(cert, selected);
  register_show(cert, selected);
  register_export(cert, selected);
}

}  // namespace signet::appliance
