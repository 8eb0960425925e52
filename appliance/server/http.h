// HTTP requests and responses as the appliance's handlers see them: plain values, free of the
// HTTP stack (Boost.Beast stays inside http_server.cpp), so that routes, the REST API and the
// relying-party endpoints compile and test without it.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/bytes.h"

namespace signet::appliance::http {

struct Header {
  std::string name;  // lower-case
  std::string value;
};

struct Request {
  std::string method;  // "GET", "POST"... as sent (HEAD reaches handlers as HEAD)
  std::string target;  // as sent: "/api/v1/certificates?status=active"
  std::string path;    // the target's path, percent-decoded, without the query
  std::vector<std::pair<std::string, std::string>> query;  // decoded, in order
  std::vector<Header> headers;  // in arrival order; a repeated field appears repeatedly
  std::string body;
  std::string remote_address;  // "127.0.0.1:53412", "[::1]:53412"
  bool secure = false;         // arrived over TLS
  // DER of the client certificate the TLS layer verified against the listener's trust store
  // (SSL_get_verify_result() == X509_V_OK); empty when none was presented, or when one did
  // not verify but a permissive verify callback let the handshake go on.
  base::Bytes client_certificate;

  // The first header of that (lower-case) name.
  std::optional<std::string_view> header(std::string_view lower_name) const;
  // The first query parameter of that name.
  std::optional<std::string> query_param(std::string_view name) const;
};

struct Response {
  int status = 200;  // 200..599; 204 and 304 go out without a body and without Content-Length
  std::string content_type = "application/json";  // empty: no Content-Type
  // Besides Content-Type (from content_type: a "content-type" header here is dropped). The
  // server owns Content-Length, Date, Server, Connection and Transfer-Encoding: a handler's
  // headers of those names are dropped, except that "connection: close" closes the
  // connection after this response. A name that is not an RFC 9110 token, or a value holding
  // CR, LF or NUL, turns the response into a 500.
  std::vector<Header> headers;
  std::string body;

  Response& add_header(std::string name, std::string value) {
    headers.push_back({std::move(name), std::move(value)});
    return *this;
  }
};

// Decoding rules (RFC 3986 §2.1, and HTML form encoding for queries):
// - a '%' must be followed by two hex digits, either case; anything else ("%zz", "%4", a
//   trailing '%') makes the whole text malformed (std::nullopt), never passed through;
// - '+' means a space only in query strings; in a path it stays '+';
// - "%00" decodes to a NUL byte: percent_decode and parse_query return it as it is (query
//   values are data), but decode_path and parse_target refuse a path holding one, so that no
//   router, file name or C API downstream ever sees a path that a NUL silently truncates;
// - no normalisation: "." and ".." segments and "%2F" (decoded to '/') reach the handler as
//   sent, so anything mapping paths to files must refuse ".." itself.

// Decodes %XX escapes (and '+' as space when `plus_is_space`, for query strings);
// std::nullopt when an escape is malformed.
std::optional<std::string> percent_decode(std::string_view text, bool plus_is_space);
// Splits "a=1&b=x%20y" into decoded pairs, in order; empty items ("a=1&&b") are skipped and
// "flag" without '=' gives ("flag", ""). std::nullopt when an escape is malformed.
std::optional<std::vector<std::pair<std::string, std::string>>> parse_query(std::string_view query);
// Decodes a path ('+' stays '+'); std::nullopt when an escape is malformed or a NUL results.
std::optional<std::string> decode_path(std::string_view path);

// A request target split into Request::path and Request::query.
struct Target {
  std::string path;
  std::vector<std::pair<std::string, std::string>> query;
};
// Parses an origin-form ("/a%20b?x=1"), absolute-form ("http://host/a?x=1": scheme and
// authority are dropped) or asterisk-form ("*") request target (RFC 9112 §3.2); std::nullopt
// when it is none of those, holds a '#', or its path or query does not decode (see above).
std::optional<Target> parse_target(std::string_view target);

}  // namespace signet::appliance::http
