// signet crl generate | show | list | export | refresh, and signet ocsp respond | signer:
// the revocation services (crl/) as an operator drives them before signetd serves them.
#include <iostream>
#include <memory>

#include "appliance/cli/commands.h"
#include "appliance/cli/output.h"
#include "pki/crl.h"
#include "pki/digest.h"
#include "pki/ocsp.h"
#include "pki/pem.h"

namespace signet::appliance {

using base::Error;
using base::ErrorCode;
using base::Result;

namespace {

nlohmann::json crl_json(const ca::CrlRecord& crl, base::TimePoint now) {
  nlohmann::json j = {{"ca", crl.ca_name},
                      {"number", crl.number},
                      {"kind", std::string(ca::to_string(crl.kind))},
                      {"this_update", format_time(crl.this_update)},
                      {"next_update", format_time(crl.next_update)},
                      {"entries", crl.entries},
                      {"size", crl.der_size},
                      {"revocation_sequence", crl.revocation_sequence},
                      {"expired", now >= crl.next_update}};
  if (crl.kind == ca::CrlKind::kDelta) j["base_number"] = crl.base_number;
  return j;
}

struct Selection {
  std::string ca;
  std::optional<std::uint64_t> number;
  bool delta = false;
};

void add_selection(CLI::App* cmd, Selection& s) {
  cmd->add_option("--ca", s.ca, "CA name")->required();
  auto* number = cmd->add_option("--number", s.number, "a CRL number from the history");
  cmd->add_flag("--delta", s.delta, "the latest delta CRL instead of the latest full CRL")
      ->excludes(number);
}

Result<ca::CrlRecord> selected_crl(ApplianceContext& ctx, const Selection& s) {
  SIGNET_ASSIGN_OR_RETURN(auto* crls, ctx.crl_service());
  if (s.number) return crls->find(s.ca, *s.number);
  return crls->latest(s.ca, s.delta ? ca::CrlKind::kDelta : ca::CrlKind::kFull);
}

nlohmann::json outcome_json(const crl::WorkOutcome& o, base::TimePoint now) {
  nlohmann::json j = {{"ca", o.work.ca_name},
                      {"work", std::string(crl::to_string(o.work.what))},
                      {"why", o.work.why},
                      {"ok", !o.error}};
  if (o.crl) j["crl"] = crl_json(*o.crl, now);
  if (o.error) j["error"] = o.error->describe();
  return j;
}

void register_generate(CLI::App* crl, Action& selected) {
  struct Options {
    std::string ca;
    bool delta = false;
  };
  auto o = std::make_shared<Options>();
  auto* cmd =
      crl->add_subcommand("generate", "generate, sign (on the CA's token) and store a CRL now");
  cmd->add_option("--ca", o->ca, "CA name")->required();
  cmd->add_flag("--delta", o->delta, "a delta CRL over the latest full CRL (RFC 5280 §5.2.4)");
  cmd->callback([&selected, o] {
    selected = [o](ApplianceContext& ctx) -> Result<void> {
      SIGNET_ASSIGN_OR_RETURN(auto* crls, ctx.crl_service());
      SIGNET_ASSIGN_OR_RETURN(auto record,
                              o->delta ? crls->generate_delta(o->ca) : crls->generate_full(o->ca));
      auto j = crl_json(record, ctx.clock().now());
      if (ctx.json()) {
        print_json(j);
      } else {
        std::cout << "Generated " << ca::to_string(record.kind) << " CRL " << record.number
                  << " of CA '" << record.ca_name << "' (" << record.entries << " entries).\n";
        print_crl_json(j);
      }
      return base::ok();
    };
  });
}

void register_show(CLI::App* crl, Action& selected) {
  auto s = std::make_shared<Selection>();
  auto* cmd = crl->add_subcommand("show", "show a stored CRL (the latest full one by default)");
  add_selection(cmd, *s);
  cmd->callback([&selected, s] {
    selected = [s](ApplianceContext& ctx) -> Result<void> {
      SIGNET_ASSIGN_OR_RETURN(auto record, selected_crl(ctx, *s));
      auto j = crl_json(record, ctx.clock().now());
      // What a relying party's parser reads from the stored bytes.
      SIGNET_ASSIGN_OR_RETURN(auto info, pki::inspect_crl(record.der));
      j["issuer"] = info.issuer;
      j["signature_algorithm"] = info.signature_algorithm;
      if (!info.freshest_crl_url.empty()) j["freshest_crl_url"] = info.freshest_crl_url;
      j["sha256"] = colon_hex(pki::sha256(record.der));
      if (ctx.json()) {
        print_json(j);
      } else {
        print_crl_json(j);
      }
      return base::ok();
    };
  });
}

void register_list(CLI::App* crl, Action& selected) {
  struct Options {
    std::string ca;
    std::size_t limit = 20;
  };
  auto o = std::make_shared<Options>();
  auto* cmd = crl->add_subcommand("list", "the CA's stored CRLs, newest first");
  cmd->add_option("--ca", o->ca, "CA name")->required();
  cmd->add_option("--limit", o->limit, "at most this many (1..1000)")->capture_default_str();
  cmd->callback([&selected, o] {
    selected = [o](ApplianceContext& ctx) -> Result<void> {
      if (o->limit < 1 || o->limit > 1000) {
        return Error(ErrorCode::kInvalidArgument, "--limit must be between 1 and 1000");
      }
      SIGNET_ASSIGN_OR_RETURN(auto* cas, ctx.cas());
      SIGNET_ASSIGN_OR_RETURN(auto ca, cas->find_ca(o->ca));
      if (!ca) return Error(ErrorCode::kNotFound, "no CA named '" + o->ca + "'");
      SIGNET_ASSIGN_OR_RETURN(auto* log, ctx.crl_log());
      SIGNET_ASSIGN_OR_RETURN(auto crls, log->list_crls(o->ca, o->limit));
      const auto now = ctx.clock().now();
      if (ctx.json()) {
        nlohmann::json items = nlohmann::json::array();
        for (const auto& c : crls) items.push_back(crl_json(c, now));
        print_json({{"items", items}});
        return base::ok();
      }
      std::vector<std::vector<std::string>> rows;
      for (const auto& c : crls) {
        rows.push_back({std::to_string(c.number), std::string(ca::to_string(c.kind)),
                        c.kind == ca::CrlKind::kDelta ? std::to_string(c.base_number) : "",
                        format_time(c.this_update), format_time(c.next_update),
                        std::to_string(c.entries), std::to_string(c.der_size)});
      }
      print_table({"NUMBER", "KIND", "BASE", "THIS UPDATE", "NEXT UPDATE", "ENTRIES", "BYTES"},
                  rows);
      return base::ok();
    };
  });
}

void register_export(CLI::App* crl, Action& selected) {
  struct Options {
    Selection selection;
    std::string format = "pem", out;
  };
  auto o = std::make_shared<Options>();
  auto* cmd = crl->add_subcommand("export", "write a stored CRL (the latest full one by default)");
  add_selection(cmd, o->selection);
  cmd->add_option("--format", o->format, "pem or der")
      ->check(CLI::IsMember({"pem", "der"}))
      ->capture_default_str();
  cmd->add_option("--out", o->out, "file to write (default: stdout)");
  cmd->callback([&selected, o] {
    selected = [o](ApplianceContext& ctx) -> Result<void> {
      SIGNET_ASSIGN_OR_RETURN(auto record, selected_crl(ctx, o->selection));
      if (o->format == "der") return write_output(o->out, record.der);
      const auto pem = pki::pem_encode("X509 CRL", record.der);
      return write_output(o->out, base::as_bytes(pem));
    };
  });
}

void register_refresh(CLI::App* crl, Action& selected) {
  struct Options {
    std::string ca;
    bool dry_run = false;
  };
  auto o = std::make_shared<Options>();
  auto* cmd = crl->add_subcommand(
      "refresh",
      "do the revocation work that is due: CRLs near their nextUpdate or behind a revocation, "
      "missing delta CRLs, delegated OCSP responder certificates near expiry (run it from a "
      "timer until signetd schedules it)");
  cmd->add_option("--ca", o->ca, "only this CA");
  cmd->add_flag("--dry-run", o->dry_run, "only say what is due");
  cmd->callback([&selected, o] {
    selected = [o](ApplianceContext& ctx) -> Result<void> {
      SIGNET_ASSIGN_OR_RETURN(auto* scheduler, ctx.scheduler());
      const auto now = ctx.clock().now();
      if (o->dry_run) {
        SIGNET_ASSIGN_OR_RETURN(auto work, scheduler->due(o->ca));
        SIGNET_ASSIGN_OR_RETURN(auto wakeup, scheduler->next_wakeup());
        if (ctx.json()) {
          nlohmann::json items = nlohmann::json::array();
          for (const auto& w : work) {
            items.push_back(
                {{"ca", w.ca_name}, {"work", std::string(crl::to_string(w.what))}, {"why", w.why}});
          }
          print_json({{"due", items},
                      {"next_wakeup", wakeup ? nlohmann::json(format_time(*wakeup)) : nullptr}});
          return base::ok();
        }
        if (work.empty()) std::cout << "Nothing is due.\n";
        for (const auto& w : work) {
          std::cout << w.ca_name << ": " << crl::to_string(w.what) << " (" << w.why << ")\n";
        }
        if (wakeup) std::cout << "Next due: " << format_time(*wakeup) << "\n";
        return base::ok();
      }
      SIGNET_ASSIGN_OR_RETURN(auto outcomes, scheduler->run_due(o->ca));
      return report_revocation_work(ctx, outcomes, now);
    };
  });
}

}  // namespace

Result<void> report_revocation_work(ApplianceContext& ctx,
                                    const std::vector<crl::WorkOutcome>& outcomes,
                                    base::TimePoint now) {
  std::size_t failed = 0;
  nlohmann::json items = nlohmann::json::array();
  for (const auto& o : outcomes) {
    if (o.error) ++failed;
    items.push_back(outcome_json(o, now));
    if (ctx.json()) continue;
    std::cout << o.work.ca_name << ": " << crl::to_string(o.work.what) << " (" << o.work.why
              << "): ";
    if (o.error) {
      std::cout << "FAILED: " << o.error->describe() << "\n";
    } else if (o.crl) {
      std::cout << "CRL " << o.crl->number << ", " << o.crl->entries << " entries, next update "
                << format_time(o.crl->next_update) << "\n";
    } else {
      std::cout << "done\n";
    }
  }
  if (ctx.json()) print_json({{"done", items}});
  if (!ctx.json() && outcomes.empty()) std::cout << "Nothing was due.\n";
  if (failed > 0) {
    return Error(ErrorCode::kInternal,
                 std::to_string(failed) + " of " + std::to_string(outcomes.size()) +
                     " revocation tasks failed (see above); the others were done");
  }
  return base::ok();
}

void refresh_after_revocation(ApplianceContext& ctx, const std::string& ca_name) {
  if (ca_name.empty()) return;  // a discovered certificate: not on any CRL of ours
  auto scheduler = ctx.scheduler();
  auto outcomes = scheduler ? (*scheduler)->on_revocation(ca_name)
                            : Result<std::vector<crl::WorkOutcome>>(scheduler.error());
  if (!outcomes) {
    std::cerr << "signet: warning: the revocation is recorded, but CA '" << ca_name
              << "''s CRL was not regenerated: " << outcomes.error().describe()
              << " ('signet crl refresh' retries)\n";
    return;
  }
  for (const auto& o : *outcomes) {
    if (o.error) {
      std::cerr << "signet: warning: the revocation is recorded, but "
                << crl::to_string(o.work.what) << " of CA '" << ca_name
                << "' failed: " << o.error->describe() << " ('signet crl refresh' retries)\n";
    } else if (o.crl) {
      std::cerr << "signet: " << crl::to_string(o.work.what) << " " << o.crl->number << " of CA '"
                << ca_name << "' now lists " << o.crl->entries << " revoked certificates\n";
    }
  }
}

void register_crl_commands(CLI::App& app, Action& selected) {
  auto* crl = app.add_subcommand("crl", "certificate revocation lists (full and delta)");
  crl->require_subcommand(1);
  register_generate(crl, selected);
  register_show(crl, selected);
  register_list(crl, selected);
  register_export(crl, selected);
  register_refresh(crl, selected);
}

void register_ocsp_commands(CLI::App& app, Action& selected) {
  auto* ocsp = app.add_subcommand("ocsp", "the OCSP responder (RFC 6960 / RFC 5019)");
  ocsp->require_subcommand(1);
  {
    struct Options {
      std::string in, out;
    };
    auto o = std::make_shared<Options>();
    auto* cmd = ocsp->add_subcommand(
        "respond", "answer one DER OCSPRequest with a DER OCSPResponse, as the responder would");
    cmd->add_option("--in", o->in, "the request (DER)")->required();
    cmd->add_option("--out", o->out, "where to write the response (DER; default stdout)");
    cmd->callback([&selected, o] {
      selected = [o](ApplianceContext& ctx) -> Result<void> {
        SIGNET_ASSIGN_OR_RETURN(auto request, read_input_file(o->in));
        SIGNET_ASSIGN_OR_RETURN(auto* responder, ctx.ocsp_responder());
        auto outcome = responder->handle(request);
        SIGNET_TRY(write_output(o->out, outcome.response));
        if (outcome.status != pki::OcspResponseStatus::kSuccessful) {
          return Error(ErrorCode::kInvalidArgument,
                       "the response written is '" + std::string(pki::to_string(outcome.status)) +
                           "': " + outcome.error);
        }
        return base::ok();
      };
    });
  }
  {
    struct Options {
      std::string ca;
      bool renew = false;
    };
    auto o = std::make_shared<Options>();
    auto* cmd = ocsp->add_subcommand(
        "signer",
        "show the key that signs a CA's OCSP responses; with --renew, issue a new "
        "delegated responder certificate now");
    cmd->add_option("--ca", o->ca, "CA name")->required();
    cmd->add_flag("--renew", o->renew, "issue a new delegated responder certificate (new key)");
    cmd->callback([&selected, o] {
      selected = [o](ApplianceContext& ctx) -> Result<void> {
        SIGNET_ASSIGN_OR_RETURN(auto* signers, ctx.ocsp_signers());
        SIGNET_ASSIGN_OR_RETURN(auto* cas, ctx.cas());
        if (o->renew) {
          SIGNET_ASSIGN_OR_RETURN(auto found, cas->find_ca(o->ca));
          if (!found) return Error(ErrorCode::kNotFound, "no CA named '" + o->ca + "'");
          if (found->settings.ocsp_signing != ca::OcspSigning::kDelegated) {
            return Error(ErrorCode::kInvalidArgument,
                         "CA '" + o->ca +
                             "' signs OCSP responses with its own key; set "
                             "'signet ca set " +
                             o->ca + " --ocsp-signing delegated' first");
          }
          SIGNET_TRY(signers->renew(o->ca));
        }
        SIGNET_ASSIGN_OR_RETURN(auto found, cas->find_ca(o->ca));
        if (!found) return Error(ErrorCode::kNotFound, "no CA named '" + o->ca + "'");
        SIGNET_ASSIGN_OR_RETURN(auto key, signers->current(*found));
        nlohmann::json j = {{"ca", o->ca},
                            {"signing", std::string(ca::to_string(found->settings.ocsp_signing))},
                            {"key_uri", key.signer->key_ref().to_uri()},
                            {"responder_key_hash", base::to_hex(key.responder_key_hash)},
                            {"not_after", format_time(key.not_after)}};
        if (!key.certificate_der.empty()) {
          j["certificate_id"] = found->ocsp_signer_certificate_id;
          j["certificate_pem"] = pki::pem_encode("CERTIFICATE", key.certificate_der);
        }
        if (ctx.json()) {
          print_json(j);
        } else {
          print_fields(j, {{"ca", "CA"},
                           {"signing", "Signing"},
                           {"key_uri", "Key"},
                           {"certificate_id", "Responder certificate id"},
                           {"not_after", "Valid to"},
                           {"responder_key_hash", "Responder key hash"}});
        }
        return base::ok();
      };
    });
  }
}

}  // namespace signet::appliance
