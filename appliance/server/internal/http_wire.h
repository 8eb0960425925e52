// What goes on the wire around a handler's Response, free of Boost so that it is unit-tested
// on its own: the Date header's format, the server's own JSON error bodies, and the checks a
// handler's headers must pass before they are written. Plain functions, thread-safe.
#pragma once

#include <chrono>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include "appliance/server/http.h"

namespace signet::appliance::http::internal {

// RFC 9110 §5.6.7 IMF-fixdate: "Sun, 06 Nov 1994 08:49:37 GMT" (independent of the locale).
std::string http_date(std::chrono::system_clock::time_point when);

// The server's own error responses, in the API's error shape:
// {"error":{"code":"payload_too_large","message":"request body too large"}}. `code` and
// `message` are fixed ASCII strings without quotes or backslashes.
Response error_response(int status, std::string_view code, std::string_view message);

// The 500 a throwing handler turns into; nothing of the exception reaches the client.
Response internal_error_response();

// RFC 9110 §5.6.2 token (a header name).
bool is_token(std::string_view text);
// A header value that cannot split a response: no CR, LF or NUL.
bool is_safe_field_value(std::string_view text);

// Headers the server writes itself; a handler's header of this (lower-case) name is dropped.
bool is_server_owned_header(std::string_view lower_name);

// Why a handler's response cannot be written as it is (std::nullopt: it can): a status
// outside 200..599, a bad header name or value.
std::optional<std::string> response_problem(const Response& response);

// Whether the handler asked to close the connection ("connection: close").
bool asks_to_close(const Response& response);

// For logs: at most `max_length` bytes of `text`, with control and non-ASCII bytes as '?'.
std::string printable(std::string_view text, std::size_t max_length = 200);

// "127.0.0.1:53412" or "[::1]:53412".
std::string format_endpoint(std::string_view address, bool is_v6, unsigned short port);

}  // namespace signet::appliance::http::internal
