// Console: the appliance's web console as signetd serves it on its HTTPS listener, beside the
// REST API. The console is static files (assets/: HTML, CSS and plain ES modules) compiled into
// the binary at build time (embed_assets.cmake generates console_assets.cpp); in the browser it
// talks to the public REST API only, so this module knows nothing of certificates or sessions.
//
// What it answers (GET and HEAD; anything else is 405):
//   /console/<file>         an asset, with its ETag (a 304 when If-None-Match matches)
//   /, /login, /dashboard,  index.html: the console's client-side routes, so that a reload or a
//   /certificates[/...],    bookmark of any page works
//   /request, /orders[/...],
//   /alerts, /tokens,
//   /operators
// Every answer carries the console's security headers: a strict Content-Security-Policy (only
// same-origin scripts, styles and connections; no inline script or style; no framing; Trusted
// Types required), X-Frame-Options DENY, nosniff, no referrer, HSTS and cache rules (index.html
// is never stored, assets are revalidated by ETag).
//
// Thread-safe: immutable after construction; handle() from any thread. The assets it serves
// are borrowed and must outlive it (embedded_assets() lives for the whole program).
#pragma once

#include <span>
#include <string_view>
#include <unordered_map>

#include "appliance/server/http.h"
#include "base/result.h"

namespace signet::appliance::console {

struct Asset {
  std::string_view path;          // relative to assets/: "index.html", "js/api.js"
  std::string_view content_type;  // "text/javascript; charset=utf-8"
  std::string_view etag;          // quoted, from the file's SHA-256
  std::string_view body;
};

// The files of appliance/console/assets/, compiled in (generated at build time).
std::span<const Asset> embedded_assets();

// The Content-Security-Policy of every console response.
std::string_view content_security_policy();

class Console {
 public:
  // A console over `assets`, which must hold "index.html" (kInternal otherwise).
  static base::Result<Console> create(std::span<const Asset> assets = embedded_assets());

  // Whether `path` (a decoded request path) is the console's rather than the REST API's.
  bool owns(std::string_view path) const;

  // The response to a request whose path owns() accepted.
  http::Response handle(const http::Request& request) const;

 private:
  Console() = default;
  http::Response serve(const Asset& asset, const http::Request& request,
                       std::string_view cache_control) const;

  std::unordered_map<std::string_view, const Asset*> by_path_;
  const Asset* index_ = nullptr;
};

}  // namespace signet::appliance::console
