#include "appliance/daemon/operator_certificates.h"

#include <algorithm>
#include <nlohmann/json.hpp>

#include "appliance/core/views.h"
#include "pki/pem.h"

namespace signet::appliance {

using base::Error;
using base::ErrorCode;
using base::Result;

namespace {

constexpr int kMaxDays = 365;  // the "operator" profile's maximum

std::string pem_of(const ca::CertificateRecord& record) {
  return pki::pem_encode("CERTIFICATE", record.der);
}

nlohmann::json certificate_json(const std::string& name, const ca::CertificateRecord& record) {
  return {{"operator", name},
          {"serial", record.serial.to_hex()},
          {"not_before", format_time(record.not_before)},
          {"not_after", format_time(record.not_after)},
          {"fingerprint_sha256", colon_hex(record.fingerprint_sha256)},
          {"pem", pem_of(record)}};
}

Result<ca::OperatorRecord> existing_operator(ApiServices& api, const std::string& name) {
  SIGNET_ASSIGN_OR_RETURN(auto found, api.operators().find_operator(name));
  if (!found) return Error(ErrorCode::kNotFound, "no operator '" + name + "'");
  return std::move(*found);
}

Result<http::Response> fetch_own(ApiServices& api, ApiCall& call) {
  if (call.principal.kind != PrincipalKind::kSession &&
      call.principal.kind != PrincipalKind::kClientCertificate) {
    return Error(ErrorCode::kPermissionDenied,
                 "only a logged-in operator fetches their own certificate");
  }
  SIGNET_ASSIGN_OR_RETURN(auto op, existing_operator(api, call.principal.operator_name));
  if (op.certificate_fingerprint.empty()) {
    return Error(ErrorCode::kNotFound, "operator '" + op.name + "' has no certificate");
  }
  SIGNET_ASSIGN_OR_RETURN(
      auto bound, api.inventory().find_certificate_by_fingerprint(op.certificate_fingerprint));
  if (!bound) return Error(ErrorCode::kNotFound, "the operator's certificate is not on record");
  SIGNET_ASSIGN_OR_RETURN(auto newest, newest_of(api, *bound));
  const bool renewed = newest.id != bound->id;
  if (renewed) {
    nlohmann::json detail = {{"previous_serial", bound->serial.to_hex()},
                             {"serial", newest.serial.to_hex()}};
    const auto now = api.clock().now();
    SIGNET_TRY(api.operators().modify_operator(
        op.name, [&](ca::OperatorRecord& stored) -> Result<std::optional<ca::AuditEvent>> {
          // Only over the certificate this renewal follows: one bound or unbound meanwhile stays.
          if (stored.certificate_fingerprint != op.certificate_fingerprint) {
            return Error(ErrorCode::kConflict, "the operator's certificate changed meanwhile");
          }
          stored.certificate_fingerprint = newest.fingerprint_sha256;
          return std::optional(ca::make_audit_event(now, call.principal.actor(),
                                                    "operator.certificate_rebound",
                                                    "operator:" + op.name, detail.dump()));
        }));
  }
  auto j = certificate_json(op.name, newest);
  j["renewed"] = renewed;
  return json_response(j);
}

}  // namespace

void register_operator_certificate_routes(Router& router, ApiServices& api) {
  router.add("GET", "/api/v1/session/certificate", Permission::kRead,
             {"session",
              "The logged-in operator's newest client certificate (binds a renewal when there is "
              "one)"},
             [&api](ApiCall& call) { return fetch_own(api, call); });
}

Result<ca::CertificateRecord> newest_of(ApiServices& api, ca::CertificateRecord record) {
  SIGNET_ASSIGN_OR_RETURN(auto stored, api.inventory().find_certificate_by_id(record.id));
  if (stored) record = std::move(*stored);
  for (int hops = 0; record.successor_id != 0 && hops < 10000; ++hops) {
    SIGNET_ASSIGN_OR_RETURN(auto next, api.inventory().find_certificate_by_id(record.successor_id));
    if (!next) break;
    record = std::move(*next);
  }
  return record;
}

void renew_operator_certificates(ApiServices& api, std::chrono::seconds renew_before,
                                 const std::function<void(const std::string&)>& log) {
  auto operators = api.operators().list_operators();
  if (!operators) {
    log("warning: operator certificate renewal: " + operators.error().describe());
    return;
  }
  const auto now = api.clock().now();
  for (const auto& op : *operators) {
    if (op.certificate_fingerprint.empty() || op.disabled) continue;
    auto bound = api.inventory().find_certificate_by_fingerprint(op.certificate_fingerprint);
    if (!bound || !*bound) continue;
    auto newest = newest_of(api, **bound);
    if (!newest || newest->revocation || newest->ca_name != ApiServices::kApplianceCaName ||
        newest->not_after - now >= renew_before || newest->not_after <= now) {
      continue;
    }
    const auto days = std::chrono::ceil<std::chrono::days>(newest->not_after - newest->not_before);
    ca::RenewRequest request;
    request.certificate_id = newest->id;
    request.validity_days = std::clamp(static_cast<int>(days.count()), 1, kMaxDays);
    auto service = api.system_service("signetd:operator-renewal");
    auto renewed = service->renew(request);
    if (!renewed) {
      log("warning: renewing operator '" + op.name +
          "''s certificate failed: " + renewed.error().describe());
      continue;
    }
    nlohmann::json detail = {{"previous_serial", newest->serial.to_hex()},
                             {"serial", renewed->certificate.serial.to_hex()},
                             {"not_after", format_time(renewed->certificate.not_after)}};
    auto written = api.audit().append_audit(
        ca::make_audit_event(now, "signetd:operator-renewal", "operator.certificate_renewed",
                             "operator:" + op.name, detail.dump()));
    if (!written) log("warning: cannot audit the renewal: " + written.error().describe());
    log("renewed operator '" + op.name + "''s client certificate: serial " +
        renewed->certificate.serial.to_hex());
  }
}

}  // namespace signet::appliance
