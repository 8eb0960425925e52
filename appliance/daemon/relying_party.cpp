#include "appliance/daemon/relying_party.h"

#include <ctime>

#include "appliance/api/router.h"

namespace signet::appliance {

namespace {

constexpr std::size_t kMaxOcspRequest = 64 * 1024;

std::string http_date(base::TimePoint t) {
  const std::time_t seconds = static_cast<std::time_t>(base::to_unix_seconds(t));
  std::tm tm{};
  ::gmtime_r(&seconds, &tm);
  char buffer[64];
  std::strftime(buffer, sizeof(buffer), "%a, %d %b %Y %H:%M:%S GMT", &tm);
  return buffer;
}

http::Response plain(int status, std::string text) {
  http::Response response;
  response.status = status;
  response.content_type = "text/plain; charset=utf-8";
  response.body = std::move(text) + "\n";
  return response;
}

bool ends_with(std::string_view text, std::string_view suffix) {
  return text.size() >= suffix.size() && text.substr(text.size() - suffix.size()) == suffix;
}

bool valid_ca_name(std::string_view name) {
  if (name.empty() || name.size() > 64) return false;
  for (char c : name) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '.' || c == '_' || c == '-';
    if (!ok) return false;
  }
  return true;
}

}  // namespace

RelyingPartyEndpoints::RelyingPartyEndpoints(ca::CaDirectory& cas, ca::CrlLog& crls,
                                             crl::OcspResponder& responder, Metrics& metrics)
    : cas_(cas), crls_(crls), responder_(responder), metrics_(metrics) {}

http::Response RelyingPartyEndpoints::handle(http::Request& request) {
  std::string route_name = "unmatched";
  auto response = route(request, route_name);
  response.add_header("X-Content-Type-Options", "nosniff");
  if (request.method == "HEAD") response.body.clear();
  metrics_.http_request("http " + route_name, response.status);
  return response;
}

http::Response RelyingPartyEndpoints::route(http::Request& request, std::string& route_name) {
  const std::string_view path = request.path;
  const bool get = request.method == "GET" || request.method == "HEAD";
  if (path.rfind("/crl/", 0) == 0 && ends_with(path, ".crl")) {
    route_name = "GET /crl/{ca}.crl";
    if (!get) return plain(405, "method not allowed");
    std::string name(path.substr(5, path.size() - 5 - 4));
    ca::CrlKind kind = ca::CrlKind::kFull;
    if (ends_with(name, "-delta")) {
      kind = ca::CrlKind::kDelta;
      name.resize(name.size() - 6);
    }
    if (!valid_ca_name(name)) return plain(404, "not found");
    return crl(name, kind);
  }
  if (path.rfind("/ca/", 0) == 0 && ends_with(path, ".crt")) {
    route_name = "GET /ca/{ca}.crt";
    if (!get) return plain(405, "method not allowed");
    const std::string name(path.substr(4, path.size() - 4 - 4));
    if (!valid_ca_name(name)) return plain(404, "not found");
    return ca_certificate(name);
  }
  if (path.rfind("/ocsp/", 0) == 0) {
    const std::string_view rest = path.substr(6);
    const std::size_t slash = rest.find('/');
    const std::string name(rest.substr(0, slash));
    if (!valid_ca_name(name)) return plain(404, "not found");
    if (request.method == "POST" && slash == std::string_view::npos) {
      route_name = "POST /ocsp/{ca}";
      const auto type = request.header("content-type");
      if (!type || *type != "application/ocsp-request") {
        return plain(415, "Content-Type must be application/ocsp-request");
      }
      if (request.body.size() > kMaxOcspRequest) return plain(413, "request too large");
      return ocsp(name, request.body, false);
    }
    if (get && slash != std::string_view::npos) {
      route_name = "GET /ocsp/{ca}/{request}";
      // The path was percent-decoded by the server; what remains is base64 (RFC 6960 A.1).
      // Use the raw target: a '/' inside the base64 text is part of the request.
      const std::string prefix = "/ocsp/" + name + "/";
      std::string_view raw = request.target;
      raw = raw.substr(0, raw.find('?'));
      if (raw.rfind(prefix, 0) != 0) return plain(400, "malformed OCSP GET path");
      auto text = http::percent_decode(raw.substr(prefix.size()), false);
      if (!text || text->size() > kMaxOcspRequest) return plain(400, "malformed OCSP GET path");
      auto der = base::from_base64(*text);
      if (!der) return plain(400, "the OCSP GET path is not base64");
      return ocsp(name, std::string(der->begin(), der->end()), true);
    }
    route_name = "ocsp";
    return plain(405, "method not allowed");
  }
  return plain(404, "not found");
}

http::Response RelyingPartyEndpoints::crl(const std::string& ca_name, ca::CrlKind kind) {
  auto info = crls_.latest_crl_info(ca_name, kind);
  if (!info) return plain(503, "the CRL cannot be read now");
  if (!*info) return plain(404, "no such CRL");
  const auto key = std::make_pair(ca_name, static_cast<int>(kind));
  CachedCrl cached;
  {
    std::lock_guard lock(mutex_);
    const auto it = cache_.find(key);
    if (it != cache_.end() && it->second.number == (*info)->number) cached = it->second;
  }
  if (cached.der.empty()) {
    auto full = crls_.find_crl(ca_name, (*info)->number);
    if (!full || !*full) return plain(503, "the CRL cannot be read now");
    cached.number = (*full)->number;
    cached.der.assign((*full)->der.begin(), (*full)->der.end());
    cached.next_update = (*full)->next_update;
    std::lock_guard lock(mutex_);
    cache_[key] = cached;
  }
  http::Response response;
  response.content_type = "application/pkix-crl";
  response.body = std::move(cached.der);
  // Relying parties may cache it until the next update (RFC 5280 §5.1.2.5).
  response.add_header("Expires", http_date(cached.next_update));
  response.add_header("Cache-Control", "public, no-transform, must-revalidate");
  return response;
}

http::Response RelyingPartyEndpoints::ca_certificate(const std::string& ca_name) {
  auto found = cas_.find_ca(ca_name);
  if (!found) return plain(503, "the CA cannot be read now");
  if (!*found || (*found)->certificate_der.empty()) return plain(404, "no such CA certificate");
  http::Response response;
  response.content_type = "application/pkix-cert";
  response.body.assign((*found)->certificate_der.begin(), (*found)->certificate_der.end());
  response.add_header("Cache-Control", "public, max-age=3600");
  return response;
}

http::Response RelyingPartyEndpoints::ocsp(const std::string& ca_name, std::string_view der,
                                           bool cacheable) {
  (void)ca_name;  // the responder finds the issuer from the CertID; the path names it for humans
  const auto outcome = responder_.handle(
      base::ByteView(reinterpret_cast<const std::uint8_t*>(der.data()), der.size()));
  http::Response response;
  response.content_type = "application/ocsp-response";
  response.body.assign(outcome.response.begin(), outcome.response.end());
  if (cacheable && outcome.status == pki::OcspResponseStatus::kSuccessful) {
    // RFC 5019 §6.2: let caches keep a GET response for a while.
    response.add_header("Cache-Control", "max-age=300, public, no-transform, must-revalidate");
  } else {
    response.add_header("Cache-Control", "no-store");
  }
  return response;
}

}  // namespace signet::appliance
