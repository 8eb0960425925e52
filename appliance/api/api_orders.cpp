// /api/v1/orders and /api/v1/alerts: every issue, renew, rekey, reissue and revoke request
// with its outcome (`signet order`), the resubmission of a failed one, and the alerts an
// operator acknowledges (`signet alert`).
#include <algorithm>

#include "appliance/api/api.h"
#include "appliance/api/internal/certificate_support.h"
#include "appliance/api/internal/request_support.h"
#include "appliance/core/views.h"

namespace signet::appliance {
namespace {

using base::Error;
using base::ErrorCode;
using base::Result;
using nlohmann::json;
using namespace api_internal;

// The order named by the path; orders of the appliance's internal CA are not found.
Result<ca::Order> find_order(ApiServices& api, const ApiCall& call) {
  SIGNET_ASSIGN_OR_RETURN(auto id, parse_id(call.param("id"), "an order id"));
  SIGNET_ASSIGN_OR_RETURN(auto found, api.orders().find_order(id));
  if (!found || ApiServices::is_internal_ca(found->ca_name)) {
    return Error(ErrorCode::kNotFound, "no order has id " + std::to_string(id));
  }
  return std::move(*found);
}

void add_list(Router& router, ApiServices& api) {
  RouteDoc doc{
      "orders",
      "list orders, newest first",
      {{"status", "pending, processing, complete or failed"},
       {"kind", "issue, renew, rekey, reissue or revoke"},
       {"limit", "at most this many (1-1000, default 100)", "integer"},
       {"before", "only orders older than this id (next_before of the previous page)", "integer"}}};
  add_route(
      router, "GET", "/api/v1/orders", Permission::kRead, std::move(doc),
      [&api](ApiCall& call, const json&) -> Result<http::Response> {
        ca::OrderQuery query;
        SIGNET_ASSIGN_OR_RETURN(
            auto status,
            query_choice(call.request, "status", {"pending", "processing", "complete", "failed"}));
        if (status) {
          SIGNET_ASSIGN_OR_RETURN(query.status, ca::parse_order_status(*status));
        }
        SIGNET_ASSIGN_OR_RETURN(
            auto kind,
            query_choice(call.request, "kind", {"issue", "renew", "rekey", "reissue", "revoke"}));
        if (kind) {
          SIGNET_ASSIGN_OR_RETURN(query.kind, ca::parse_order_kind(*kind));
        }
        SIGNET_ASSIGN_OR_RETURN(auto limit, query_integer(call.request, "limit", 1, 1000));
        query.limit = static_cast<std::size_t>(limit.value_or(100));
        SIGNET_ASSIGN_OR_RETURN(
            auto before,
            query_integer(call.request, "before", 1, std::numeric_limits<std::int64_t>::max()));
        query.before = static_cast<std::uint64_t>(before.value_or(0));
        SIGNET_ASSIGN_OR_RETURN(auto list, api.orders().list_orders(query));
        const auto now = api.clock().now();
        json items = json::array();
        for (const auto& order : list) {
          if (!ApiServices::is_internal_ca(order.ca_name)) {
            items.push_back(order_json(order, now));
          }
        }
        // A full page may have more behind it.
        const bool full = list.size() == query.limit && !list.empty();
        return json_response(
            {{"items", items}, {"next_before", full ? json(list.back().id) : json(nullptr)}});
      });
}

void add_show(Router& router, ApiServices& api) {
  add_route(router, "GET", "/api/v1/orders/{id}", Permission::kRead,
            RouteDoc{"orders", "an order: what was asked, by whom, its status, result or error"},
            [&api](ApiCall& call, const json&) -> Result<http::Response> {
              SIGNET_ASSIGN_OR_RETURN(auto order, find_order(api, call));
              return json_response(order_json(order, api.clock().now()));
            });
}

void add_resubmit(Router& router, ApiServices& api) {
  RouteDoc doc{"orders",
               "run a failed order's original request again, as a new order (a local key's new "
               "PKCS#12 and its one-time password come back in this response only)"};
  doc.success_status = 201;
  add_route(router, "POST", "/api/v1/orders/{id}/resubmit", Permission::kOperate, std::move(doc),
            [&api](ApiCall& call, const json&) -> Result<http::Response> {
              SIGNET_ASSIGN_OR_RETURN(auto failed, find_order(api, call));
              if (auto refused = refuse_profile(call.principal, failed.ca_name, failed.profile)) {
                return *refused;
              }
              auto service = api.service_for(call.principal);
              auto resubmitted = service->resubmit(failed.id);
              if (failed.kind != ca::OrderKind::kRevoke) {
                resubmitted = counted(api, std::move(resubmitted));
              }
              SIGNET_ASSIGN_OR_RETURN(auto result, std::move(resubmitted));
              if (result.order.kind == ca::OrderKind::kRevoke) {
                if (!result.certificate.ca_name.empty()) {
                  api.after_revocation(result.certificate.ca_name);
                }
                return json_response(revocation_result_json(api, result), 201);
              }
              SIGNET_ASSIGN_OR_RETURN(auto j, order_result_json(api, result));
              return json_response(j, 201);
            });
}

// ---- alerts ----

void add_alert_list(Router& router, ApiServices& api) {
  RouteDoc doc{"alerts",
               "open alerts (failed orders, expiring certificates), newest first",
               {{"include_acknowledged", "true: acknowledged alerts too", "boolean"},
                {"limit", "at most this many (1-1000, default 100)", "integer"}}};
  add_route(router, "GET", "/api/v1/alerts", Permission::kRead, std::move(doc),
            [&api](ApiCall& call, const json&) -> Result<http::Response> {
              SIGNET_ASSIGN_OR_RETURN(auto all, query_bool(call.request, "include_acknowledged"));
              SIGNET_ASSIGN_OR_RETURN(auto limit, query_integer(call.request, "limit", 1, 1000));
              SIGNET_ASSIGN_OR_RETURN(
                  auto list,
                  api.alerts().list_alerts(all, static_cast<std::size_t>(limit.value_or(100))));
              json items = json::array();
              for (const auto& alert : list) {
                SIGNET_ASSIGN_OR_RETURN(auto internal, api.is_internal_alert(alert));
                if (!internal) items.push_back(alert_json(alert));
              }
              return json_response({{"items", items}});
            });
}

void add_alert_ack(Router& router, ApiServices& api) {
  add_route(router, "POST", "/api/v1/alerts/{id}/acknowledge", Permission::kOperate,
            RouteDoc{"alerts", "acknowledge an alert (acknowledging twice keeps the first)"},
            [&api](ApiCall& call, const json&) -> Result<http::Response> {
              SIGNET_ASSIGN_OR_RETURN(auto id, parse_id(call.param("id"), "an alert id"));
              SIGNET_ASSIGN_OR_RETURN(auto found, api.alerts().find_alert(id));
              bool internal = false;
              if (found) {
                SIGNET_ASSIGN_OR_RETURN(internal, api.is_internal_alert(*found));
              }
              if (!found || internal) {
                return Error(ErrorCode::kNotFound, "no alert has id " + std::to_string(id));
              }
              auto service = api.service_for(call.principal);
              SIGNET_ASSIGN_OR_RETURN(auto alert, service->acknowledge_alert(id));
              return json_response(alert_json(alert));
            });
}

Result<std::size_t> open_expiry_alerts(ApiServices& api) {
  SIGNET_ASSIGN_OR_RETURN(auto open, api.alerts().list_alerts(false, 1000000));
  std::size_t count = 0;
  for (const auto& alert : open) {
    if (alert.kind != "certificate.expiring") continue;
    SIGNET_ASSIGN_OR_RETURN(auto internal, api.is_internal_alert(alert));
    if (!internal) ++count;
  }
  return count;
}

void add_alert_scan(Router& router, ApiServices& api) {
  RouteDoc doc{
      "alerts",
      "raise an alert for every active certificate expiring within 'days' (default 30)",
      {},
      object_schema({{"days", integer_schema("expiring within this many days", 1, 3650)}})};
  add_route(router, "POST", "/api/v1/alerts/scan", Permission::kOperate, std::move(doc),
            [&api](ApiCall& call, const json& body) -> Result<http::Response> {
              const int days = field_int(body, "days").value_or(30);
              auto service = api.service_for(call.principal);
              // The service counts every expiring certificate, whether its alert is new or was
              // still open: the difference in open expiry alerts is what this scan raised.
              SIGNET_ASSIGN_OR_RETURN(auto before, open_expiry_alerts(api));
              SIGNET_ASSIGN_OR_RETURN(
                  auto expiring,
                  service->raise_expiry_alerts(days, {std::string(ApiServices::kApplianceCaName)}));
              SIGNET_ASSIGN_OR_RETURN(auto after, open_expiry_alerts(api));
              return json_response({{"raised", after > before ? after - before : 0},
                                    {"expiring", expiring},
                                    {"days", days}});
            });
}

}  // namespace

void register_order_routes(Router& router, ApiServices& api) {
  add_list(router, api);
  add_show(router, api);
  add_resubmit(router, api);
  add_alert_list(router, api);
  add_alert_ack(router, api);
  add_alert_scan(router, api);
}

}  // namespace signet::appliance
