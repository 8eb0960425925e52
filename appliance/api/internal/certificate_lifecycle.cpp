#include "appliance/api/internal/certificate_lifecycle.h"

#include "appliance/api/internal/certificate_support.h"
#include "appliance/api/internal/request_support.h"

namespace signet::appliance::api_internal {
namespace {

using base::Result;
using nlohmann::json;

constexpr const char* kTag = "certificates";

std::vector<QueryParameterDoc> ca_query() {
  return {{"ca", "the issuing CA, when a serial number is used by several"}};
}

json days_schema() {
  return integer_schema(
      "validity of the new certificate (default: the profile's; capped at the "
      "CA's notAfter)",
      1, 36500);
}

// The certificate named by the path, when the principal may act on it through its profile.
// On refusal `refused` holds the 403.
Result<ca::CertificateRecord> target(ApiServices& api, const ApiCall& call,
                                     std::optional<http::Response>& refused) {
  SIGNET_ASSIGN_OR_RETURN(
      auto record,
      find_certificate(api, call.param("id"), query_string(call.request, "ca").value_or("")));
  refused = refuse_profile(call.principal, record.ca_name, record.profile);
  return record;
}

void add_renew(Router& router, ApiServices& api) {
  RouteDoc doc{kTag,
               "a new certificate with the same subject, SANs, profile and key (or the key of "
               "'csr') and a new validity period",
               ca_query(),
               object_schema({{"csr", string_schema("a new key after all: this PKCS#10 request "
                                                    "(PEM)")},
                              {"validity_days", days_schema()}})};
  doc.success_status = 201;
  add_route(router, "POST", "/api/v1/certificates/{id}/renew", Permission::kOperate, std::move(doc),
            [&api](ApiCall& call, const json& body) -> Result<http::Response> {
              std::optional<http::Response> refused;
              SIGNET_ASSIGN_OR_RETURN(auto record, target(api, call, refused));
              if (refused) return *refused;
              ca::RenewRequest request;
              request.certificate_id = record.id;
              request.validity_days = field_int(body, "validity_days");
              if (auto csr = field_string(body, "csr")) {
                const auto bytes = base::as_bytes(*csr);
                request.csr = base::Bytes(bytes.begin(), bytes.end());
              }
              auto service = api.service_for(call.principal);
              SIGNET_ASSIGN_OR_RETURN(auto result, counted(api, service->renew(request)));
              SIGNET_ASSIGN_OR_RETURN(auto j, order_result_json(api, result));
              return json_response(j, 201);
            });
}

void add_rekey(Router& router, ApiServices& api, bool as_reissue) {
  RouteDoc doc{kTag,
               as_reissue ? "reissue a certificate with a different key (rekey, under the name "
                            "public CAs use)"
                          : "a new certificate for the same subject data with a different key",
               ca_query(),
               object_schema({{"key_source", key_source_schema()},
                              {"revoke_previous",
                               boolean_schema("revoke the previous certificate (superseded) in "
                                              "the same commit")},
                              {"validity_days", days_schema()}},
                             {"key_source"})};
  doc.success_status = 201;
  const std::string pattern =
      std::string("/api/v1/certificates/{id}/") + (as_reissue ? "reissue" : "rekey");
  add_route(router, "POST", pattern, Permission::kOperate, std::move(doc),
            [&api, as_reissue](ApiCall& call, const json& body) -> Result<http::Response> {
              SIGNET_ASSIGN_OR_RETURN(auto key, parse_key_source(body["key_source"]));
              std::optional<http::Response> refused;
              SIGNET_ASSIGN_OR_RETURN(auto record, target(api, call, refused));
              if (refused) return *refused;
              ca::RekeyRequest request;
              request.certificate_id = record.id;
              request.key = std::move(key.source);
              request.pfx_profile = key.pfx_profile;
              request.revoke_previous = field_bool(body, "revoke_previous").value_or(false);
              request.as_reissue = as_reissue;
              request.validity_days = field_int(body, "validity_days");
              auto service = api.service_for(call.principal);
              SIGNET_ASSIGN_OR_RETURN(auto result, counted(api, service->rekey(request)));
              if (request.revoke_previous) api.after_revocation(record.ca_name);
              SIGNET_ASSIGN_OR_RETURN(auto j, order_result_json(api, result));
              return json_response(j, 201);
            });
}

void add_revoke(Router& router, ApiServices& api) {
  RouteDoc doc{kTag, "revoke a certificate, permanently (RFC 5280 reasons)", ca_query(),
               object_schema(revocation_properties(), {"reason"})};
  add_route(router, "POST", "/api/v1/certificates/{id}/revoke", Permission::kOperate,
            std::move(doc), [&api](ApiCall& call, const json& body) -> Result<http::Response> {
              SIGNET_ASSIGN_OR_RETURN(auto request, parse_revocation(body));
              std::optional<http::Response> refused;
              SIGNET_ASSIGN_OR_RETURN(auto record, target(api, call, refused));
              if (refused) return *refused;
              request.certificate_id = record.id;
              auto service = api.service_for(call.principal);
              SIGNET_ASSIGN_OR_RETURN(auto result, service->revoke(request));
              // A discovered certificate is on no CRL of ours.
              if (!result.certificate.ca_name.empty()) {
                api.after_revocation(result.certificate.ca_name);
              }
              return json_response(revocation_result_json(api, result));
            });
}

}  // namespace

void register_certificate_lifecycle_routes(Router& router, ApiServices& api) {
  add_renew(router, api);
  add_rekey(router, api, false);
  add_rekey(router, api, true);
  add_revoke(router, api);
}

}  // namespace signet::appliance::api_internal
