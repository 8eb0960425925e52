// CRLs and OCSP signers, as `signet crl` and `signet ocsp signer` drive them:
//   /api/v1/cas/{ca}/crls...          the CA's stored CRLs (list, latest, by number), and a
//                                     CRL generated now
//   /api/v1/crls/refresh              the revocation work that is due (the scheduler's run)
//   /api/v1/cas/{ca}/ocsp-signer      the key that signs the CA's OCSP responses; renew it
#include "appliance/api/api.h"
#include "appliance/api/internal/certificate_support.h"
#include "appliance/api/internal/request_support.h"
#include "appliance/core/views.h"
#include "pki/crl.h"
#include "pki/digest.h"
#include "pki/pem.h"

namespace signet::appliance {
namespace {

using base::Error;
using base::ErrorCode;
using base::Result;
using nlohmann::json;
using namespace api_internal;

constexpr const char* kTag = "crls";

// As `signet crl list --json` describes a CRL.
json crl_json(const ca::CrlRecord& crl, base::TimePoint now) {
  json j = {{"ca", crl.ca_name},
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

// As `signet crl show --json` describes one: what a relying party's parser reads from it too.
Result<json> crl_detail_json(const ca::CrlRecord& crl, base::TimePoint now) {
  auto j = crl_json(crl, now);
  SIGNET_ASSIGN_OR_RETURN(auto info, pki::inspect_crl(crl.der));
  j["issuer"] = info.issuer;
  j["signature_algorithm"] = info.signature_algorithm;
  if (!info.freshest_crl_url.empty()) j["freshest_crl_url"] = info.freshest_crl_url;
  j["sha256"] = colon_hex(pki::sha256(crl.der));
  return j;
}

Result<ca::CaRecord> find_ca(ApiServices& api, const std::string& name) {
  SIGNET_ASSIGN_OR_RETURN(auto found, api.cas().find_ca(name));
  if (!found) return no_such_ca(name);
  return std::move(*found);
}

std::vector<QueryParameterDoc> format_query() {
  return {{"format", "der (default, application/pkix-crl), pem, or json (the CRL's details)"}};
}

// The CRL as asked for by ?format=.
Result<http::Response> crl_response(ApiServices& api, const http::Request& request,
                                    const ca::CrlRecord& crl, const std::string& stem) {
  SIGNET_ASSIGN_OR_RETURN(auto format, query_choice(request, "format", {"der", "pem", "json"}));
  if (format && *format == "json") {
    SIGNET_ASSIGN_OR_RETURN(auto j, crl_detail_json(crl, api.clock().now()));
    return json_response(j);
  }
  if (format && *format == "pem") {
    return file_response(pki::pem_encode("X509 CRL", crl.der), "application/x-pem-file",
                         stem + ".crl.pem");
  }
  return file_response(std::string(base::as_chars(crl.der)), "application/pkix-crl", stem + ".crl");
}

void add_list(Router& router, ApiServices& api) {
  RouteDoc doc{kTag,
               "the CA's stored CRLs, newest first",
               {{"limit", "at most this many (1-1000, default 20)", "integer"}}};
  add_route(router, "GET", "/api/v1/cas/{ca}/crls", Permission::kRead, std::move(doc),
            [&api](ApiCall& call, const json&) -> Result<http::Response> {
              SIGNET_ASSIGN_OR_RETURN(auto name, visible_ca(call));
              SIGNET_ASSIGN_OR_RETURN(auto limit, query_integer(call.request, "limit", 1, 1000));
              SIGNET_TRY(find_ca(api, name));
              SIGNET_ASSIGN_OR_RETURN(
                  auto crls,
                  api.crl_log().list_crls(name, static_cast<std::size_t>(limit.value_or(20))));
              const auto now = api.clock().now();
              json items = json::array();
              for (const auto& crl : crls) items.push_back(crl_json(crl, now));
              return json_response({{"items", items}});
            });
}

void add_latest(Router& router, ApiServices& api) {
  auto query = format_query();
  query.insert(query.begin(), QueryParameterDoc{"kind", "full (default) or delta"});
  RouteDoc doc{kTag, "the CA's latest CRL (DER unless format= says otherwise)", query};
  doc.response_type = "application/pkix-crl";
  add_route(
      router, "GET", "/api/v1/cas/{ca}/crls/latest", Permission::kRead, std::move(doc),
      [&api](ApiCall& call, const json&) -> Result<http::Response> {
        SIGNET_ASSIGN_OR_RETURN(auto name, visible_ca(call));
        SIGNET_ASSIGN_OR_RETURN(auto kind, query_choice(call.request, "kind", {"full", "delta"}));
        const bool delta = kind && *kind == "delta";
        auto crls = api.crl_service_for(call.principal);
        SIGNET_ASSIGN_OR_RETURN(
            auto crl, crls->latest(name, delta ? ca::CrlKind::kDelta : ca::CrlKind::kFull));
        const auto stem = file_stem(name, "ca") + (delta ? "-delta" : "");
        return crl_response(api, call.request, crl, stem);
      });
}

void add_by_number(Router& router, ApiServices& api) {
  RouteDoc doc{kTag, "a stored CRL by its number (DER unless format= says otherwise)",
               format_query()};
  doc.response_type = "application/pkix-crl";
  add_route(router, "GET", "/api/v1/cas/{ca}/crls/{number}", Permission::kRead, std::move(doc),
            [&api](ApiCall& call, const json&) -> Result<http::Response> {
              SIGNET_ASSIGN_OR_RETURN(auto name, visible_ca(call));
              SIGNET_ASSIGN_OR_RETURN(auto number, parse_id(call.param("number"), "a CRL number"));
              auto crls = api.crl_service_for(call.principal);
              SIGNET_ASSIGN_OR_RETURN(auto crl, crls->find(name, number));
              return crl_response(api, call.request, crl,
                                  file_stem(name, "ca") + "-" + std::to_string(number));
            });
}

void add_generate(Router& router, ApiServices& api) {
  RouteDoc doc{kTag,
               "generate, sign (on the CA's token) and store a CRL now",
               {},
               object_schema({{"kind", string_schema("full (default) or delta (over the latest "
                                                     "full CRL, RFC 5280 §5.2.4)",
                                                     {"full", "delta"})}})};
  doc.success_status = 201;
  add_route(router, "POST", "/api/v1/cas/{ca}/crls", Permission::kOperate, std::move(doc),
            [&api](ApiCall& call, const json& body) -> Result<http::Response> {
              SIGNET_ASSIGN_OR_RETURN(auto name, visible_ca(call));
              const bool delta = field_string_or(body, "kind", "full") == "delta";
              auto crls = api.crl_service_for(call.principal);
              auto lock = api.revocation_lock();
              SIGNET_ASSIGN_OR_RETURN(
                  auto crl, delta ? crls->generate_delta(name) : crls->generate_full(name));
              return json_response(crl_json(crl, api.clock().now()), 201);
            });
}

json outcome_json(const crl::WorkOutcome& o, base::TimePoint now) {
  json j = {{"ca", o.work.ca_name},
            {"work", std::string(crl::to_string(o.work.what))},
            {"why", o.work.why},
            {"ok", !o.error}};
  if (o.crl) j["crl"] = crl_json(*o.crl, now);
  if (o.error) j["error"] = o.error->message();
  return j;
}

Result<json> refresh(ApiServices& api, const std::string& ca_name, bool dry_run) {
  const auto now = api.clock().now();
  auto& scheduler = api.scheduler();
  // run_due() is for one thread at a time (the scheduler loop runs it too).
  auto lock = api.revocation_lock();
  if (dry_run) {
    SIGNET_ASSIGN_OR_RETURN(auto work, scheduler.due(ca_name));
    SIGNET_ASSIGN_OR_RETURN(auto wakeup, scheduler.next_wakeup());
    json items = json::array();
    for (const auto& w : work) {
      items.push_back(
          {{"ca", w.ca_name}, {"work", std::string(crl::to_string(w.what))}, {"why", w.why}});
    }
    return json{{"due", items}, {"next_wakeup", wakeup ? json(format_time(*wakeup)) : nullptr}};
  }
  SIGNET_ASSIGN_OR_RETURN(auto outcomes, scheduler.run_due(ca_name));
  json items = json::array();
  std::size_t failed = 0;
  for (const auto& o : outcomes) {
    if (ApiServices::is_internal_ca(o.work.ca_name)) continue;
    if (o.error) ++failed;
    items.push_back(outcome_json(o, now));
  }
  return json{{"done", items}, {"failed", failed}};
}

void add_refresh(Router& router, ApiServices& api) {
  RouteDoc doc{kTag,
               "do the revocation work that is due: CRLs near their nextUpdate or behind a "
               "revocation, missing delta CRLs, delegated OCSP responder certificates near expiry",
               {},
               object_schema({{"ca", string_schema("only this CA")},
                              {"dry_run", boolean_schema("only say what is due")}})};
  add_route(router, "POST", "/api/v1/crls/refresh", Permission::kOperate, std::move(doc),
            [&api](ApiCall&, const json& body) -> Result<http::Response> {
              const auto ca_name = field_string_or(body, "ca", "");
              if (ApiServices::is_internal_ca(ca_name)) return no_such_ca(ca_name);
              if (!ca_name.empty()) SIGNET_TRY(find_ca(api, ca_name));
              SIGNET_ASSIGN_OR_RETURN(
                  auto j, refresh(api, ca_name, field_bool(body, "dry_run").value_or(false)));
              return json_response(j);
            });
}

// ---- OCSP signer ----

Result<json> signer_json(ApiServices& api, const std::string& name) {
  SIGNET_ASSIGN_OR_RETURN(auto record, find_ca(api, name));
  SIGNET_ASSIGN_OR_RETURN(auto key, api.ocsp_signers().current(record));
  json j = {{"ca", name},
            {"signing", std::string(ca::to_string(record.settings.ocsp_signing))},
            {"key_uri", key.signer->key_ref().to_uri()},
            {"responder_key_hash", base::to_hex(key.responder_key_hash)},
            {"not_after", format_time(key.not_after)}};
  if (!key.certificate_der.empty()) {
    j["certificate_id"] = record.ocsp_signer_certificate_id;
    j["certificate_pem"] = pki::pem_encode("CERTIFICATE", key.certificate_der);
  }
  return j;
}

void add_ocsp_signer(Router& router, ApiServices& api) {
  add_route(router, "GET", "/api/v1/cas/{ca}/ocsp-signer", Permission::kRead,
            RouteDoc{"ocsp",
                     "the key (and delegated responder certificate) that signs the CA's "
                     "OCSP responses"},
            [&api](ApiCall& call, const json&) -> Result<http::Response> {
              SIGNET_ASSIGN_OR_RETURN(auto name, visible_ca(call));
              SIGNET_ASSIGN_OR_RETURN(auto j, signer_json(api, name));
              return json_response(j);
            });
  add_route(router, "POST", "/api/v1/cas/{ca}/ocsp-signer", Permission::kAdminister,
            RouteDoc{"ocsp", "issue a new delegated OCSP responder certificate (new key) now"},
            [&api](ApiCall& call, const json&) -> Result<http::Response> {
              SIGNET_ASSIGN_OR_RETURN(auto name, visible_ca(call));
              SIGNET_ASSIGN_OR_RETURN(auto record, find_ca(api, name));
              if (record.settings.ocsp_signing != ca::OcspSigning::kDelegated) {
                return Error(ErrorCode::kInvalidArgument,
                             "CA '" + name +
                                 "' signs OCSP responses with its own key; set its ocsp_signing "
                                 "to 'delegated' first (PATCH /api/v1/cas/" +
                                 name + "/settings)");
              }
              {
                auto lock = api.admin_lock();
                auto revocation = api.revocation_lock();
                SIGNET_TRY(api.ocsp_signers().renew(name));
                api.ca_changed(name);
              }
              SIGNET_ASSIGN_OR_RETURN(auto j, signer_json(api, name));
              return json_response(j);
            });
}

}  // namespace

void register_crl_routes(Router& router, ApiServices& api) {
  add_list(router, api);
  add_latest(router, api);
  add_by_number(router, api);
  add_generate(router, api);
  add_refresh(router, api);
  add_ocsp_signer(router, api);
}

}  // namespace signet::appliance
