#include <catch2/catch.hpp>

#include <chrono>
#include <string>

#include "appliance/server/http.h"
#include "appliance/server/internal/http_wire.h"

using namespace signet::appliance::http;
using Query = std::vector<std::pair<std::string, std::string>>;

TEST_CASE("percent_decode decodes escapes of either case") {
  CHECK(percent_decode("a%20b%2fc%2Fd", false) == "a b/c/d");
  CHECK(percent_decode("%e2%82%AC", false) == "\xe2\x82\xac");
  CHECK(percent_decode("", false) == "");
  CHECK(percent_decode("plain-text_~.", false) == "plain-text_~.");
}

TEST_CASE("percent_decode refuses malformed escapes instead of passing them through") {
  CHECK_FALSE(percent_decode("%zz", false));
  CHECK_FALSE(percent_decode("a%2", false));
  CHECK_FALSE(percent_decode("a%", false));
  CHECK_FALSE(percent_decode("%g0", true));
  CHECK_FALSE(percent_decode("%0g", true));
  CHECK_FALSE(percent_decode("ok%2x", true));
}

TEST_CASE("plus means space only when asked (queries), never in paths") {
  CHECK(percent_decode("a+b", true) == "a b");
  CHECK(percent_decode("a+b", false) == "a+b");
  CHECK(percent_decode("a%2Bb", true) == "a+b");
  CHECK(decode_path("/a+b") == "/a+b");
}

TEST_CASE("a decoded NUL is data in a query but refused in a path") {
  auto decoded = percent_decode("a%00b", false);
  REQUIRE(decoded);
  CHECK(*decoded == std::string("a\0b", 3));
  CHECK_FALSE(decode_path("/a%00b"));
  CHECK_FALSE(parse_target("/file%00.pem"));
  auto query = parse_query("x=a%00b");
  REQUIRE(query);
  CHECK(query->at(0).second == std::string("a\0b", 3));
}

TEST_CASE("parse_query splits and decodes pairs in order") {
  auto query = parse_query("a=1&b=x%20y&c=p+q&a=2");
  REQUIRE(query);
  CHECK(*query == Query{{"a", "1"}, {"b", "x y"}, {"c", "p q"}, {"a", "2"}});
}

TEST_CASE("parse_query skips empty items and keeps flags without a value") {
  auto query = parse_query("&flag&&k=&=v&x=1&");
  REQUIRE(query);
  CHECK(*query == Query{{"flag", ""}, {"k", ""}, {"", "v"}, {"x", "1"}});
  CHECK(parse_query("")->empty());
  CHECK(parse_query("a=b=c") == Query{{"a", "b=c"}});
}

TEST_CASE("parse_query refuses a malformed escape anywhere") {
  CHECK_FALSE(parse_query("a=1&b=%zz"));
  CHECK_FALSE(parse_query("%4=1"));
}

TEST_CASE("parse_target splits path and query") {
  auto target = parse_target("/api/v1/certificates/ab%3Acd?status=active&limit=10");
  REQUIRE(target);
  CHECK(target->path == "/api/v1/certificates/ab:cd");
  CHECK(target->query == Query{{"status", "active"}, {"limit", "10"}});
  auto bare = parse_target("/");
  REQUIRE(bare);
  CHECK(bare->path == "/");
  CHECK(bare->query.empty());
  auto empty_query = parse_target("/crl?");
  REQUIRE(empty_query);
  CHECK(empty_query->path == "/crl");
  CHECK(empty_query->query.empty());
}

TEST_CASE("parse_target accepts absolute-form and asterisk-form targets") {
  auto absolute = parse_target("http://ca.example:8080/ca.crt?x=1");
  REQUIRE(absolute);
  CHECK(absolute->path == "/ca.crt");
  CHECK(absolute->query == Query{{"x", "1"}});
  auto no_path = parse_target("HTTPS://ca.example?x=1");
  REQUIRE(no_path);
  CHECK(no_path->path == "/");
  CHECK(no_path->query == Query{{"x", "1"}});
  CHECK(parse_target("http://ca.example")->path == "/");
  CHECK(parse_target("*")->path == "*");
}

TEST_CASE("parse_target refuses other forms, fragments and bad escapes") {
  CHECK_FALSE(parse_target(""));
  CHECK_FALSE(parse_target("api/v1"));
  CHECK_FALSE(parse_target("ca.example:443"));  // authority-form (CONNECT)
  CHECK_FALSE(parse_target("http:///no-authority"));
  CHECK_FALSE(parse_target("/a#fragment"));
  CHECK_FALSE(parse_target("/a%zz"));
  CHECK_FALSE(parse_target("/a?b=%"));
}

TEST_CASE("parse_target does not normalise dot segments") {
  auto target = parse_target("/static/../secret/%2e%2e/x");
  REQUIRE(target);
  CHECK(target->path == "/static/../secret/../x");
}

TEST_CASE("Request finds headers ignoring case and the first query parameter") {
  Request request;
  request.headers = {{"content-type", "application/json"}, {"x-a", "1"}, {"x-a", "2"}};
  request.query = {{"q", "first"}, {"q", "second"}};
  CHECK(request.header("content-type") == "application/json");
  CHECK(request.header("Content-Type") == "application/json");
  CHECK(request.header("x-a") == "1");
  CHECK_FALSE(request.header("accept"));
  CHECK(request.query_param("q") == "first");
  CHECK_FALSE(request.query_param("Q"));
}

TEST_CASE("the Date header is an IMF-fixdate") {
  using namespace std::chrono;
  // 1994-11-06 08:49:37 UTC, RFC 9110's example.
  const system_clock::time_point when{seconds{784111777}};
  CHECK(internal::http_date(when) == "Sun, 06 Nov 1994 08:49:37 GMT");
  CHECK(internal::http_date(system_clock::time_point{seconds{0}}) ==
        "Thu, 01 Jan 1970 00:00:00 GMT");
}

TEST_CASE("the server's error bodies have the API's error shape") {
  auto response = internal::error_response(413, "payload_too_large", "request body too large");
  CHECK(response.status == 413);
  CHECK(response.content_type == "application/json");
  CHECK(response.body ==
        R"({"error":{"code":"payload_too_large","message":"request body too large"}})");
  CHECK(internal::internal_error_response().body ==
        R"({"error":{"code":"internal","message":"internal error"}})");
}

TEST_CASE("a handler's response is checked before it is written") {
  Response ok;
  ok.add_header("Cache-Control", "no-store").add_header("x-request-id", "abc");
  CHECK_FALSE(internal::response_problem(ok));

  Response split;
  split.add_header("x-evil", "a\r\nSet-Cookie: x=1");
  CHECK(internal::response_problem(split));
  Response nul;
  nul.add_header("x-evil", std::string("a\0b", 3));
  CHECK(internal::response_problem(nul));
  Response bad_name;
  bad_name.add_header("bad name", "v");
  CHECK(internal::response_problem(bad_name));
  Response bad_type;
  bad_type.content_type = "text/plain\r\nx: y";
  CHECK(internal::response_problem(bad_type));
  for (int status : {0, 100, 101, 199, 600, 1000}) {
    Response interim;
    interim.status = status;
    CHECK(internal::response_problem(interim));
  }
}

TEST_CASE("server-owned headers and Connection: close are recognised") {
  for (auto name :
       {"content-length", "transfer-encoding", "date", "server", "connection", "content-type"}) {
    CHECK(internal::is_server_owned_header(name));
  }
  CHECK_FALSE(internal::is_server_owned_header("location"));
  Response response;
  CHECK_FALSE(internal::asks_to_close(response));
  response.add_header("Connection", "Close");
  CHECK(internal::asks_to_close(response));
}

TEST_CASE("endpoints and log text are formatted safely") {
  CHECK(internal::format_endpoint("127.0.0.1", false, 8080) == "127.0.0.1:8080");
  CHECK(internal::format_endpoint("::1", true, 443) == "[::1]:443");
  CHECK(internal::printable("a\r\nb\x80", 10) == "a??b?");
  CHECK(internal::printable("abcdef", 3) == "abc...");
}
