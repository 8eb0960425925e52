#include "appliance/api/internal/certificate_support.h"

#include <algorithm>

#include "appliance/api/metrics.h"
#include "appliance/core/views.h"
#include "pki/pem.h"

namespace signet::appliance::api_internal {

using base::Error;
using base::ErrorCode;
using base::Result;
using nlohmann::json;

Result<ca::CertificateRecord> find_certificate(ApiServices& api, const std::string& id,
                                               const std::string& ca_name) {
  auto bytes = base::from_hex(id);
  if (!bytes || bytes->empty()) {
    return Error(ErrorCode::kInvalidArgument,
                 "'" + id + "' is neither a serial number nor a SHA-256 fingerprint (hex)");
  }
  const Error not_found(ErrorCode::kNotFound,
                        "no certificate has serial number or fingerprint " + id);
  auto& inventory = api.inventory();
  auto visible = [&](const ca::CertificateRecord& r) {
    return !ApiServices::is_internal_ca(r.ca_name) && (ca_name.empty() || r.ca_name == ca_name);
  };
  if (bytes->size() == 32) {
    SIGNET_ASSIGN_OR_RETURN(auto found, inventory.find_certificate_by_fingerprint(*bytes));
    if (found && visible(*found)) return std::move(*found);
  }
  auto serial = pki::SerialNumber::from_bytes(*bytes);
  if (!serial) return not_found;  // not a valid serial (e.g. too long): nothing has it
  SIGNET_ASSIGN_OR_RETURN(auto matches, inventory.find_certificates_by_serial(*serial));
  std::erase_if(matches, [&](const auto& r) { return !visible(r); });
  if (matches.empty()) return not_found;
  if (matches.size() > 1) {
    std::string cas;
    for (const auto& m : matches) cas += (cas.empty() ? "" : ", ") + m.ca_name;
    return Error(ErrorCode::kInvalidArgument,
                 "serial number " + id + " is used by several CAs (" + cas +
                     "); name one with ?ca= or use the SHA-256 fingerprint");
  }
  return std::move(matches.front());
}

json certificate_detail_json(ApiServices& api, const ca::CertificateRecord& record) {
  auto j = certificate_json(record, api.clock().now());
  auto link = [&](std::uint64_t id, const char* key) {
    if (id == 0) return;
    auto found = api.inventory().find_certificate_by_id(id);
    if (found && *found) {
      j[key] = (*found)->serial.to_hex() + " (" + (*found)->ca_name + ")";
    } else {
      j[key] = "#" + std::to_string(id);
    }
  };
  link(record.predecessor_id, "predecessor");
  link(record.successor_id, "successor");
  return j;
}

Result<json> order_result_json(ApiServices& api, const ca::OrderResult& result) {
  const auto now = api.clock().now();
  const auto& record = result.certificate;
  auto j = certificate_json(record, now);
  j["pem"] = pki::pem_encode("CERTIFICATE", record.der);
  // An issuance result carries the chain of the CA context that signed; anything else has it
  // looked up (and each link's signature checked) by chain_for.
  auto ders = result.chain;
  if (ders.empty() && !record.ca_name.empty()) {
    SIGNET_ASSIGN_OR_RETURN(ders, api.authority().chain_for(record.ca_name, record.der));
  }
  std::string chain;
  for (const auto& der : ders) {
    if (der != record.der) chain += pki::pem_encode("CERTIFICATE", der);
  }
  j["chain_pem"] = chain;
  j["order"] = order_json(result.order, now);
  j["order_id"] = result.order.id;
  j["warnings"] = result.order.warnings;
  if (result.local_key) {
    j["pfx_base64"] = base::to_base64(result.local_key->pfx);
    // Shown once, in this response body only: never stored, logged or put in a URL.
    j["pfx_password"] = std::string(base::as_chars(result.local_key->password.view()));
    j["pfx_profile"] = std::string(pki::to_string(result.local_key->profile));
  }
  return j;
}

Result<ca::OrderResult> counted(ApiServices& api, Result<ca::OrderResult> result) {
  api.metrics().issuance(result.has_value());
  return result;
}

json revocation_result_json(ApiServices& api, const ca::OrderResult& result) {
  const auto now = api.clock().now();
  auto j = certificate_json(result.certificate, now);
  j["order"] = order_json(result.order, now);
  j["order_id"] = result.order.id;
  return j;
}

json pfx_profile_schema() {
  return string_schema(
      "PKCS#12 encryption: modern (AES-256, PBKDF2, SHA-256 MAC) or compat (3DES, SHA-1 MAC, "
      "for old Windows and Java; 'legacy' is the same)",
      {"modern", "compat", "legacy"});
}

Result<pki::PfxProfile> parse_pfx_profile_field(const json& body) {
  const auto name = field_string_or(body, "pfx_profile", "modern");
  return pki::parse_pfx_profile(name == "legacy" ? "compat" : name);
}

json key_source_schema() {
  return object_schema(
      {{"kind", string_schema("where the subject's key comes from",
                              {"csr", "token_key", "key_on_token", "local_key"})},
       {"csr", string_schema("csr: the PKCS#10 request (PEM)")},
       {"key_uri", string_schema("token_key: the private key on a token (RFC 7512 pkcs11: URI)")},
       {"algorithm",
        string_schema("key_on_token, local_key: the key to generate (default: the "
                      "profile's first allowed, else ec-p256)",
                      {"ec-p256", "ec-p384", "rsa-2048", "rsa-3072", "rsa-4096", "ed25519"})},
       {"token", string_schema("key_on_token: the token that generates the key; local_key: the "
                               "token whose key wraps it (default: the appliance's token)")},
       {"pfx_profile", pfx_profile_schema()}},
      {"kind"});
}

namespace {

// Refuses the fields of `key_source` that the kind does not use.
Result<void> only_fields(const json& key_source, const std::string& kind,
                         std::initializer_list<const char*> allowed) {
  for (const auto& [name, value] : key_source.items()) {
    if (name == "kind" || value.is_null()) continue;
    const bool ok = std::any_of(allowed.begin(), allowed.end(),
                                [&name = name](const char* a) { return name == a; });
    if (!ok) {
      return Error(ErrorCode::kInvalidArgument,
                   "the field 'key_source." + name + "' does not go with kind '" + kind + "'");
    }
  }
  return base::ok();
}

}  // namespace

Result<ParsedKeySource> parse_key_source(const json& key_source) {
  // Built once: building the schema cost more than validating a request against it.
  static const json schema = key_source_schema();
  SIGNET_TRY(validate(key_source, schema, "key_source"));
  const std::string kind = key_source["kind"].get<std::string>();
  ParsedKeySource parsed;
  auto& source = parsed.source;
  if (kind == "csr") {
    SIGNET_TRY(only_fields(key_source, kind, {"csr"}));
    const auto csr = field_string(key_source, "csr");
    if (!csr || csr->empty()) {
      return Error(ErrorCode::kInvalidArgument,
                   "key_source kind 'csr' needs the field 'csr' (PEM)");
    }
    source.kind = ca::KeySourceKind::kCsr;
    const auto bytes = base::as_bytes(*csr);
    source.csr.assign(bytes.begin(), bytes.end());
  } else if (kind == "token_key") {
    SIGNET_TRY(only_fields(key_source, kind, {"key_uri"}));
    const auto uri = field_string(key_source, "key_uri");
    if (!uri || uri->empty()) {
      return Error(ErrorCode::kInvalidArgument,
                   "key_source kind 'token_key' needs the field 'key_uri' (a pkcs11: URI)");
    }
    source.kind = ca::KeySourceKind::kTokenKey;
    source.key_uri = *uri;
  } else {
    const bool local = kind == "local_key";
    if (local) {
      SIGNET_TRY(only_fields(key_source, kind, {"algorithm", "token", "pfx_profile"}));
      SIGNET_ASSIGN_OR_RETURN(parsed.pfx_profile, parse_pfx_profile_field(key_source));
    } else {
      SIGNET_TRY(only_fields(key_source, kind, {"algorithm", "token"}));
    }
    source.kind = local ? ca::KeySourceKind::kLocalKey : ca::KeySourceKind::kKeyOnToken;
    source.token = field_string_or(key_source, "token", "");
    if (auto algorithm = field_string(key_source, "algorithm")) {
      SIGNET_ASSIGN_OR_RETURN(source.algorithm, base::parse_key_algorithm(*algorithm));
    }
  }
  return parsed;
}

Properties revocation_properties() {
  return {{"reason", string_schema("RFC 5280 reason: unspecified, keyCompromise, cACompromise, "
                                   "affiliationChanged, superseded, cessationOfOperation, "
                                   "privilegeWithdrawn or aACompromise (certificateHold is not "
                                   "offered: a revocation is permanent)")},
          {"invalidity_date",
           string_schema("when the key is known or suspected to have been compromised (RFC 3339 "
                         "UTC, e.g. 2026-01-31T12:00:00Z; not in the future)")}};
}

Result<ca::RevokeRequest> parse_revocation(const json& body) {
  ca::RevokeRequest request;
  auto reason = ca::parse_revocation_reason(field_string_or(body, "reason", ""));
  if (!reason) {
    return Error(ErrorCode::kInvalidArgument, "the field 'reason': " + reason.error().message());
  }
  request.reason = *reason;
  if (auto date = field_string(body, "invalidity_date")) {
    auto parsed = parse_time(*date);
    if (!parsed) {
      return Error(ErrorCode::kInvalidArgument,
                   "the field 'invalidity_date': " + parsed.error().message());
    }
    request.invalidity_date = *parsed;
  }
  return request;
}

std::optional<http::Response> refuse_profile(const Principal& principal, const std::string& ca_name,
                                             const std::string& profile_name) {
  if (principal.may_use_profile(ca_name, profile_name)) return std::nullopt;
  std::string scope;
  for (const auto& p : principal.profiles) scope += (scope.empty() ? "" : ", ") + p;
  const std::string what = profile_name.empty()
                               ? "this request, which goes through no RA profile"
                               : "the RA profile '" + ca_name + "/" + profile_name + "'";
  return error_response(403, "forbidden",
                        "this API token may not use " + what + " (it is scoped to " + scope + ")");
}

Result<std::string> visible_ca(const ApiCall& call, std::string_view param) {
  const auto& name = call.param(param);
  if (ApiServices::is_internal_ca(name)) return no_such_ca(name);
  return name;
}

}  // namespace signet::appliance::api_internal
