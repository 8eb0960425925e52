#include "appliance/console/console.h"

#include <array>

namespace signet::appliance::console {
namespace {

constexpr std::string_view kAssetPrefix = "/console/";

// The first path segments of the console's client-side routes (assets/js/main.js).
constexpr std::array<std::string_view, 12> kAppRoutes = {
    "login",  "dashboard", "certificates", "request", "orders", "alerts",
    "tokens", "operators", "profiles",     "cas",     "audit",  "cards",
};

// No inline script or style anywhere ('unsafe-inline' is absent from every directive), nothing
// from other origins, no plugins, no <base> rewriting, forms only to ourselves, no framing, and
// DOM sinks such as innerHTML refused outright (Trusted Types with no policy allowed).
constexpr std::string_view kCsp =
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'none'; "
    "form-action 'self'; frame-ancestors 'none'; require-trusted-types-for 'script'; "
    "trusted-types 'none'";

void add_security_headers(http::Response& response) {
  response.add_header("Content-Security-Policy", std::string(kCsp));
  response.add_header("X-Frame-Options", "DENY");
  response.add_header("X-Content-Type-Options", "nosniff");
  response.add_header("Referrer-Policy", "no-referrer");
  response.add_header("Strict-Transport-Security", "max-age=31536000");
  response.add_header("Cross-Origin-Opener-Policy", "same-origin");
  response.add_header("Cross-Origin-Resource-Policy", "same-origin");
  response.add_header("Permissions-Policy", "camera=(), microphone=(), geolocation=(), usb=()");
}

http::Response plain(int status, std::string text) {
  http::Response response;
  response.status = status;
  response.content_type = "text/plain; charset=utf-8";
  response.body = std::move(text);
  response.add_header("Cache-Control", "no-store");
  add_security_headers(response);
  return response;
}

bool is_app_route(std::string_view path) {
  if (path.empty() || path.front() != '/') return false;
  const auto rest = path.substr(1);
  const auto first = rest.substr(0, rest.find('/'));
  for (const auto route : kAppRoutes) {
    if (first == route) return true;
  }
  return false;
}

}  // namespace

std::string_view content_security_policy() { return kCsp; }

base::Result<Console> Console::create(std::span<const Asset> assets) {
  Console console;
  for (const auto& asset : assets) console.by_path_.emplace(asset.path, &asset);
  const auto index = console.by_path_.find("index.html");
  if (index == console.by_path_.end()) {
    return base::Error(base::ErrorCode::kInternal, "the web console's assets hold no index.html");
  }
  console.index_ = index->second;
  return console;
}

bool Console::owns(std::string_view path) const {
  return path == "/" || path.starts_with(kAssetPrefix) || is_app_route(path);
}

http::Response Console::handle(const http::Request& request) const {
  if (request.method != "GET" && request.method != "HEAD") {
    auto response = plain(405, "method " + request.method + " is not allowed here\n");
    response.add_header("Allow", "GET, HEAD");
    return response;
  }
  const std::string_view path = request.path;
  if (path.starts_with(kAssetPrefix)) {
    // An exact lookup: no file system, so ".." or "%2F" cannot reach anything else.
    const auto found = by_path_.find(path.substr(kAssetPrefix.size()));
    if (found == by_path_.end()) return plain(404, "no such console file\n");
    return serve(*found->second, request, "no-cache");
  }
  // The client-side routes all load the same page; it never holds data, but a stored copy
  // could outlive an upgrade of the scripts it names.
  return serve(*index_, request, "no-store");
}

http::Response Console::serve(const Asset& asset, const http::Request& request,
                              std::string_view cache_control) const {
  http::Response response;
  response.content_type = std::string(asset.content_type);
  response.add_header("Cache-Control", std::string(cache_control));
  response.add_header("ETag", std::string(asset.etag));
  add_security_headers(response);
  const auto if_none_match = request.header("if-none-match");
  if (cache_control != "no-store" && if_none_match && *if_none_match == asset.etag) {
    response.status = 304;
    return response;
  }
  if (request.method != "HEAD") response.body = std::string(asset.body);
  return response;
}

}  // namespace signet::appliance::console
