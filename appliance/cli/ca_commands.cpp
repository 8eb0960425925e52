// signet ca create-root | create-intermediate | import-cert | list | show | set | revoke | export |
// renew
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

struct CreateOptions {
  std::string name, subject, key = "ec-p384", key_uri, parent, csr_out;
  std::optional<int> validity_days, path_length;
  bool external = false;
};

Result<ca::NewCaRequest> to_request(const CreateOptions& o, ApplianceContext& ctx) {
  ca::NewCaRequest request;
  request.name = o.name;
  request.subject = o.subject;
  SIGNET_ASSIGN_OR_RETURN(request.key_algorithm, base::parse_key_algorithm(o.key));
  request.token = ctx.options().token;
  request.key_uri = o.key_uri;
  request.validity_days = o.validity_days;
  request.path_length = o.path_length;
  request.parent = o.parent;
  request.external_parent = o.external;
  return request;
}

Result<void> show_created(ApplianceContext& ctx, const ca::CaRecord& record) {
  // Every CA gets its "default" RA profile, so that `cert issue --ca N` works at once.
  auto service = ctx.service();
  auto profile = service ? (*service)->ensure_default_profile(record.name)
                         : base::Result<ca::Profile>(service.error());
  if (!profile) {
    std::cerr << "signet: warning: CA '" << record.name
              << "' was created, but its default profile was not: " << profile.error().describe()
              << " (it is created on first use)\n";
  }
  if (ctx.json()) {
    print_json(ca_json(record, ctx.clock().now()));
  } else {
    std::cout << "Created CA '" << record.name << "'.\n";
    print_ca(record, ctx.clock().now());
  }
  return base::ok();
}

// Issuance goes through RA profiles, whose validity rule decides the default: a CA's default
// validity is therefore also written to its "default" profile (a new version when it changes;
// its maximum is raised to match when it was lower).
Result<ca::Profile> follow_default_validity(ApplianceContext& ctx, const std::string& ca_name,
                                            int days) {
  SIGNET_ASSIGN_OR_RETURN(auto* service, ctx.service());
  SIGNET_ASSIGN_OR_RETURN(auto profile, service->ensure_default_profile(ca_name));
  if (profile.validity.default_days == days && profile.validity.max_days >= days) return profile;
  profile.validity.default_days = days;
  if (profile.validity.max_days < days) profile.validity.max_days = days;
  return service->update_profile(std::move(profile));
}

void add_create_options(CLI::App* cmd, CreateOptions& o) {
  cmd->add_option("--name", o.name, "CA name (letters, digits, '.', '_', '-')")->required();
  cmd->add_option("--subject", o.subject,
                  "subject DN: 'CN=Root,O=Example,C=DE' or '/C=DE/O=Example/CN=Root'")
      ->required();
  cmd->add_option("--key", o.key,
                  "key algorithm: ec-p256, ec-p384, rsa-2048, rsa-3072, rsa-4096, ed25519")
      ->capture_default_str();
  cmd->add_option("--validity-days", o.validity_days, "validity of the CA certificate in days");
  cmd->add_option("--key-uri", o.key_uri,
                  "adopt this existing key on a token (RFC 7512 URI) instead of generating one");
  cmd->add_option("--path-length", o.path_length, "basicConstraints path length constraint");
}

}  // namespace

void register_ca_commands(CLI::App& app, Action& selected) {
  auto* ca =
      app.add_subcommand("ca", "certificate authorities: create, import, show, configure, renew");
  ca->require_subcommand(1);

  {
    auto o = std::make_shared<CreateOptions>();
    auto* cmd =
        ca->add_subcommand("create-root", "create a self-signed root CA with a key on the token");
    add_create_options(cmd, *o);
    cmd->callback([&selected, o] {
      selected = [o](ApplianceContext& ctx) -> Result<void> {
        SIGNET_ASSIGN_OR_RETURN(auto request, to_request(*o, ctx));
        SIGNET_ASSIGN_OR_RETURN(auto* authority, ctx.authority());
        SIGNET_ASSIGN_OR_RETURN(auto record, authority->create_root(request));
        return show_created(ctx, record);
      };
    });
  }
  {
    auto o = std::make_shared<CreateOptions>();
    auto* cmd = ca->add_subcommand(
        "create-intermediate",
        "create an intermediate CA signed by a CA here (--parent) or by an external root "
        "(--external: writes a CSR to --csr-out; install the answer with 'ca import-cert')");
    add_create_options(cmd, *o);
    auto* parent = cmd->add_option("--parent", o->parent, "the parent CA here");
    auto* external = cmd->add_flag("--external", o->external, "signed by an external root");
    cmd->add_option("--csr-out", o->csr_out, "with --external: where to write the CSR (PEM)");
    parent->excludes(external);
    cmd->callback([&selected, o] {
      selected = [o](ApplianceContext& ctx) -> Result<void> {
        if (o->parent.empty() && !o->external) {
          return Error(ErrorCode::kInvalidArgument, "give --parent CA or --external");
        }
        if (o->external && o->csr_out.empty()) {
          return Error(ErrorCode::kInvalidArgument, "--external needs --csr-out FILE");
        }
        SIGNET_ASSIGN_OR_RETURN(auto request, to_request(*o, ctx));
        SIGNET_ASSIGN_OR_RETURN(auto* authority, ctx.authority());
        SIGNET_ASSIGN_OR_RETURN(auto record, authority->create_intermediate(request));
        if (o->external) {
          const std::string pem = pki::pem_encode("CERTIFICATE REQUEST", record.pending_csr_der);
          SIGNET_TRY(write_output(o->csr_out, base::as_bytes(pem)));
          if (!ctx.json()) {
            std::cout << "Wrote the CSR of CA '" << record.name << "' to " << o->csr_out
                      << ".\nHave the external root sign it, then run:\n  signet ca import-cert "
                      << "--name " << record.name << " --cert FILE\n";
          }
        }
        return show_created(ctx, record);
      };
    });
  }
  {
    struct ImportOptions {
      std::string name, cert;
    };
    auto o = std::make_shared<ImportOptions>();
    auto* cmd =
        ca->add_subcommand("import-cert",
                           "install the certificate an external root issued for a CA (PEM bundle: "
                           "the CA certificate first, then its issuers)");
    cmd->add_option("--name", o->name, "the CA awaiting its certificate")->required();
    cmd->add_option("--cert", o->cert, "certificate file (PEM or DER)")->required();
    cmd->callback([&selected, o] {
      selected = [o](ApplianceContext& ctx) -> Result<void> {
        SIGNET_ASSIGN_OR_RETURN(auto bundle, read_input_file(o->cert));
        SIGNET_ASSIGN_OR_RETURN(auto* authority, ctx.authority());
        SIGNET_ASSIGN_OR_RETURN(auto record, authority->import_ca_certificate(o->name, bundle));
        if (ctx.json()) {
          print_json(ca_json(record, ctx.clock().now()));
        } else {
          std::cout << "Installed the certificate of CA '" << record.name << "'.\n";
          print_ca(record, ctx.clock().now());
        }
        return base::ok();
      };
    });
  }
  {
    auto* cmd = ca->add_subcommand("list", "list the CAs");
    cmd->callback([&selected] {
      selected = [](ApplianceContext& ctx) -> Result<void> {
        SIGNET_ASSIGN_OR_RETURN(auto* directory, ctx.cas());
        SIGNET_ASSIGN_OR_RETURN(auto* inventory, ctx.inventory());
        SIGNET_ASSIGN_OR_RETURN(auto cas, directory->list_cas());
        const auto now = ctx.clock().now();
        std::vector<nlohmann::json> views;
        for (const auto& record : cas) {
          SIGNET_ASSIGN_OR_RETURN(auto own, ca_own_certificate(*inventory, record));
          views.push_back(ca_json(record, now, own ? &*own : nullptr));
        }
        if (ctx.json()) {
          print_json(nlohmann::json(views));
          return base::ok();
        }
        std::vector<std::vector<std::string>> rows;
        for (std::size_t i = 0; i < cas.size(); ++i) {
          const auto& record = cas[i];
          const auto& j = views[i];
          rows.push_back({record.name, j.value("state", std::string("-")),
                          std::string(base::to_string(record.key_algorithm)),
                          j.value("not_after", std::string("-")),
                          record.external_parent ? "(external)"
                                                 : (record.parent.empty() ? "-" : record.parent),
                          record.subject});
        }
        print_table({"NAME", "STATE", "KEY", "NOT AFTER", "PARENT", "SUBJECT"}, rows);
        return base::ok();
      };
    });
  }
  {
    auto name = std::make_shared<std::string>();
    auto* cmd = ca->add_subcommand("show", "show a CA's details and settings");
    cmd->add_option("name", *name, "CA name")->required();
    cmd->callback([&selected, name] {
      selected = [name](ApplianceContext& ctx) -> Result<void> {
        SIGNET_ASSIGN_OR_RETURN(auto* authority, ctx.authority());
        SIGNET_ASSIGN_OR_RETURN(auto record, authority->find_ca(*name));
        SIGNET_ASSIGN_OR_RETURN(auto* inventory, ctx.inventory());
        SIGNET_ASSIGN_OR_RETURN(auto own, ca_own_certificate(*inventory, record));
        const auto view = ca_json(record, ctx.clock().now(), own ? &*own : nullptr);
        if (ctx.json()) {
          print_json(view);
        } else {
          print_ca_json(view);
        }
        return base::ok();
      };
    });
  }
  {
    struct SetOptions {
      std::string name;
      ca::CaSettingsUpdate update;
      std::optional<std::string> crl_on_revocation, delta_crls, ocsp_signing;
    };
    auto o = std::make_shared<SetOptions>();
    auto* cmd = ca->add_subcommand(
        "set", "change CA settings: publication URLs, default validity, CRL and OCSP service");
    cmd->add_option("name", o->name, "CA name")->required();
    auto& u = o->update;
    cmd->add_option("--base-url", u.base_url,
                    "base URL for CRL (<base>/crl/<ca>.crl), OCSP (<base>/ocsp/<ca>) and CA "
                    "issuer (<base>/ca/<ca>.crt) URLs in the certificates it issues from now on; "
                    "'' removes them");
    cmd->add_option("--default-validity-days", u.default_validity_days,
                    "validity of issued certificates when a request names none (also set in the "
                    "CA's 'default' RA profile)");
    cmd->add_option("--crl-validity-hours", u.crl_validity_hours,
                    "nextUpdate - thisUpdate of full CRLs (default 24)");
    cmd->add_option("--crl-overlap-minutes", u.crl_overlap_minutes,
                    "regenerate CRLs this long before their nextUpdate (default 60)");
    cmd->add_option("--crl-on-revocation", o->crl_on_revocation,
                    "on|off: regenerate the CRL (or the delta) when a certificate is revoked "
                    "(default on)")
        ->check(CLI::IsMember({"on", "off"}));
    cmd->add_option("--delta-crls", o->delta_crls,
                    "on|off: publish delta CRLs at <base>/crl/<ca>-delta.crl (needs --base-url)")
        ->check(CLI::IsMember({"on", "off"}));
    cmd->add_option("--delta-crl-validity-minutes", u.delta_crl_validity_minutes,
                    "nextUpdate - thisUpdate of delta CRLs (default 60)");
    cmd->add_option("--crl-expired-grace-days", u.crl_expired_grace_days,
                    "leave entries off once their certificate expired this many days ago "
                    "(default 7; -1 keeps them forever)");
    cmd->add_option("--crl-history", u.crl_history, "stored CRLs kept per kind (default 10)");
    cmd->add_option("--ocsp-signing", o->ocsp_signing,
                    "ca: the CA key signs OCSP responses; delegated: a responder certificate "
                    "(id-kp-OCSPSigning, ocsp-nocheck) with its own token key, renewed "
                    "automatically")
        ->check(CLI::IsMember({"ca", "delegated"}));
    cmd->add_option("--ocsp-validity-minutes", u.ocsp_validity_minutes,
                    "nextUpdate - thisUpdate of OCSP responses (default 60)");
    cmd->add_option("--ocsp-signer-validity-days", u.ocsp_signer_validity_days,
                    "lifetime of delegated responder certificates (default 30)");
    cmd->add_option("--ocsp-signer-renew-before-days", u.ocsp_signer_renew_before_days,
                    "renew a delegated responder certificate this long before it expires "
                    "(default 10)");
    cmd->callback([&selected, o] {
      selected = [o](ApplianceContext& ctx) -> Result<void> {
        auto update = o->update;
        if (o->crl_on_revocation) update.crl_on_revocation = *o->crl_on_revocation == "on";
        if (o->delta_crls) update.delta_crls = *o->delta_crls == "on";
        if (o->ocsp_signing) {
          SIGNET_ASSIGN_OR_RETURN(update.ocsp_signing, ca::parse_ocsp_signing(*o->ocsp_signing));
        }
        if (update.empty()) {
          return Error(ErrorCode::kInvalidArgument,
                       "nothing to change: give at least one setting (see --help)");
        }
        SIGNET_ASSIGN_OR_RETURN(auto* authority, ctx.authority());
        SIGNET_ASSIGN_OR_RETURN(auto record, authority->update_settings(o->name, update));
        std::optional<ca::Profile> profile;
        if (update.default_validity_days) {
          SIGNET_ASSIGN_OR_RETURN(
              profile, follow_default_validity(ctx, o->name, *update.default_validity_days));
        }
        // A CA switched to a delegated responder gets its certificate now, not on the first
        // request.
        if (update.ocsp_signing == ca::OcspSigning::kDelegated) {
          SIGNET_ASSIGN_OR_RETURN(auto* signers, ctx.ocsp_signers());
          SIGNET_ASSIGN_OR_RETURN(auto due, signers->renewal_due(record));
          if (due) {
            SIGNET_TRY(signers->renew(record.name));
            SIGNET_ASSIGN_OR_RETURN(record, authority->find_ca(record.name));
          }
        }
        if (ctx.json()) {
          auto j = ca_json(record, ctx.clock().now());
          if (profile) j["default_profile_version"] = profile->version;
          print_json(j);
        } else {
          std::cout << "Updated CA '" << record.name << "'.\n";
          if (profile) {
            std::cout << "Its profile '" << profile->qualified_name() << "' (version "
                      << profile->version << ") issues for " << profile->validity.default_days
                      << " days unless a request says otherwise.\n";
          }
          print_ca(record, ctx.clock().now());
        }
        return base::ok();
      };
    });
  }
  {
    struct RevokeOptions {
      std::string name;
      RevocationOptions revocation;
    };
    auto o = std::make_shared<RevokeOptions>();
    auto* cmd = ca->add_subcommand(
        "revoke",
        "revoke an intermediate CA's certificate through its parent (it then appears on the "
        "parent's CRL and OCSP answers 'revoked'); the CA issues nothing more");
    cmd->add_option("name", o->name, "CA name")->required();
    add_revocation_options(cmd, o->revocation);
    cmd->callback([&selected, o] {
      selected = [o](ApplianceContext& ctx) -> Result<void> {
        SIGNET_ASSIGN_OR_RETURN(auto request, to_revoke_request(o->revocation));
        SIGNET_ASSIGN_OR_RETURN(auto* authority, ctx.authority());
        SIGNET_ASSIGN_OR_RETURN(auto record, authority->find_ca(o->name));
        if (record.external_parent) {
          return Error(ErrorCode::kInvalidArgument,
                       "CA '" + o->name +
                           "' was certified by an external root; revoke it there (its CRL "
                           "is not ours to sign)");
        }
        if (record.parent.empty()) {
          return Error(ErrorCode::kInvalidArgument,
                       "CA '" + o->name +
                           "' is a root: no issuer above it signs a CRL that could list it. "
                           "Withdraw it from the relying parties' trust stores instead");
        }
        SIGNET_ASSIGN_OR_RETURN(auto certificate, authority->ca_certificate_record(o->name));
        request.certificate_id = certificate.id;
        request.ca_certificate = true;
        SIGNET_ASSIGN_OR_RETURN(auto* service, ctx.service());
        SIGNET_ASSIGN_OR_RETURN(auto result, service->revoke(request));
        authority->forget_ca(o->name);
        refresh_after_revocation(ctx, record.parent);
        const auto now = ctx.clock().now();
        if (ctx.json()) {
          auto j = certificate_json(result.certificate, now);
          j["order_id"] = result.order.id;
          j["ca"] = o->name;
          print_json(j);
          return base::ok();
        }
        std::cout << "Revoked the certificate of CA '" << o->name << "' (serial "
                  << result.certificate.serial.to_hex() << ", order " << result.order.id
                  << ") on the CRL of '" << record.parent << "'. It issues nothing more.\n";
        return base::ok();
      };
    });
  }
  {
    struct RenewOptions {
      std::string name, new_key, token, csr_out;
      std::optional<int> days;
    };
    auto o = std::make_shared<RenewOptions>();
    auto* cmd = ca->add_subcommand(
        "renew",
        "a new certificate for a CA with the same key, or with --new-key a rollover to a new key "
        "generated on the token; the old certificate stays for verifying what it signed");
    cmd->add_option("name", o->name, "CA name")->required();
    cmd->add_option("--new-key", o->new_key,
                    "roll over to a new key of this algorithm (ec-p256, ec-p384, rsa-2048, "
                    "rsa-3072, rsa-4096, ed25519)");
    cmd->add_option("--token", o->token,
                    "with --new-key: the token that generates it (default: the old key's)");
    cmd->add_option("--days,--validity-days", o->days,
                    "validity of the new CA certificate (default: as at creation)");
    cmd->add_option("--csr-out", o->csr_out,
                    "for a CA signed by an external root: where to write the new CSR (PEM)");
    cmd->callback([&selected, o] {
      selected = [o](ApplianceContext& ctx) -> Result<void> {
        if (o->new_key.empty() && !o->token.empty()) {
          return Error(ErrorCode::kInvalidArgument,
                       "--token goes with --new-key (a renewal keeps the key where it is)");
        }
        ca::RenewCaRequest request;
        request.name = o->name;
        if (!o->new_key.empty()) {
          SIGNET_ASSIGN_OR_RETURN(request.new_key, base::parse_key_algorithm(o->new_key));
        }
        request.token = o->token;
        request.validity_days = o->days;
        SIGNET_ASSIGN_OR_RETURN(auto* authority, ctx.authority());
        SIGNET_ASSIGN_OR_RETURN(auto current, authority->find_ca(o->name));
        if (current.external_parent && o->csr_out.empty()) {
          return Error(ErrorCode::kInvalidArgument,
                       "CA '" + o->name +
                           "' is signed by an external root: give --csr-out FILE for the new CSR");
        }
        SIGNET_ASSIGN_OR_RETURN(auto record, authority->renew_ca(request));
        if (!record.pending_csr_der.empty() && !o->csr_out.empty()) {
          const std::string pem = pki::pem_encode("CERTIFICATE REQUEST", record.pending_csr_der);
          SIGNET_TRY(write_output(o->csr_out, base::as_bytes(pem)));
        }
        if (ctx.json()) {
          print_json(ca_json(record, ctx.clock().now()));
        } else {
          std::cout << (request.new_key ? "Rolled over" : "Renewed") << " CA '" << record.name
                    << "'"
                    << (record.state == ca::CaState::kAwaitingCertificate
                            ? ": send the new CSR to the external root, then 'ca import-cert'"
                            : "")
                    << ".\n";
          print_ca(record, ctx.clock().now());
        }
        return base::ok();
      };
    });
  }
  {
    struct ExportOptions {
      std::string name, format = "pem", out;
      bool chain = false;
    };
    auto o = std::make_shared<ExportOptions>();
    auto* cmd = ca->add_subcommand("export", "write a CA's certificate (or its chain)");
    cmd->add_option("name", o->name, "CA name")->required();
    cmd->add_option("--format", o->format, "pem or der")
        ->check(CLI::IsMember({"pem", "der"}))
        ->capture_default_str();
    cmd->add_flag("--chain", o->chain, "the CA certificate followed by its issuers (PEM only)");
    cmd->add_option("--out", o->out, "output file (default: stdout)");
    cmd->callback([&selected, o] {
      selected = [o](ApplianceContext& ctx) -> Result<void> {
        if (o->chain && o->format == "der") {
          return Error(ErrorCode::kInvalidArgument,
                       "a DER file holds one certificate; use --format pem with --chain");
        }
        SIGNET_ASSIGN_OR_RETURN(auto* authority, ctx.authority());
        SIGNET_ASSIGN_OR_RETURN(auto chain, authority->ca_chain(o->name));
        if (o->format == "der") return write_output(o->out, chain.front());
        std::string pem;
        for (std::size_t i = 0; i < (o->chain ? chain.size() : 1); ++i) {
          pem += pki::pem_encode("CERTIFICATE", chain[i]);
        }
        return write_output(o->out, base::as_bytes(pem));
      };
    });
  }
}

}  // namespace signet::appliance
