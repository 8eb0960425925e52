// What the certificate, CA and order handlers share: finding a certificate by the ID an
// operator uses (serial or SHA-256 fingerprint, as `signet cert show` takes it), the key source
// and revocation parts of request bodies (their schemas and their parsing), the RA-profile
// scope of API tokens, and the JSON of an order's outcome (the certificate as `signet --json`
// describes it, its PEM and chain, and a local key's one-time PKCS#12).
//
// Thread-safe: every function uses only the thread-safe services of ApiServices.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "appliance/api/api.h"
#include "appliance/api/internal/request_support.h"
#include "ca/certificate_service.h"

namespace signet::appliance::api_internal {

// ID is a SHA-256 fingerprint (64 hex digits) or a serial number (hex, colons allowed);
// `ca_name` chooses among CAs that used the same serial. Certificates of the appliance's
// internal CA are not found.
base::Result<ca::CertificateRecord> find_certificate(ApiServices& api, const std::string& id,
                                                     const std::string& ca_name);

// certificate_json() with "predecessor" / "successor" ("<serial> (<ca>)") as `cert show` adds.
nlohmann::json certificate_detail_json(ApiServices& api, const ca::CertificateRecord& record);

// The outcome of issue / renew / rekey / reissue / resubmit: certificate_json() plus "pem",
// "chain_pem" (the issuing CA certificates), "order", "order_id", "warnings" and, for a local
// key, "pfx_base64", "pfx_password" (shown this once) and "pfx_profile".
base::Result<nlohmann::json> order_result_json(ApiServices& api, const ca::OrderResult& result);
// Counts an issuance's outcome (issue, renew, rekey, reissue, resubmit) in the metrics and
// hands it on.
base::Result<ca::OrderResult> counted(ApiServices& api, base::Result<ca::OrderResult> result);

// A revocation's outcome: certificate_json() plus "order" and "order_id".
nlohmann::json revocation_result_json(ApiServices& api, const ca::OrderResult& result);

// The schema of "key_source" and its parsing: {"kind": "csr", "csr": PEM} |
// {"kind": "token_key", "key_uri"} | {"kind": "key_on_token", "algorithm", "token"} |
// {"kind": "local_key", "algorithm", "token", "pfx_profile"}.
nlohmann::json key_source_schema();
struct ParsedKeySource {
  ca::KeySource source;
  pki::PfxProfile pfx_profile = pki::PfxProfile::kModern;
};
base::Result<ParsedKeySource> parse_key_source(const nlohmann::json& key_source);

// "pfx_profile": modern or compat ("legacy" is taken for compat).
nlohmann::json pfx_profile_schema();
base::Result<pki::PfxProfile> parse_pfx_profile_field(const nlohmann::json& body);

// "reason" (RFC 5280 name or code) and "invalidity_date" (RFC 3339 UTC).
Properties revocation_properties();
base::Result<ca::RevokeRequest> parse_revocation(const nlohmann::json& body);

// The 403 when `principal` (an API token scoped to RA profiles) may not use the profile;
// nullopt when it may.
std::optional<http::Response> refuse_profile(const Principal& principal, const std::string& ca_name,
                                             const std::string& profile_name);

// A CA name from the path, refusing (kNotFound) the appliance's internal CA.
base::Result<std::string> visible_ca(const ApiCall& call, std::string_view param = "ca");

}  // namespace signet::appliance::api_internal
