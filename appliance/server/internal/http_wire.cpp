#include "appliance/server/internal/http_wire.h"

#include <array>
#include <cstdio>
#include <ctime>

namespace signet::appliance::http::internal {
namespace {

char to_lower_ascii(char c) {
  return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
}

std::string lower(std::string_view text) {
  std::string result(text);
  for (char& c : result) c = to_lower_ascii(c);
  return result;
}

}  // namespace

std::string http_date(std::chrono::system_clock::time_point when) {
  static constexpr std::array<const char*, 7> kDays = {"Sun", "Mon", "Tue", "Wed",
                                                       "Thu", "Fri", "Sat"};
  static constexpr std::array<const char*, 12> kMonths = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                                          "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  const std::time_t seconds = std::chrono::system_clock::to_time_t(when);
  std::tm utc{};
  ::gmtime_r(&seconds, &utc);
  std::array<char, 32> text{};
  std::snprintf(text.data(), text.size(), "%s, %02d %s %04d %02d:%02d:%02d GMT",
                kDays[static_cast<std::size_t>(utc.tm_wday) % 7], utc.tm_mday,
                kMonths[static_cast<std::size_t>(utc.tm_mon) % 12], utc.tm_year + 1900, utc.tm_hour,
                utc.tm_min, utc.tm_sec);
  return text.data();
}

Response error_response(int status, std::string_view code, std::string_view message) {
  Response response;
  response.status = status;
  response.body = "{\"error\":{\"code\":\"" + std::string(code) + "\",\"message\":\"" +
                  std::string(message) + "\"}}";
  return response;
}

Response internal_error_response() { return error_response(500, "internal", "internal error"); }

bool is_token(std::string_view text) {
  if (text.empty()) return false;
  for (char c : text) {
    const bool alnum = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
    if (!alnum && std::string_view("!#$%&'*+-.^_`|~").find(c) == std::string_view::npos) {
      return false;
    }
  }
  return true;
}

bool is_safe_field_value(std::string_view text) {
  return text.find_first_of(std::string_view("\r\n\0", 3)) == std::string_view::npos;
}

bool is_server_owned_header(std::string_view lower_name) {
  return lower_name == "content-length" || lower_name == "transfer-encoding" ||
         lower_name == "date" || lower_name == "server" || lower_name == "connection" ||
         lower_name == "content-type";
}

std::optional<std::string> response_problem(const Response& response) {
  if (response.status < 200 || response.status > 599) {
    return "status " + std::to_string(response.status) + " is not a final status";
  }
  if (!is_safe_field_value(response.content_type)) return std::string("bad content type");
  for (const auto& header : response.headers) {
    if (!is_token(header.name)) return "bad header name '" + header.name + "'";
    if (!is_safe_field_value(header.value)) return "bad value for header '" + header.name + "'";
  }
  return std::nullopt;
}

bool asks_to_close(const Response& response) {
  for (const auto& header : response.headers) {
    if (lower(header.name) == "connection" && lower(header.value) == "close") return true;
  }
  return false;
}

std::string printable(std::string_view text, std::size_t max_length) {
  std::string result(text.substr(0, max_length));
  for (char& c : result) {
    if (static_cast<unsigned char>(c) < 0x20 || static_cast<unsigned char>(c) >= 0x7f) c = '?';
  }
  if (text.size() > max_length) result += "...";
  return result;
}

std::string format_endpoint(std::string_view address, bool is_v6, unsigned short port) {
  std::string text = is_v6 ? "[" + std::string(address) + "]" : std::string(address);
  return text + ":" + std::to_string(port);
}

}  // namespace signet::appliance::http::internal
