// signet order list | show | resubmit, alert list | ack | scan, crl generate | show | list |
// export | refresh and ocsp signer through signetd's REST API, with the flags and output of the
// local commands (order_commands.cpp, crl_commands.cpp).
#include <iostream>
#include <memory>

#include "appliance/cli/cert_support.h"
#include "appliance/cli/output.h"
#include "appliance/cli/remote.h"

namespace signet::appliance {
namespace {

using base::Error;
using base::ErrorCode;
using base::Result;
using nlohmann::json;

// ---- order ----

void register_order_list(CLI::App* order, RemoteAction& selected) {
  struct ListOptions {
    std::string status, kind;
    std::size_t limit = 50;
    std::uint64_t before = 0;
  };
  auto o = std::make_shared<ListOptions>();
  auto* cmd = order->add_subcommand("list", "list orders, newest first");
  cmd->add_option("--status", o->status, "pending, processing, complete or failed")
      ->check(CLI::IsMember({"pending", "processing", "complete", "failed"}));
  cmd->add_option("--kind", o->kind, "issue, renew, rekey, reissue or revoke")
      ->check(CLI::IsMember({"issue", "renew", "rekey", "reissue", "revoke"}));
  cmd->add_option("--limit", o->limit, "at most this many (1-1000)")->capture_default_str();
  cmd->add_option("--before", o->before, "only orders older than this id (the next page)");
  cmd->callback([&selected, o] {
    selected = [o](RemoteContext& ctx) -> Result<void> {
      if (o->limit < 1 || o->limit > 1000) {
        return Error(ErrorCode::kInvalidArgument, "--limit must be between 1 and 1000");
      }
      const std::string target =
          "/api/v1/orders" + query_string({{"status", o->status},
                                           {"kind", o->kind},
                                           {"limit", std::to_string(o->limit)},
                                           {"before", o->before ? std::to_string(o->before) : ""}});
      SIGNET_ASSIGN_OR_RETURN(auto reply, ctx.api.call("GET", target));
      const json items = reply.value("items", json::array());
      if (ctx.json) {
        print_json(items);
        return base::ok();
      }
      std::vector<std::vector<std::string>> rows;
      for (const auto& order : items) {
        const std::string cn = json_text(order, "common_name");
        const std::string profile = json_text(order, "profile");
        const auto warnings = order.value("warnings", json::array()).size();
        rows.push_back({json_text(order, "id"), json_text(order, "kind"),
                        json_text(order, "status"), cn.empty() ? "-" : cn,
                        profile.empty() ? "-" : profile, json_text(order, "key_source"),
                        json_text(order, "created_at"),
                        json_text(order, "status") == "failed" ? json_text(order, "error_message")
                        : warnings == 0                        ? ""
                                        : std::to_string(warnings) + " warning(s)"});
      }
      print_table(
          {"ID", "KIND", "STATUS", "COMMON NAME", "PROFILE", "KEY SOURCE", "CREATED", "NOTE"},
          rows);
      return base::ok();
    };
  });
}

std::string order_target(std::uint64_t id, const std::string& rest = "") {
  return "/api/v1/orders/" + std::to_string(id) + rest;
}

void register_order_show(CLI::App* order, RemoteAction& selected) {
  auto id = std::make_shared<std::uint64_t>(0);
  auto* cmd = order->add_subcommand(
      "show", "show an order: what was asked, by whom, its status, result or error");
  cmd->add_option("id", *id, "order id")->required();
  cmd->callback([&selected, id] {
    selected = [id](RemoteContext& ctx) -> Result<void> {
      SIGNET_ASSIGN_OR_RETURN(auto order, ctx.api.call("GET", order_target(*id)));
      if (ctx.json) {
        print_json(order);
        return base::ok();
      }
      print_order_json(order);
      const std::string parameters = json_text(order, "parameters");
      if (!parameters.empty()) std::cout << "Parameters:            " << parameters << "\n";
      return base::ok();
    };
  });
}

void register_order_resubmit(CLI::App* order, RemoteAction& selected) {
  struct ResubmitOptions {
    std::uint64_t id = 0;
    ResultOutput output;
  };
  auto o = std::make_shared<ResubmitOptions>();
  auto* cmd = order->add_subcommand("resubmit",
                                    "run a failed order's original request again, as a new order");
  cmd->add_option("id", o->id, "the failed order's id")->required();
  cmd->add_option("--out", o->output.out, "write the certificate (PEM) here");
  cmd->add_flag("--chain", o->output.chain, "append the issuing CA chain to the PEM");
  cmd->add_option("--pfx-out", o->output.pfx_out,
                  "for a local-key order: write the new PKCS#12 here (mode 0600)");
  cmd->add_option("--password-out", o->output.password_out,
                  "write the PKCS#12 password to this new file (mode 0600) instead of stderr");
  cmd->callback([&selected, o] {
    selected = [o](RemoteContext& ctx) -> Result<void> {
      SIGNET_ASSIGN_OR_RETURN(auto failed, ctx.api.call("GET", order_target(o->id)));
      const bool local = json_text(failed, "key_source") == "local-key";
      if (local && o->output.pfx_out.empty()) {
        return Error(ErrorCode::kInvalidArgument,
                     "order " + std::to_string(o->id) +
                         " delivers a local key as PKCS#12: give --pfx-out FILE");
      }
      if (!local && (!o->output.pfx_out.empty() || !o->output.password_out.empty())) {
        return Error(ErrorCode::kInvalidArgument,
                     "--pfx-out and --password-out go with orders that used --local-key");
      }
      SIGNET_TRY(check_password_out(o->output.password_out));
      const json body = json::object();
      SIGNET_ASSIGN_OR_RETURN(auto reply,
                              ctx.api.call("POST", order_target(o->id, "/resubmit"), &body));
      if (reply.contains("order") && json_text(reply["order"], "kind") == "revoke") {
        if (ctx.json) {
          print_json(reply);
        } else {
          std::cout << "Revoked certificate " << json_text(reply, "serial") << " (order "
                    << json_text(reply, "order_id") << ", resubmitting " << o->id << ").\n";
        }
        return base::ok();
      }
      return show_remote_order_result(ctx, std::move(reply), o->output,
                                      "Resubmitted order " + std::to_string(o->id) + ":");
    };
  });
}

// ---- alert ----

void register_alert_list(CLI::App* alert, RemoteAction& selected) {
  struct ListOptions {
    bool all = false;
    std::size_t limit = 100;
  };
  auto o = std::make_shared<ListOptions>();
  auto* cmd = alert->add_subcommand("list", "list open alerts, newest first");
  cmd->add_flag("--all", o->all, "include acknowledged alerts");
  cmd->add_option("--limit", o->limit, "at most this many")->capture_default_str();
  cmd->callback([&selected, o] {
    selected = [o](RemoteContext& ctx) -> Result<void> {
      const std::string target =
          "/api/v1/alerts" + query_string({{"include_acknowledged", o->all ? "true" : ""},
                                           {"limit", std::to_string(o->limit)}});
      SIGNET_ASSIGN_OR_RETURN(auto reply, ctx.api.call("GET", target));
      const json items = reply.value("items", json::array());
      if (ctx.json) {
        print_json(items);
        return base::ok();
      }
      std::vector<std::vector<std::string>> rows;
      for (const auto& a : items) {
        rows.push_back({json_text(a, "id"), json_text(a, "raised_at"), json_text(a, "kind"),
                        json_text(a, "object"),
                        a.value("acknowledged", false) ? "acknowledged" : "open",
                        json_text(a, "message")});
      }
      print_table({"ID", "RAISED", "KIND", "OBJECT", "STATE", "MESSAGE"}, rows);
      return base::ok();
    };
  });
}

void register_alert_ack(CLI::App* alert, RemoteAction& selected) {
  auto id = std::make_shared<std::uint64_t>(0);
  auto* cmd = alert->add_subcommand("ack", "acknowledge an alert");
  cmd->add_option("id", *id, "alert id")->required();
  cmd->callback([&selected, id] {
    selected = [id](RemoteContext& ctx) -> Result<void> {
      const json body = json::object();
      SIGNET_ASSIGN_OR_RETURN(
          auto a,
          ctx.api.call("POST", "/api/v1/alerts/" + std::to_string(*id) + "/acknowledge", &body));
      if (ctx.json) {
        print_json(a);
      } else {
        std::cout << "Acknowledged alert " << json_text(a, "id") << " (" << json_text(a, "kind")
                  << ", " << json_text(a, "object") << ").\n";
      }
      return base::ok();
    };
  });
}

void register_alert_scan(CLI::App* alert, RemoteAction& selected) {
  auto days = std::make_shared<int>(30);
  auto* cmd = alert->add_subcommand(
      "scan", "raise an alert for every active certificate expiring within --days");
  cmd->add_option("--days", *days, "expiring within this many days")->capture_default_str();
  cmd->callback([&selected, days] {
    selected = [days](RemoteContext& ctx) -> Result<void> {
      if (*days < 0) return Error(ErrorCode::kInvalidArgument, "--days must not be negative");
      const json body = {{"days", *days}};
      SIGNET_ASSIGN_OR_RETURN(auto reply, ctx.api.call("POST", "/api/v1/alerts/scan", &body));
      if (ctx.json) {
        print_json(reply);
      } else {
        std::cout << json_text(reply, "expiring") << " active certificate(s) expire within "
                  << *days << " days; raised " << json_text(reply, "raised")
                  << " new alert(s) (see 'signet alert list').\n";
      }
      return base::ok();
    };
  });
}

// ---- crl ----

std::string crls_target(const std::string& ca_name, const std::string& rest = "") {
  return "/api/v1/cas/" + url_encode(ca_name) + "/crls" + rest;
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

// The selected CRL in `format` (der, pem or json).
std::string selected_crl_target(const Selection& s, const std::string& format) {
  if (s.number) {
    return crls_target(s.ca, "/" + std::to_string(*s.number)) + query_string({{"format", format}});
  }
  return crls_target(s.ca, "/latest") +
         query_string({{"kind", s.delta ? "delta" : ""}, {"format", format}});
}

void register_crl_generate(CLI::App* crl, RemoteAction& selected) {
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
    selected = [o](RemoteContext& ctx) -> Result<void> {
      const json body = {{"kind", o->delta ? "delta" : "full"}};
      SIGNET_ASSIGN_OR_RETURN(auto j, ctx.api.call("POST", crls_target(o->ca), &body));
      if (ctx.json) {
        print_json(j);
      } else {
        std::cout << "Generated " << json_text(j, "kind") << " CRL " << json_text(j, "number")
                  << " of CA '" << json_text(j, "ca") << "' (" << json_text(j, "entries")
                  << " entries).\n";
        std::cout.flush();
        print_crl_json(j);
      }
      return base::ok();
    };
  });
}

void register_crl_show(CLI::App* crl, RemoteAction& selected) {
  auto s = std::make_shared<Selection>();
  auto* cmd = crl->add_subcommand("show", "show a stored CRL (the latest full one by default)");
  add_selection(cmd, *s);
  cmd->callback([&selected, s] {
    selected = [s](RemoteContext& ctx) -> Result<void> {
      SIGNET_ASSIGN_OR_RETURN(auto j, ctx.api.call("GET", selected_crl_target(*s, "json")));
      if (ctx.json) {
        print_json(j);
      } else {
        print_crl_json(j);
      }
      return base::ok();
    };
  });
}

void register_crl_list(CLI::App* crl, RemoteAction& selected) {
  struct Options {
    std::string ca;
    std::size_t limit = 20;
  };
  auto o = std::make_shared<Options>();
  auto* cmd = crl->add_subcommand("list", "the CA's stored CRLs, newest first");
  cmd->add_option("--ca", o->ca, "CA name")->required();
  cmd->add_option("--limit", o->limit, "at most this many (1..1000)")->capture_default_str();
  cmd->callback([&selected, o] {
    selected = [o](RemoteContext& ctx) -> Result<void> {
      if (o->limit < 1 || o->limit > 1000) {
        return Error(ErrorCode::kInvalidArgument, "--limit must be between 1 and 1000");
      }
      SIGNET_ASSIGN_OR_RETURN(
          auto reply, ctx.api.call("GET", crls_target(o->ca) +
                                              query_string({{"limit", std::to_string(o->limit)}})));
      const json items = reply.value("items", json::array());
      if (ctx.json) {
        print_json({{"items", items}});
        return base::ok();
      }
      std::vector<std::vector<std::string>> rows;
      for (const auto& c : items) {
        rows.push_back({json_text(c, "number"), json_text(c, "kind"),
                        json_text(c, "kind") == "delta" ? json_text(c, "base_number") : "",
                        json_text(c, "this_update"), json_text(c, "next_update"),
                        json_text(c, "entries"), json_text(c, "size")});
      }
      print_table({"NUMBER", "KIND", "BASE", "THIS UPDATE", "NEXT UPDATE", "ENTRIES", "BYTES"},
                  rows);
      return base::ok();
    };
  });
}

void register_crl_export(CLI::App* crl, RemoteAction& selected) {
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
    selected = [o](RemoteContext& ctx) -> Result<void> {
      SIGNET_ASSIGN_OR_RETURN(auto data,
                              ctx.api.download(selected_crl_target(o->selection, o->format)));
      return write_output(o->out, base::as_bytes(data));
    };
  });
}

// What the refresh did, as report_revocation_work() shows it.
Result<void> report_done(RemoteContext& ctx, const json& reply) {
  const json items = reply.value("done", json::array());
  std::size_t failed = 0;
  for (const auto& o : items) {
    if (!o.value("ok", false)) ++failed;
    if (ctx.json) continue;
    std::cout << json_text(o, "ca") << ": " << json_text(o, "work") << " (" << json_text(o, "why")
              << "): ";
    if (!o.value("ok", false)) {
      std::cout << "FAILED: " << json_text(o, "error") << "\n";
    } else if (o.contains("crl")) {
      std::cout << "CRL " << json_text(o["crl"], "number") << ", " << json_text(o["crl"], "entries")
                << " entries, next update " << json_text(o["crl"], "next_update") << "\n";
    } else {
      std::cout << "done\n";
    }
  }
  if (ctx.json) print_json({{"done", items}});
  if (!ctx.json && items.empty()) std::cout << "Nothing was due.\n";
  if (failed > 0) {
    return Error(ErrorCode::kInternal,
                 std::to_string(failed) + " of " + std::to_string(items.size()) +
                     " revocation tasks failed (see above); the others were done");
  }
  return base::ok();
}

void register_crl_refresh(CLI::App* crl, RemoteAction& selected) {
  struct Options {
    std::string ca;
    bool dry_run = false;
  };
  auto o = std::make_shared<Options>();
  auto* cmd = crl->add_subcommand(
      "refresh",
      "do the revocation work that is due: CRLs near their nextUpdate or behind a revocation, "
      "missing delta CRLs, delegated OCSP responder certificates near expiry");
  cmd->add_option("--ca", o->ca, "only this CA");
  cmd->add_flag("--dry-run", o->dry_run, "only say what is due");
  cmd->callback([&selected, o] {
    selected = [o](RemoteContext& ctx) -> Result<void> {
      json body = {{"dry_run", o->dry_run}};
      if (!o->ca.empty()) body["ca"] = o->ca;
      SIGNET_ASSIGN_OR_RETURN(auto reply, ctx.api.call("POST", "/api/v1/crls/refresh", &body));
      if (!o->dry_run) return report_done(ctx, reply);
      if (ctx.json) {
        print_json(reply);
        return base::ok();
      }
      const json due = reply.value("due", json::array());
      if (due.empty()) std::cout << "Nothing is due.\n";
      for (const auto& w : due) {
        std::cout << json_text(w, "ca") << ": " << json_text(w, "work") << " ("
                  << json_text(w, "why") << ")\n";
      }
      const std::string wakeup = json_text(reply, "next_wakeup");
      if (!wakeup.empty()) std::cout << "Next due: " << wakeup << "\n";
      return base::ok();
    };
  });
}

}  // namespace

void register_remote_order_commands(CLI::App& app, RemoteAction& selected) {
  auto* order = app.add_subcommand(
      "order",
      "orders: every issue, renew, rekey, reissue and revoke request; list, show, resubmit");
  order->require_subcommand(1);
  register_order_list(order, selected);
  register_order_show(order, selected);
  register_order_resubmit(order, selected);
}

void register_remote_alert_commands(CLI::App& app, RemoteAction& selected) {
  auto* alert =
      app.add_subcommand("alert", "alerts (failed orders, expiring certificates): list, ack, scan");
  alert->require_subcommand(1);
  register_alert_list(alert, selected);
  register_alert_ack(alert, selected);
  register_alert_scan(alert, selected);
}

void register_remote_crl_commands(CLI::App& app, RemoteAction& selected) {
  auto* crl = app.add_subcommand("crl", "certificate revocation lists (full and delta)");
  crl->require_subcommand(1);
  register_crl_generate(crl, selected);
  register_crl_show(crl, selected);
  register_crl_list(crl, selected);
  register_crl_export(crl, selected);
  register_crl_refresh(crl, selected);
}

void register_remote_ocsp_commands(CLI::App& app, RemoteAction& selected) {
  auto* ocsp = app.add_subcommand("ocsp", "the OCSP responder (RFC 6960 / RFC 5019)");
  ocsp->require_subcommand(1);
  struct Options {
    std::string ca;
    bool renew = false;
  };
  auto o = std::make_shared<Options>();
  auto* cmd = ocsp->add_subcommand(
      "signer",
      "show the key that signs a CA's OCSP responses; with --renew, issue a new delegated "
      "responder certificate now");
  cmd->add_option("--ca", o->ca, "CA name")->required();
  cmd->add_flag("--renew", o->renew, "issue a new delegated responder certificate (new key)");
  cmd->callback([&selected, o] {
    selected = [o](RemoteContext& ctx) -> Result<void> {
      const std::string target = "/api/v1/cas/" + url_encode(o->ca) + "/ocsp-signer";
      const json body = json::object();
      SIGNET_ASSIGN_OR_RETURN(
          auto j, o->renew ? ctx.api.call("POST", target, &body) : ctx.api.call("GET", target));
      if (ctx.json) {
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

}  // namespace signet::appliance
