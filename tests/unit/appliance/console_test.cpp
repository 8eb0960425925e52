// appliance/console: which paths the console owns, what it answers for each, and the security
// and cache headers on every answer. No sockets: Console::handle on plain request values, over
// both the embedded assets and a small set made here.
#include <catch2/catch.hpp>

#include "appliance/console/console.h"

namespace signet::appliance::console {
namespace {

http::Request get(std::string path, std::string method = "GET") {
  http::Request request;
  request.method = std::move(method);
  request.target = path;
  request.path = std::move(path);
  request.secure = true;
  return request;
}

std::string header(const http::Response& response, std::string_view name) {
  for (const auto& h : response.headers) {
    if (h.name == name) return h.value;
  }
  return "";
}

const Asset kAssets[] = {
    {"index.html", "text/html; charset=utf-8", "\"i1\"", "<!doctype html>index"},
    {"js/main.js", "text/javascript; charset=utf-8", "\"m1\"", "export {};"},
};

Console test_console() { return Console::create(kAssets).value(); }

}  // namespace

TEST_CASE("the console owns its pages and assets, the API keeps everything else") {
  auto console = test_console();
  for (const char* path :
       {"/", "/login", "/dashboard", "/certificates", "/certificates/ab12", "/request", "/orders",
        "/orders/12", "/alerts", "/tokens", "/operators", "/profiles", "/profiles/issuing/web",
        "/cas", "/cas/root", "/audit", "/console/js/main.js", "/console/missing.js"}) {
    INFO(path);
    CHECK(console.owns(path));
  }
  for (const char* path :
       {"/api/v1/session", "/api/openapi.json", "/healthz", "/metrics", "/loginx", "/certificatesx",
        "/consolex", "/ordersx", "/tokensx", "/casx", "/auditx", "/nowhere"}) {
    INFO(path);
    CHECK_FALSE(console.owns(path));
  }
}

TEST_CASE("client-side routes load index.html, never stored") {
  auto console = test_console();
  for (const char* path : {"/", "/login", "/certificates/00ff"}) {
    auto response = console.handle(get(path));
    CHECK(response.status == 200);
    CHECK(response.body == "<!doctype html>index");
    CHECK(response.content_type == "text/html; charset=utf-8");
    CHECK(header(response, "Cache-Control") == "no-store");
  }
}

TEST_CASE("assets are served by exact path with their ETag and revalidated") {
  auto console = test_console();
  auto response = console.handle(get("/console/js/main.js"));
  CHECK(response.status == 200);
  CHECK(response.body == "export {};");
  CHECK(response.content_type == "text/javascript; charset=utf-8");
  CHECK(header(response, "ETag") == "\"m1\"");
  CHECK(header(response, "Cache-Control") == "no-cache");

  auto conditional = get("/console/js/main.js");
  conditional.headers.push_back({"if-none-match", "\"m1\""});
  auto not_modified = console.handle(conditional);
  CHECK(not_modified.status == 304);
  CHECK(not_modified.body.empty());

  conditional.headers.back().value = "\"old\"";
  CHECK(console.handle(conditional).status == 200);
}

TEST_CASE("unknown assets and path tricks are 404, other methods 405, HEAD has no body") {
  auto console = test_console();
  for (const char* path : {"/console/missing.js", "/console/../index.html",
                           "/console/js/../js/main.js", "/console/", "/console/index.html/"}) {
    INFO(path);
    CHECK(console.handle(get(path)).status == 404);
  }
  auto post = console.handle(get("/certificates", "POST"));
  CHECK(post.status == 405);
  CHECK(header(post, "Allow") == "GET, HEAD");
  auto head = console.handle(get("/console/js/main.js", "HEAD"));
  CHECK(head.status == 200);
  CHECK(head.body.empty());
}

TEST_CASE("every console answer carries the strict CSP and the security headers") {
  auto console = test_console();
  for (const auto& request :
       {get("/"), get("/console/js/main.js"), get("/console/nope"), get("/login", "DELETE")}) {
    INFO(request.method << " " << request.path);
    auto response = console.handle(request);
    const auto csp = header(response, "Content-Security-Policy");
    CHECK(csp == content_security_policy());
    CHECK(csp.find("default-src 'self'") != std::string::npos);
    CHECK(csp.find("frame-ancestors 'none'") != std::string::npos);
    CHECK(csp.find("unsafe-inline") == std::string::npos);
    CHECK(header(response, "X-Frame-Options") == "DENY");
    CHECK(header(response, "X-Content-Type-Options") == "nosniff");
    CHECK(header(response, "Referrer-Policy") == "no-referrer");
    CHECK_FALSE(header(response, "Cache-Control").empty());
  }
}

TEST_CASE("a console needs index.html") {
  const Asset only_script[] = {{"js/main.js", "text/javascript", "\"m\"", ""}};
  auto made = Console::create(only_script);
  REQUIRE_FALSE(made);
  CHECK(made.error().message().find("index.html") != std::string::npos);
}

TEST_CASE("the embedded console holds its pages with known content types") {
  auto console = Console::create();
  REQUIRE(console);
  bool main_js = false, css = false;
  for (const auto& asset : embedded_assets()) {
    CHECK_FALSE(asset.content_type.empty());
    CHECK(asset.etag.size() > 2);
    main_js |= asset.path == "js/main.js";
    css |= asset.path == "console.css";
    if (asset.path == "index.html") {
      // No inline script or style: the CSP would refuse them.
      CHECK(asset.body.find("<script>") == std::string_view::npos);
      CHECK(asset.body.find("style=") == std::string_view::npos);
      CHECK(asset.body.find("/console/js/main.js") != std::string_view::npos);
    }
  }
  CHECK(main_js);
  CHECK(css);
}

}  // namespace signet::appliance::console
