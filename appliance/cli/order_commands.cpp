// signet order list | show | resubmit, and signet alert list | ack | scan.
#include <algorithm>
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

Result<ca::Order> find_order(ApplianceContext& ctx, std::uint64_t id) {
  SIGNET_ASSIGN_OR_RETURN(auto* orders, ctx.orders());
  SIGNET_ASSIGN_OR_RETURN(auto found, orders->find_order(id));
  if (!found) return Error(ErrorCode::kNotFound, "no order has id " + std::to_string(id));
  return std::move(*found);
}

void register_order_list(CLI::App* order, Action& selected) {
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
    selected = [o](ApplianceContext& ctx) -> Result<void> {
      ca::OrderQuery query;
      if (!o->status.empty()) {
        SIGNET_ASSIGN_OR_RETURN(query.status, ca::parse_order_status(o->status));
      }
      if (!o->kind.empty()) {
        SIGNET_ASSIGN_OR_RETURN(query.kind, ca::parse_order_kind(o->kind));
      }
      if (o->limit < 1 || o->limit > 1000) {
        return Error(ErrorCode::kInvalidArgument, "--limit must be between 1 and 1000");
      }
      query.limit = o->limit;
      query.before = o->before;
      SIGNET_ASSIGN_OR_RETURN(auto* orders, ctx.orders());
      SIGNET_ASSIGN_OR_RETURN(auto list, orders->list_orders(query));
      const auto now = ctx.clock().now();
      if (ctx.json()) {
        nlohmann::json items = nlohmann::json::array();
        for (const auto& order : list) items.push_back(order_json(order, now));
        print_json(items);
        return base::ok();
      }
      std::vector<std::vector<std::string>> rows;
      for (const auto& order : list) {
        rows.push_back({std::to_string(order.id), std::string(ca::to_string(order.kind)),
                        std::string(ca::to_string(order.status)),
                        order.common_name.empty() ? "-" : order.common_name,
                        order.profile.empty() ? "-" : order.ca_name + "/" + order.profile,
                        std::string(ca::to_string(order.key_source)), format_time(order.created_at),
                        order.status == ca::OrderStatus::kFailed ? order.error_message
                        : order.warnings.empty()
                            ? ""
                            : std::to_string(order.warnings.size()) + " warning(s)"});
      }
      print_table(
          {"ID", "KIND", "STATUS", "COMMON NAME", "PROFILE", "KEY SOURCE", "CREATED", "NOTE"},
          rows);
      return base::ok();
    };
  });
}

void register_order_show(CLI::App* order, Action& selected) {
  auto id = std::make_shared<std::uint64_t>(0);
  auto* cmd = order->add_subcommand(
      "show", "show an order: what was asked, by whom, its status, result or error");
  cmd->add_option("id", *id, "order id")->required();
  cmd->callback([&selected, id] {
    selected = [id](ApplianceContext& ctx) -> Result<void> {
      SIGNET_ASSIGN_OR_RETURN(auto order, find_order(ctx, *id));
      const auto now = ctx.clock().now();
      if (ctx.json()) {
        print_json(order_json(order, now));
      } else {
        print_order(order, now);
        if (!order.parameters.empty())
          std::cout << "Parameters:            " << order.parameters << "\n";
      }
      return base::ok();
    };
  });
}

void register_order_resubmit(CLI::App* order, Action& selected) {
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
    selected = [o](ApplianceContext& ctx) -> Result<void> {
      SIGNET_ASSIGN_OR_RETURN(auto failed, find_order(ctx, o->id));
      const bool local = failed.key_source == ca::KeySourceKind::kLocalKey;
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
      SIGNET_ASSIGN_OR_RETURN(auto* service, ctx.service());
      SIGNET_ASSIGN_OR_RETURN(auto result, service->resubmit(o->id));
      if (result.order.kind == ca::OrderKind::kRevoke) {
        const auto now = ctx.clock().now();
        if (ctx.json()) {
          auto j = certificate_json(result.certificate, now);
          j["order"] = order_json(result.order, now);
          j["order_id"] = result.order.id;
          print_json(j);
        } else {
          std::cout << "Revoked certificate " << result.certificate.serial.to_hex() << " (order "
                    << result.order.id << ", resubmitting " << o->id << ").\n";
        }
        return base::ok();
      }
      return show_order_result(ctx, result, o->output,
                               "Resubmitted order " + std::to_string(o->id) + ":");
    };
  });
}

}  // namespace

void register_order_commands(CLI::App& app, Action& selected) {
  auto* order = app.add_subcommand(
      "order",
      "orders: every issue, renew, rekey, reissue and revoke request; list, show, resubmit");
  order->require_subcommand(1);
  register_order_list(order, selected);
  register_order_show(order, selected);
  register_order_resubmit(order, selected);
}

void register_alert_commands(CLI::App& app, Action& selected) {
  auto* alert =
      app.add_subcommand("alert", "alerts (failed orders, expiring certificates): list, ack, scan");
  alert->require_subcommand(1);
  {
    struct ListOptions {
      bool all = false;
      std::size_t limit = 100;
    };
    auto o = std::make_shared<ListOptions>();
    auto* cmd = alert->add_subcommand("list", "list open alerts, newest first");
    cmd->add_flag("--all", o->all, "include acknowledged alerts");
    cmd->add_option("--limit", o->limit, "at most this many")->capture_default_str();
    cmd->callback([&selected, o] {
      selected = [o](ApplianceContext& ctx) -> Result<void> {
        SIGNET_ASSIGN_OR_RETURN(auto* alerts, ctx.alerts());
        SIGNET_ASSIGN_OR_RETURN(auto list, alerts->list_alerts(o->all, o->limit));
        if (ctx.json()) {
          nlohmann::json items = nlohmann::json::array();
          for (const auto& a : list) items.push_back(alert_json(a));
          print_json(items);
          return base::ok();
        }
        std::vector<std::vector<std::string>> rows;
        for (const auto& a : list) {
          rows.push_back({std::to_string(a.id), format_time(a.raised_at), a.kind, a.object,
                          a.acknowledged ? "acknowledged" : "open", a.message});
        }
        print_table({"ID", "RAISED", "KIND", "OBJECT", "STATE", "MESSAGE"}, rows);
        return base::ok();
      };
    });
  }
  {
    auto id = std::make_shared<std::uint64_t>(0);
    auto* cmd = alert->add_subcommand("ack", "acknowledge an alert");
    cmd->add_option("id", *id, "alert id")->required();
    cmd->callback([&selected, id] {
      selected = [id](ApplianceContext& ctx) -> Result<void> {
        SIGNET_ASSIGN_OR_RETURN(auto* service, ctx.service());
        SIGNET_ASSIGN_OR_RETURN(auto a, service->acknowledge_alert(*id));
        if (ctx.json()) {
          print_json(alert_json(a));
        } else {
          std::cout << "Acknowledged alert " << a.id << " (" << a.kind << ", " << a.object
                    << ").\n";
        }
        return base::ok();
      };
    });
  }
  {
    auto days = std::make_shared<int>(30);
    auto* cmd = alert->add_subcommand(
        "scan", "raise an alert for every active certificate expiring within --days");
    cmd->add_option("--days", *days, "expiring within this many days")->capture_default_str();
    cmd->callback([&selected, days] {
      selected = [days](ApplianceContext& ctx) -> Result<void> {
        if (*days < 0) return Error(ErrorCode::kInvalidArgument, "--days must not be negative");
        SIGNET_ASSIGN_OR_RETURN(auto* service, ctx.service());
        SIGNET_ASSIGN_OR_RETURN(auto* alerts, ctx.alerts());
        // The service counts every expiring certificate, whether its alert is new or was
        // still open: the difference in open expiry alerts is what this scan raised.
        auto open_expiry_alerts = [&]() -> Result<std::size_t> {
          SIGNET_ASSIGN_OR_RETURN(auto open, alerts->list_alerts(false, 1000000));
          return static_cast<std::size_t>(
              std::count_if(open.begin(), open.end(),
                            [](const auto& a) { return a.kind == "certificate.expiring"; }));
        };
        SIGNET_ASSIGN_OR_RETURN(auto before, open_expiry_alerts());
        SIGNET_ASSIGN_OR_RETURN(
            auto expiring, service->raise_expiry_alerts(*days, {std::string(kApplianceCaName)}));
        SIGNET_ASSIGN_OR_RETURN(auto after, open_expiry_alerts());
        const std::size_t raised = after > before ? after - before : 0;
        if (ctx.json()) {
          print_json({{"raised", raised}, {"expiring", expiring}, {"days", *days}});
        } else {
          std::cout << expiring << " active certificate(s) expire within " << *days
                    << " days; raised " << raised << " new alert(s) (see 'signet alert list').\n";
        }
        return base::ok();
      };
    });
  }
}

}  // namespace signet::appliance
