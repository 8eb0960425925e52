#include "appliance/daemon/system_routes.h"

#include <sys/statvfs.h>

#include "appliance/api/metrics.h"
#include "hsm/key_provider.h"

namespace signet::appliance {

using base::Result;

namespace {

constexpr std::uint64_t kMinimumFreeBytes = 64ull << 20;

nlohmann::json check(bool ok, std::string detail) {
  return {{"ok", ok}, {"detail", std::move(detail)}};
}

nlohmann::json forwarding_check(const AuditForwarder& forwarder) {
  bool ok = true;
  std::string detail;
  for (const auto& target : forwarder.status()) {
    ok &= target.connected;
    if (!detail.empty()) detail += "; ";
    detail += target.name + " " + target.address + ": " +
              (target.connected ? "connected" : "not connected") + ", " +
              std::to_string(target.forwarded) + " forwarded, " + std::to_string(target.dropped) +
              " dropped";
  }
  return check(ok, detail);
}

http::Response health(ApiServices& api, const base::KeyRef& tls_key,
                      const AuditForwarder* forwarder) {
  nlohmann::json checks = nlohmann::json::object();
  bool healthy = true;
  // The token answers: find signetd's own key (a real PKCS#11 round trip).
  auto keys = api.context().keys();
  auto key =
      keys ? (*keys)->find_key(tls_key) : Result<std::shared_ptr<base::Signer>>(keys.error());
  checks["token"] = key ? check(true, "reachable") : check(false, key.error().message());
  healthy &= static_cast<bool>(key);
  // The store answers and its disk has room for commits.
  auto cas = api.cas().list_cas();
  struct statvfs fs {};
  const bool statted = ::statvfs(api.context().store_dir().c_str(), &fs) == 0;
  const std::uint64_t free_bytes = statted ? std::uint64_t(fs.f_bavail) * fs.f_frsize : 0;
  const bool store_ok = cas && statted && free_bytes >= kMinimumFreeBytes;
  checks["store"] = check(store_ok, !cas       ? cas.error().message()
                                    : !statted ? "cannot stat the store's file system"
                                               : std::to_string(free_bytes >> 20) + " MiB free");
  healthy &= store_ok;
  if (forwarder != nullptr) checks["audit_forwarding"] = forwarding_check(*forwarder);
  return json_response({{"status", healthy ? "ok" : "failing"}, {"checks", checks}},
                       healthy ? 200 : 503);
}

void add_forwarding_metrics(Metrics& metrics, const AuditForwarder& forwarder) {
  using Sample = Metrics::GaugeSample;
  const auto per_target = [&forwarder](auto value) {
    std::vector<Sample> samples;
    for (const auto& t : forwarder.status()) {
      samples.push_back({"target=\"" + t.name + "\"", double(value(t))});
    }
    return samples;
  };
  metrics.add_gauge("signet_audit_forwarded_total", "Audit events sent to the target.",
                    [per_target] { return per_target([](const auto& t) { return t.forwarded; }); });
  metrics.add_gauge("signet_audit_forward_dropped_total",
                    "Audit events not sent to the target (it was down or its buffer stayed full).",
                    [per_target] { return per_target([](const auto& t) { return t.dropped; }); });
  metrics.add_gauge(
      "signet_audit_forward_connected", "1 when the forwarding target is connected.",
      [per_target] { return per_target([](const auto& t) { return t.connected ? 1 : 0; }); });
}

}  // namespace

void register_system_routes(Router& router, ApiServices& api, std::function<base::KeyRef()> tls_key,
                            const AuditForwarder* forwarder) {
  if (forwarder != nullptr) add_forwarding_metrics(api.metrics(), *forwarder);
  router.add("GET", "/healthz", Permission::kPublic,
             {"system", "Health: the token is reachable and the store readable with disk room"},
             [&api, tls_key, forwarder](ApiCall&) -> Result<http::Response> {
               return health(api, tls_key(), forwarder);
             });
  router.add(
      "GET", "/metrics", Permission::kRead,
      {"system", "Metrics in the Prometheus text format", {}, nullptr, "text/plain; version=0.0.4"},
      [&api](ApiCall&) -> Result<http::Response> {
        http::Response response;
        response.content_type = "text/plain; version=0.0.4; charset=utf-8";
        response.body = api.metrics().render();
        return response;
      });
  router.add("GET", "/api/openapi.json", Permission::kPublic,
             {"system", "This API as an OpenAPI 3 document"},
             [&router](ApiCall&) -> Result<http::Response> {
               return json_response(router.openapi("0.1.0"));
             });
}

}  // namespace signet::appliance
