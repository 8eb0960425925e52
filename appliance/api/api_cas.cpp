// /api/v1/cas: the certificate authorities as `signet ca` manages them: list, show, create
// (root, intermediate signed here or by an external root), the CA certificate and chain, the
// pending CSR of an externally signed CA and the installation of its certificate. Settings,
// revocation and renewal live in internal/ca_administration.cpp.
//
// The appliance's internal CA is neither listed nor reachable: it answers 404 like an unknown
// name.
#include "appliance/api/api.h"
#include "appliance/api/internal/ca_administration.h"
#include "appliance/api/internal/certificate_support.h"
#include "appliance/api/internal/request_support.h"
#include "appliance/core/views.h"
#include "pki/pem.h"

namespace signet::appliance {
namespace {

using base::Error;
using base::ErrorCode;
using base::Result;
using nlohmann::json;
using namespace api_internal;

constexpr const char* kTag = "cas";

void add_list(Router& router, ApiServices& api) {
  add_route(router, "GET", "/api/v1/cas", Permission::kRead, RouteDoc{kTag, "list the CAs"},
            [&api](ApiCall&, const json&) -> Result<http::Response> {
              SIGNET_ASSIGN_OR_RETURN(auto cas, api.cas().list_cas());
              const auto now = api.clock().now();
              json items = json::array();
              for (const auto& record : cas) {
                if (ApiServices::is_internal_ca(record.name)) continue;
                SIGNET_ASSIGN_OR_RETURN(auto own, ca_own_certificate(api.inventory(), record));
                items.push_back(ca_json(record, now, own ? &*own : nullptr));
              }
              return json_response({{"items", items}});
            });
}

void add_show(Router& router, ApiServices& api) {
  add_route(router, "GET", "/api/v1/cas/{ca}", Permission::kRead,
            RouteDoc{kTag, "a CA's details and settings"},
            [&api](ApiCall& call, const json&) -> Result<http::Response> {
              SIGNET_ASSIGN_OR_RETURN(auto name, visible_ca(call));
              SIGNET_ASSIGN_OR_RETURN(auto record, api.authority().find_ca(name));
              SIGNET_ASSIGN_OR_RETURN(auto own, ca_own_certificate(api.inventory(), record));
              return json_response(ca_json(record, api.clock().now(), own ? &*own : nullptr));
            });
}

// ---- create ----

const std::vector<std::string>& key_algorithms() {
  static const std::vector<std::string> kNames = {"ec-p256",  "ec-p384",  "rsa-2048",
                                                  "rsa-3072", "rsa-4096", "ed25519"};
  return kNames;
}

json create_schema() {
  return object_schema(
      {{"name", string_schema("CA name (letters, digits, '.', '_', '-')")},
       {"type", string_schema("root (self-signed) or intermediate", {"root", "intermediate"})},
       {"subject", string_schema("subject DN: 'CN=Root,O=Example,C=DE'")},
       {"parent", string_schema("intermediate: the parent CA here")},
       {"external", boolean_schema("intermediate: signed by a root outside Signet (the response "
                                   "carries the CSR to send it)")},
       {"key_algorithm", string_schema("key algorithm (default ec-p384)", key_algorithms())},
       {"token", string_schema("the token that generates the key (default: the appliance's)")},
       {"key_uri", string_schema("adopt this existing key on a token (RFC 7512 URI) instead of "
                                 "generating one")},
       {"validity_days", integer_schema("validity of the CA certificate (default 3650 for a root, "
                                        "1825 for an intermediate)",
                                        1, 36500)},
       {"path_length", integer_schema("basicConstraints pathLenConstraint", 0, 32)}},
      {"name", "type", "subject"});
}

Result<ca::NewCaRequest> create_request_of(const json& body, bool& root) {
  ca::NewCaRequest request;
  request.name = field_string_or(body, "name", "");
  request.subject = field_string_or(body, "subject", "");
  root = field_string_or(body, "type", "") == "root";
  SIGNET_ASSIGN_OR_RETURN(request.key_algorithm, base::parse_key_algorithm(field_string_or(
                                                     body, "key_algorithm", "ec-p384")));
  request.token = field_string_or(body, "token", "");
  request.key_uri = field_string_or(body, "key_uri", "");
  request.validity_days = field_int(body, "validity_days");
  request.path_length = field_int(body, "path_length");
  request.parent = field_string_or(body, "parent", "");
  request.external_parent = field_bool(body, "external").value_or(false);
  if (ApiServices::is_internal_ca(request.name)) {
    return Error(ErrorCode::kAlreadyExists, "the name '" + request.name + "' is reserved");
  }
  if (root && (!request.parent.empty() || request.external_parent)) {
    return Error(ErrorCode::kInvalidArgument,
                 "a root CA has no parent: leave out 'parent' and 'external' with type 'root'");
  }
  if (!root && request.parent.empty() == !request.external_parent) {
    return Error(ErrorCode::kInvalidArgument,
                 "an intermediate CA needs either 'parent' (a CA here) or 'external': true");
  }
  if (ApiServices::is_internal_ca(request.parent)) return no_such_ca(request.parent);
  if (!request.token.empty() && !request.key_uri.empty()) {
    return Error(ErrorCode::kInvalidArgument,
                 "'token' says where to generate a key; 'key_uri' adopts an existing one: give "
                 "one of them");
  }
  return request;
}

void add_create(Router& router, ApiServices& api) {
  RouteDoc doc{kTag,
               "create a root CA, or an intermediate CA signed by a CA here or by an external "
               "root (its CSR is in the response as csr_pem)",
               {},
               create_schema()};
  doc.success_status = 201;
  add_route(router, "POST", "/api/v1/cas", Permission::kAdminister, std::move(doc),
            [&api](ApiCall& call, const json& body) -> Result<http::Response> {
              bool root = false;
              SIGNET_ASSIGN_OR_RETURN(auto request, create_request_of(body, root));
              ca::CaRecord record;
              {
                auto lock = api.admin_lock();
                auto authority = api.authority_for(call.principal);
                SIGNET_ASSIGN_OR_RETURN(record, root ? authority->create_root(request)
                                                     : authority->create_intermediate(request));
                api.ca_changed(record.name);
              }
              auto j = ca_json(record, api.clock().now());
              if (!record.pending_csr_der.empty()) {
                j["csr_pem"] = pki::pem_encode("CERTIFICATE REQUEST", record.pending_csr_der);
              }
              // Every CA gets its "default" RA profile, so that issuing with only 'ca' works.
              auto profile = api.service_for(call.principal)->ensure_default_profile(record.name);
              j["default_profile"] = profile ? json(profile->qualified_name()) : json(nullptr);
              if (!profile) {
                j["warnings"] = {"the default profile was not created: " +
                                 profile.error().message() + " (it is created on first use)"};
              }
              return json_response(j, 201);
            });
}

// ---- certificate, chain, CSR, import ----

void add_certificate(Router& router, ApiServices& api) {
  RouteDoc doc{kTag,
               "the CA's certificate (PEM by default), or with chain=true its chain up to the root",
               {{"format", "pem (default) or der"},
                {"chain", "true: the certificate followed by its issuers (PEM only)", "boolean"}}};
  doc.response_type = "application/x-pem-file";
  add_route(
      router, "GET", "/api/v1/cas/{ca}/certificate", Permission::kRead, std::move(doc),
      [&api](ApiCall& call, const json&) -> Result<http::Response> {
        SIGNET_ASSIGN_OR_RETURN(auto name, visible_ca(call));
        SIGNET_ASSIGN_OR_RETURN(auto format, query_choice(call.request, "format", {"pem", "der"}));
        SIGNET_ASSIGN_OR_RETURN(auto chain, query_bool(call.request, "chain"));
        const bool der = format && *format == "der";
        if (der && chain) {
          return Error(ErrorCode::kInvalidArgument,
                       "a DER file holds one certificate; ask for format=pem with chain=true");
        }
        SIGNET_ASSIGN_OR_RETURN(auto ders, api.authority().ca_chain(name));
        const std::string stem = file_stem(name, "ca");
        if (der) {
          return file_response(std::string(base::as_chars(ders.front())), "application/pkix-cert",
                               stem + ".der");
        }
        std::string pem;
        for (std::size_t i = 0; i < (chain ? ders.size() : 1); ++i) {
          pem += pki::pem_encode("CERTIFICATE", ders[i]);
        }
        return file_response(std::move(pem), "application/x-pem-file",
                             stem + (chain ? "-chain.pem" : ".crt"));
      });
}

void add_csr(Router& router, ApiServices& api) {
  RouteDoc doc{kTag, "the pending CSR of a CA signed by an external root (PEM)"};
  doc.response_type = "application/pkcs10";
  add_route(router, "GET", "/api/v1/cas/{ca}/csr", Permission::kRead, std::move(doc),
            [&api](ApiCall& call, const json&) -> Result<http::Response> {
              SIGNET_ASSIGN_OR_RETURN(auto name, visible_ca(call));
              SIGNET_ASSIGN_OR_RETURN(auto record, api.authority().find_ca(name));
              if (record.pending_csr_der.empty()) {
                return Error(ErrorCode::kNotFound,
                             "CA '" + name + "' awaits no certificate: it has no pending CSR");
              }
              return file_response(pki::pem_encode("CERTIFICATE REQUEST", record.pending_csr_der),
                                   "application/pkcs10", file_stem(name, "ca") + ".csr");
            });
}

void add_import(Router& router, ApiServices& api) {
  RouteDoc doc{
      kTag,
      "install the certificate an external root issued for a CA awaiting one (PEM "
      "bundle: the CA certificate first, then its issuers)",
      {},
      object_schema({{"pem", string_schema("the CA certificate and its issuers (PEM)")}}, {"pem"})};
  add_route(router, "POST", "/api/v1/cas/{ca}/certificate", Permission::kAdminister, std::move(doc),
            [&api](ApiCall& call, const json& body) -> Result<http::Response> {
              SIGNET_ASSIGN_OR_RETURN(auto name, visible_ca(call));
              const auto pem = field_string_or(body, "pem", "");
              auto lock = api.admin_lock();
              auto authority = api.authority_for(call.principal);
              SIGNET_ASSIGN_OR_RETURN(auto record,
                                      authority->import_ca_certificate(name, base::as_bytes(pem)));
              api.ca_changed(name);
              return json_response(ca_json(record, api.clock().now()));
            });
}

}  // namespace

void register_ca_routes(Router& router, ApiServices& api) {
  add_list(router, api);
  add_show(router, api);
  add_create(router, api);
  add_certificate(router, api);
  add_csr(router, api);
  add_import(router, api);
  api_internal::register_ca_administration_routes(router, api);
}

}  // namespace signet::appliance
