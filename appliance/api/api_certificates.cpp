// /api/v1/certificates: the inventory (list with filters and keyset pages, detail), issuance,
// import of existing certificates, downloads (PEM, DER, chain) and a local key's PKCS#12.
// Renew, rekey, reissue and revoke live in internal/certificate_lifecycle.cpp.
#include <chrono>

#include "appliance/api/api.h"
#include "appliance/api/internal/certificate_lifecycle.h"
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

constexpr const char* kTag = "certificates";
constexpr const char* kIdPattern = "/api/v1/certificates/{id}";

QueryParameterDoc ca_query() {
  return {"ca", "the issuing CA, when a serial number is used by several"};
}

// ---- list ----

std::vector<QueryParameterDoc> list_query() {
  return {{"status", "active, expired or revoked"},
          {"source", "managed (issued here) or discovered (imported)"},
          {"ca", "issued by this CA"},
          {"profile", "issued through this RA profile (NAME or CA/NAME)"},
          {"expiring_within_days", "notAfter within this many days from now (0-36500)", "integer"},
          {"q", "prefix of the CN or a SAN ('www.exa'), or a DNS suffix ('*.example.com')"},
          {"sort", "notAfter (default), notBefore, cn or serial"},
          {"order", "asc (default) or desc"},
          {"limit", "at most this many (1-1000, default 100)", "integer"},
          {"cursor", "continue after this cursor (next_cursor of the previous page)"}};
}

Result<ca::CertificateQuery> list_query_of(const http::Request& request, base::TimePoint now) {
  ca::CertificateQuery query;
  query.now = now;
  SIGNET_ASSIGN_OR_RETURN(auto status,
                          query_choice(request, "status", {"active", "expired", "revoked"}));
  if (status) {
    SIGNET_ASSIGN_OR_RETURN(query.status, ca::parse_certificate_status(*status));
  }
  SIGNET_ASSIGN_OR_RETURN(auto source, query_choice(request, "source", {"managed", "discovered"}));
  if (source) {
    SIGNET_ASSIGN_OR_RETURN(query.source, ca::parse_certificate_source(*source));
  }
  SIGNET_ASSIGN_OR_RETURN(auto within, query_integer(request, "expiring_within_days", 0, 36500));
  if (within) query.not_after_before = now + std::chrono::days(*within);
  if (auto ca_name = query_string(request, "ca")) query.ca_name = *ca_name;
  if (auto profile = query_string(request, "profile")) {
    // "ca/name" filters by both; a bare name by the profile name.
    const auto slash = profile->find('/');
    if (slash == std::string::npos) {
      query.profile = *profile;
    } else {
      query.ca_name = profile->substr(0, slash);
      query.profile = profile->substr(slash + 1);
    }
  }
  if (query.ca_name && ApiServices::is_internal_ca(*query.ca_name)) {
    return no_such_ca(*query.ca_name);
  }
  query.search = query_string(request, "q").value_or("");
  SIGNET_ASSIGN_OR_RETURN(auto sort,
                          query_choice(request, "sort", {"notAfter", "notBefore", "cn", "serial"}));
  if (sort) {
    SIGNET_ASSIGN_OR_RETURN(query.sort, ca::parse_certificate_sort(*sort));
  }
  SIGNET_ASSIGN_OR_RETURN(auto order, query_choice(request, "order", {"asc", "desc"}));
  query.descending = order && *order == "desc";
  SIGNET_ASSIGN_OR_RETURN(auto limit, query_integer(request, "limit", 1, 1000));
  query.limit = static_cast<std::size_t>(limit.value_or(100));
  query.cursor = query_string(request, "cursor").value_or("");
  return query;
}

void add_list(Router& router, ApiServices& api) {
  RouteDoc doc{kTag, "list certificates (soonest to expire first), a page at a time", list_query()};
  add_route(
      router, "GET", "/api/v1/certificates", Permission::kRead, std::move(doc),
      [&api](ApiCall& call, const json&) -> Result<http::Response> {
        SIGNET_ASSIGN_OR_RETURN(auto query, list_query_of(call.request, api.clock().now()));
        SIGNET_ASSIGN_OR_RETURN(auto page, api.inventory().list_certificates(query));
        json items = json::array();
        for (const auto& record : page.items) {
          // The appliance's own certificates are not the operators' inventory.
          if (ApiServices::is_internal_ca(record.ca_name)) continue;
          items.push_back(certificate_json(record, query.now));
        }
        return json_response(
            {{"items", items},
             {"next_cursor", page.next_cursor.empty() ? json(nullptr) : json(page.next_cursor)}});
      });
}

// ---- detail and downloads ----

void add_show(Router& router, ApiServices& api) {
  RouteDoc doc{
      kTag, "every detail of a certificate (the view is recorded in the audit log)", {ca_query()}};
  add_route(
      router, "GET", kIdPattern, Permission::kRead, std::move(doc),
      [&api](ApiCall& call, const json&) -> Result<http::Response> {
        SIGNET_ASSIGN_OR_RETURN(
            auto found,
            find_certificate(api, call.param("id"), query_string(call.request, "ca").value_or("")));
        auto service = api.service_for(call.principal);
        // By fingerprint: unambiguous even when several CAs used the serial.
        SIGNET_ASSIGN_OR_RETURN(auto record, service->view(base::to_hex(found.fingerprint_sha256)));
        return json_response(certificate_detail_json(api, record));
      });
}

enum class Download { kPem, kDer, kChain };

Result<http::Response> download(ApiServices& api, ApiCall& call, Download what) {
  SIGNET_ASSIGN_OR_RETURN(
      auto record,
      find_certificate(api, call.param("id"), query_string(call.request, "ca").value_or("")));
  auto service = api.service_for(call.principal);
  SIGNET_ASSIGN_OR_RETURN(auto ders, service->download(record.id, what == Download::kChain));
  const std::string stem = file_stem(record.common_name, record.serial.to_hex());
  if (what == Download::kDer) {
    return file_response(std::string(base::as_chars(ders.front())), "application/pkix-cert",
                         stem + ".der");
  }
  std::string pem;
  for (std::size_t i = 0; i < ders.size(); ++i) {
    // A root's own certificate ends its chain: written once.
    if (i > 0 && ders[i] == record.der) continue;
    pem += pki::pem_encode("CERTIFICATE", ders[i]);
  }
  return file_response(std::move(pem), "application/x-pem-file",
                       stem + (what == Download::kChain ? "-chain.pem" : ".crt"));
}

void add_downloads(Router& router, ApiServices& api) {
  struct Item {
    const char* suffix;
    Download what;
    const char* summary;
    const char* type;
  };
  for (const Item& item :
       {Item{"/pem", Download::kPem, "the certificate as PEM", "application/x-pem-file"},
        Item{"/der", Download::kDer, "the certificate as DER", "application/pkix-cert"},
        Item{"/chain", Download::kChain,
             "the certificate followed by its issuing CA chain (PEM bundle)",
             "application/x-pem-file"}}) {
    RouteDoc doc{kTag, item.summary, {ca_query()}};
    doc.response_type = item.type;
    const Download what = item.what;
    add_route(router, "GET", std::string(kIdPattern) + item.suffix, Permission::kRead,
              std::move(doc),
              [&api, what](ApiCall& call, const json&) { return download(api, call, what); });
  }
}

void add_pfx(Router& router, ApiServices& api) {
  RouteDoc doc{kTag,
               "a new PKCS#12 of a certificate issued with a local key, with a new one-time "
               "password (in this response only)",
               {ca_query()},
               object_schema({{"pfx_profile", pfx_profile_schema()}})};
  add_route(router, "POST", std::string(kIdPattern) + "/pfx", Permission::kOperate, std::move(doc),
            [&api](ApiCall& call, const json& body) -> Result<http::Response> {
              SIGNET_ASSIGN_OR_RETURN(auto profile, parse_pfx_profile_field(body));
              SIGNET_ASSIGN_OR_RETURN(
                  auto record, find_certificate(api, call.param("id"),
                                                query_string(call.request, "ca").value_or("")));
              if (auto refused = refuse_profile(call.principal, record.ca_name, record.profile)) {
                return *refused;
              }
              auto service = api.service_for(call.principal);
              SIGNET_ASSIGN_OR_RETURN(auto delivery, service->export_pfx(record.id, profile));
              return json_response(
                  {{"id", record.id},
                   {"serial", record.serial.to_hex()},
                   {"pfx_base64", base::to_base64(delivery.pfx)},
                   {"pfx_password", std::string(base::as_chars(delivery.password.view()))},
                   {"pfx_profile", std::string(pki::to_string(delivery.profile))}});
            });
}

// ---- issue ----

json issue_schema() {
  return object_schema(
      {{"profile", string_schema("RA profile: NAME or CA/NAME (or give only 'ca' for that CA's "
                                 "default profile)")},
       {"ca", string_schema("the issuing CA")},
       {"key_source", key_source_schema()},
       {"subject", string_schema("subject DN (not with a CSR): 'CN=host,O=Example'")},
       {"subject_alt_names",
        string_array_schema("SANs (not with a CSR): DNS:name, IP:addr, email:addr, URI:uri")},
       {"validity_days", integer_schema("validity (default: the profile's)", 1, 36500)}},
      {"key_source"});
}

Result<ca::IssueRequest> issue_request_of(const json& body) {
  SIGNET_ASSIGN_OR_RETURN(auto key, parse_key_source(body["key_source"]));
  ca::IssueRequest request;
  request.profile = {field_string_or(body, "profile", ""), field_string_or(body, "ca", "")};
  if (request.profile.profile.empty() && request.profile.ca_name.empty()) {
    return Error(ErrorCode::kInvalidArgument,
                 "give 'profile' (or 'ca' for that CA's default profile)");
  }
  request.subject = field_string_or(body, "subject", "");
  request.subject_alt_names = field_strings(body, "subject_alt_names");
  const bool has_subject = !request.subject.empty() || !request.subject_alt_names.empty();
  const bool csr = key.source.kind == ca::KeySourceKind::kCsr;
  if (csr && has_subject) {
    return Error(ErrorCode::kInvalidArgument,
                 "a CSR carries its own subject and SANs: leave out 'subject' and "
                 "'subject_alt_names' with key_source kind 'csr'");
  }
  if (!csr && !has_subject) {
    return Error(ErrorCode::kInvalidArgument,
                 "give 'subject' and/or 'subject_alt_names' for a key that is not a CSR");
  }
  request.key = std::move(key.source);
  request.pfx_profile = key.pfx_profile;
  request.validity_days = field_int(body, "validity_days");
  return request;
}

void add_issue(Router& router, ApiServices& api) {
  RouteDoc doc{kTag,
               "issue a certificate through an RA profile from one key source (a local key's "
               "PKCS#12 and its one-time password come back in this response only)",
               {},
               issue_schema()};
  doc.success_status = 201;
  add_route(router, "POST", "/api/v1/certificates", Permission::kOperate, std::move(doc),
            [&api](ApiCall& call, const json& body) -> Result<http::Response> {
              SIGNET_ASSIGN_OR_RETURN(auto request, issue_request_of(body));
              auto service = api.service_for(call.principal);
              SIGNET_ASSIGN_OR_RETURN(auto profile, service->resolve_profile(request.profile));
              if (ApiServices::is_internal_ca(profile.ca_name)) return no_such_ca(profile.ca_name);
              if (auto refused = refuse_profile(call.principal, profile.ca_name, profile.name)) {
                return *refused;
              }
              // The profile this token was checked against is the one that issues.
              request.profile = {profile.name, profile.ca_name};
              SIGNET_ASSIGN_OR_RETURN(auto result, counted(api, service->issue(request)));
              SIGNET_ASSIGN_OR_RETURN(auto j, order_result_json(api, result));
              return json_response(j, 201);
            });
}

// ---- import ----

void add_import(Router& router, ApiServices& api) {
  RouteDoc doc{kTag,
               "record existing certificates as 'discovered' (a PEM bundle); known certificates "
               "(same SHA-256 fingerprint) are skipped",
               {},
               object_schema({{"pem", string_schema("one or more PEM certificates")}}, {"pem"})};
  add_route(router, "POST", "/api/v1/certificates/import", Permission::kOperate, std::move(doc),
            [&api](ApiCall& call, const json& body) -> Result<http::Response> {
              // Discovered certificates belong to no RA profile.
              if (auto refused = refuse_profile(call.principal, "", "")) return *refused;
              const auto pem = field_string_or(body, "pem", "");
              auto service = api.service_for(call.principal);
              SIGNET_ASSIGN_OR_RETURN(auto report, service->import_certificates(
                                                       base::as_bytes(pem), "the request body"));
              if (report.imported.empty() && report.duplicates == 0 && !report.errors.empty()) {
                std::string errors;
                for (const auto& e : report.errors) errors += (errors.empty() ? "" : "; ") + e;
                return Error(ErrorCode::kInvalidArgument, "nothing was imported: " + errors);
              }
              const auto now = api.clock().now();
              json imported = json::array();
              for (const auto& record : report.imported) {
                imported.push_back(certificate_json(record, now));
              }
              return json_response({{"imported", imported},
                                    {"imported_count", report.imported.size()},
                                    {"duplicates", report.duplicates},
                                    {"errors", report.errors}});
            });
}

}  // namespace

void register_certificate_routes(Router& router, ApiServices& api) {
  add_list(router, api);
  add_show(router, api);
  add_issue(router, api);
  add_import(router, api);
  add_downloads(router, api);
  add_pfx(router, api);
  api_internal::register_certificate_lifecycle_routes(router, api);
}

}  // namespace signet::appliance
