// Clients for the HTTP server tests: a raw TCP socket that writes exactly what a test says
// (half a header, two requests on one connection) and reads responses with bounded waits, and
// curl run as a child process as the independent HTTP implementation.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace signet::test {

struct HttpReply {
  int status = 0;
  std::map<std::string, std::string> headers;  // lower-case names; the last of repeated ones
  std::string body;

  bool has(const std::string& lower_name) const { return headers.count(lower_name) != 0; }
  std::string header(const std::string& lower_name) const {
    auto it = headers.find(lower_name);
    return it == headers.end() ? std::string() : it->second;
  }
};

// Parses one response head ("HTTP/1.1 200 OK\r\nname: value\r\n...") without the blank line.
HttpReply parse_head(std::string_view head);

// A blocking TCP connection to 127.0.0.1. Every read waits at most `wait` (a liveness bound,
// not a timing assertion).
class RawClient {
 public:
  explicit RawClient(std::uint16_t port);
  ~RawClient();
  RawClient(const RawClient&) = delete;
  RawClient& operator=(const RawClient&) = delete;

  bool connected() const { return fd_ >= 0; }
  // Sends everything; false when the peer is gone.
  bool send(std::string_view data);
  // Reads one response framed by Content-Length (no body when `expect_body` is false, as for
  // HEAD); std::nullopt when the connection ends or `wait` passes first.
  std::optional<HttpReply> read_response(bool expect_body = true,
                                         std::chrono::milliseconds wait = kWait);
  // Reads until the peer closes (EOF or reset); what arrived meanwhile. std::nullopt when the
  // connection is still open after `wait`.
  std::optional<std::string> read_until_closed(std::chrono::milliseconds wait = kWait);
  void close();

  static constexpr std::chrono::milliseconds kWait{15'000};

 private:
  // Appends what arrives to pending_; 0 at EOF or reset, -1 when `deadline` passed.
  long receive(std::chrono::steady_clock::time_point deadline);

  int fd_ = -1;
  std::string pending_;
};

// Whether a TCP connection to 127.0.0.1:port is refused.
bool connection_refused(std::uint16_t port);

struct CurlResult {
  int exit_code = -1;
  std::string output;       // curl's own stderr/stdout (errors)
  std::string all_headers;  // every response head curl saw, 100 Continue included
  HttpReply reply;          // the final response
};

// Runs /usr/bin/curl with `arguments` (already shell-quoted where needed) on `url`.
CurlResult curl(const std::string& arguments, const std::string& url);

// Polls `condition` every few milliseconds for up to `wait`; its last value.
template <class Condition>
bool eventually(Condition condition, std::chrono::milliseconds wait = RawClient::kWait);

}  // namespace signet::test

#include <thread>

template <class Condition>
bool signet::test::eventually(Condition condition, std::chrono::milliseconds wait) {
  const auto deadline = std::chrono::steady_clock::now() + wait;
  while (!condition()) {
    if (std::chrono::steady_clock::now() > deadline) return condition();
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return true;
}
