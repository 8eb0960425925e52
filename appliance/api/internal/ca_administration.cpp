#include "appliance/api/internal/ca_administration.h"

#include "appliance/api/internal/certificate_support.h"
#include "appliance/api/internal/request_support.h"
#include "appliance/core/views.h"
#include "pki/pem.h"

namespace signet::appliance::api_internal {
namespace {

using base::Error;
using base::ErrorCode;
using base::Result;
using nlohmann::json;

constexpr const char* kTag = "cas";

// ---- settings ----

json settings_schema() {
  constexpr int kHoursPerYear = 8760, kMinutesPerWeek = 10080;
  return object_schema({
      {"base_url", string_schema("base URL for the CRL, OCSP and CA issuer URLs of certificates "
                                 "issued from now on ('' removes them)")},
      {"default_validity_days",
       integer_schema("validity when a request names none (also set in the CA's 'default' RA "
                      "profile)",
                      1, 36500)},
      {"crl_validity_hours",
       integer_schema("nextUpdate - thisUpdate of full CRLs", 1, kHoursPerYear)},
      {"crl_overlap_minutes",
       integer_schema("regenerate CRLs this long before their nextUpdate", 0, kHoursPerYear * 60)},
      {"crl_on_revocation", boolean_schema("regenerate the CRL (or the delta) on revocation")},
      {"delta_crls", boolean_schema("publish delta CRLs (needs base_url)")},
      {"delta_crl_validity_minutes",
       integer_schema("nextUpdate - thisUpdate of delta CRLs", 5, kMinutesPerWeek)},
      {"crl_expired_grace_days",
       integer_schema("leave entries off once their certificate expired this many days ago (-1: "
                      "keep them)",
                      -1, 36500)},
      {"crl_history", integer_schema("stored CRLs kept per kind", 1, 1000)},
      {"ocsp_signing", string_schema("ca: the CA key signs OCSP responses; delegated: a responder "
                                     "certificate with its own token key, renewed automatically",
                                     {"ca", "delegated"})},
      {"ocsp_validity_minutes",
       integer_schema("nextUpdate - thisUpdate of OCSP responses", 1, kMinutesPerWeek)},
      {"ocsp_signer_validity_days",
       integer_schema("lifetime of delegated responder certificates", 1, 366)},
      {"ocsp_signer_renew_before_days",
       integer_schema("renew a delegated responder certificate this long before it expires", 0,
                      365)},
  });
}

Result<ca::CaSettingsUpdate> settings_update_of(const json& body) {
  ca::CaSettingsUpdate u;
  u.base_url = field_string(body, "base_url");
  u.default_validity_days = field_int(body, "default_validity_days");
  u.crl_validity_hours = field_int(body, "crl_validity_hours");
  u.crl_overlap_minutes = field_int(body, "crl_overlap_minutes");
  u.crl_on_revocation = field_bool(body, "crl_on_revocation");
  u.delta_crls = field_bool(body, "delta_crls");
  u.delta_crl_validity_minutes = field_int(body, "delta_crl_validity_minutes");
  u.crl_expired_grace_days = field_int(body, "crl_expired_grace_days");
  u.crl_history = field_int(body, "crl_history");
  if (auto signing = field_string(body, "ocsp_signing")) {
    SIGNET_ASSIGN_OR_RETURN(u.ocsp_signing, ca::parse_ocsp_signing(*signing));
  }
  u.ocsp_validity_minutes = field_int(body, "ocsp_validity_minutes");
  u.ocsp_signer_validity_days = field_int(body, "ocsp_signer_validity_days");
  u.ocsp_signer_renew_before_days = field_int(body, "ocsp_signer_renew_before_days");
  if (u.empty()) {
    return Error(ErrorCode::kInvalidArgument, "nothing to change: give at least one setting");
  }
  return u;
}

// Issuance goes through RA profiles, whose validity rule decides the default: a CA's default
// validity is therefore also written to its "default" profile (as `signet ca set` does).
Result<ca::Profile> follow_default_validity(ca::CertificateService& service,
                                            const std::string& ca_name, int days) {
  SIGNET_ASSIGN_OR_RETURN(auto profile, service.ensure_default_profile(ca_name));
  if (profile.validity.default_days == days && profile.validity.max_days >= days) return profile;
  profile.validity.default_days = days;
  if (profile.validity.max_days < days) profile.validity.max_days = days;
  return service.update_profile(std::move(profile));
}

Result<json> update_settings(ApiServices& api, const Principal& principal, const std::string& name,
                             const ca::CaSettingsUpdate& update) {
  auto lock = api.admin_lock();
  auto authority = api.authority_for(principal);
  SIGNET_ASSIGN_OR_RETURN(auto record, authority->update_settings(name, update));
  api.ca_changed(name);
  std::optional<ca::Profile> profile;
  if (update.default_validity_days) {
    auto service = api.service_for(principal);
    SIGNET_ASSIGN_OR_RETURN(profile,
                            follow_default_validity(*service, name, *update.default_validity_days));
  }
  // A CA switched to a delegated responder gets its certificate now, not on the first request.
  if (update.ocsp_signing == ca::OcspSigning::kDelegated) {
    SIGNET_ASSIGN_OR_RETURN(auto due, api.ocsp_signers().renewal_due(record));
    if (due) {
      auto revocation = api.revocation_lock();
      SIGNET_TRY(api.ocsp_signers().renew(name));
      api.ca_changed(name);
      SIGNET_ASSIGN_OR_RETURN(record, authority->find_ca(name));
    }
  }
  auto j = ca_json(record, api.clock().now());
  if (profile) j["default_profile_version"] = profile->version;
  return j;
}

void add_settings(Router& router, ApiServices& api) {
  RouteDoc doc{kTag,
               "change CA settings: publication URLs, default validity, CRL and OCSP service "
               "(only the fields given change)",
               {},
               settings_schema()};
  add_route(router, "PATCH", "/api/v1/cas/{ca}/settings", Permission::kAdminister, std::move(doc),
            [&api](ApiCall& call, const json& body) -> Result<http::Response> {
              SIGNET_ASSIGN_OR_RETURN(auto name, visible_ca(call));
              SIGNET_ASSIGN_OR_RETURN(auto update, settings_update_of(body));
              SIGNET_ASSIGN_OR_RETURN(auto j, update_settings(api, call.principal, name, update));
              return json_response(j);
            });
}

// ---- revoke ----

Result<json> revoke_ca(ApiServices& api, const Principal& principal, const std::string& name,
                       ca::RevokeRequest request) {
  std::string parent;
  ca::OrderResult result;
  {
    auto lock = api.admin_lock();
    auto authority = api.authority_for(principal);
    SIGNET_ASSIGN_OR_RETURN(auto record, authority->find_ca(name));
    if (record.external_parent) {
      return Error(ErrorCode::kInvalidArgument,
                   "CA '" + name +
                       "' was certified by an external root; revoke it there (its CRL is not "
                       "ours to sign)");
    }
    if (record.parent.empty()) {
      return Error(ErrorCode::kInvalidArgument,
                   "CA '" + name +
                       "' is a root: no issuer above it signs a CRL that could list it. Withdraw "
                       "it from the relying parties' trust stores instead");
    }
    SIGNET_ASSIGN_OR_RETURN(auto certificate, authority->ca_certificate_record(name));
    request.certificate_id = certificate.id;
    request.ca_certificate = true;
    SIGNET_ASSIGN_OR_RETURN(result, api.service_for(principal)->revoke(request));
    api.ca_changed(name);
    parent = record.parent;
  }
  api.after_revocation(parent);
  auto j = certificate_json(result.certificate, api.clock().now());
  j["order"] = order_json(result.order, api.clock().now());
  j["order_id"] = result.order.id;
  j["ca"] = name;
  j["parent"] = parent;
  return j;
}

void add_revoke(Router& router, ApiServices& api) {
  RouteDoc doc{kTag,
               "revoke an intermediate CA's certificate through its parent (it then appears on "
               "the parent's CRL); the CA issues nothing more",
               {},
               object_schema(revocation_properties(), {"reason"})};
  add_route(router, "POST", "/api/v1/cas/{ca}/revoke", Permission::kAdminister, std::move(doc),
            [&api](ApiCall& call, const json& body) -> Result<http::Response> {
              SIGNET_ASSIGN_OR_RETURN(auto name, visible_ca(call));
              SIGNET_ASSIGN_OR_RETURN(auto request, parse_revocation(body));
              SIGNET_ASSIGN_OR_RETURN(auto j, revoke_ca(api, call.principal, name, request));
              return json_response(j);
            });
}

// ---- renew ----

void add_renew(Router& router, ApiServices& api) {
  RouteDoc doc{
      kTag,
      "a new certificate for a CA with the same key, or with new_key_algorithm a rollover to a "
      "new key on the token; a CA signed by an external root gets a new CSR (csr_pem)",
      {},
      object_schema({{"new_key_algorithm", string_schema("roll over to a new key of this algorithm",
                                                         {"ec-p256", "ec-p384", "rsa-2048",
                                                          "rsa-3072", "rsa-4096", "ed25519"})},
                     {"token", string_schema("with new_key_algorithm: the token that generates it "
                                             "(default: the old key's)")},
                     {"validity_days",
                      integer_schema("validity of the new CA certificate (default: as at creation)",
                                     1, 36500)}})};
  add_route(router, "POST", "/api/v1/cas/{ca}/renew", Permission::kAdminister, std::move(doc),
            [&api](ApiCall& call, const json& body) -> Result<http::Response> {
              SIGNET_ASSIGN_OR_RETURN(auto name, visible_ca(call));
              ca::RenewCaRequest request;
              request.name = name;
              if (auto algorithm = field_string(body, "new_key_algorithm")) {
                SIGNET_ASSIGN_OR_RETURN(request.new_key, base::parse_key_algorithm(*algorithm));
              }
              request.token = field_string_or(body, "token", "");
              if (!request.new_key && !request.token.empty()) {
                return Error(ErrorCode::kInvalidArgument,
                             "'token' goes with 'new_key_algorithm' (a renewal keeps the key "
                             "where it is)");
              }
              request.validity_days = field_int(body, "validity_days");
              ca::CaRecord record;
              {
                auto lock = api.admin_lock();
                SIGNET_ASSIGN_OR_RETURN(record,
                                        api.authority_for(call.principal)->renew_ca(request));
                api.ca_changed(name);
              }
              auto j = ca_json(record, api.clock().now());
              if (!record.pending_csr_der.empty()) {
                j["csr_pem"] = pki::pem_encode("CERTIFICATE REQUEST", record.pending_csr_der);
              }
              return json_response(j);
            });
}

}  // namespace

void register_ca_administration_routes(Router& router, ApiServices& api) {
  add_settings(router, api);
  add_revoke(router, api);
  add_renew(router, api);
}

}  // namespace signet::appliance::api_internal
