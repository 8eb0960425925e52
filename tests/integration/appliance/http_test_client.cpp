#include "tests/integration/appliance/http_test_client.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "tests/support/test_support.h"

namespace signet::test {
namespace {

int connect_to(std::uint16_t port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(port);
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) != 0) {
    const int error = errno;
    ::close(fd);
    errno = error;
    return -1;
  }
  return fd;
}

std::string lower(std::string text) {
  for (char& c : text) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return text;
}

std::string trim(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t' || text.back() == '\r')) {
    text.remove_suffix(1);
  }
  return std::string(text);
}

}  // namespace

HttpReply parse_head(std::string_view head) {
  HttpReply reply;
  std::size_t line_end = head.find("\r\n");
  const std::string_view status_line = head.substr(0, line_end);
  const std::size_t space = status_line.find(' ');
  if (space != std::string_view::npos) {
    reply.status = std::atoi(std::string(status_line.substr(space + 1, 3)).c_str());
  }
  while (line_end != std::string_view::npos) {
    const std::size_t start = line_end + 2;
    line_end = head.find("\r\n", start);
    const std::string_view line = head.substr(start, line_end - start);
    const std::size_t colon = line.find(':');
    if (colon == std::string_view::npos) continue;
    reply.headers[lower(std::string(line.substr(0, colon)))] = trim(line.substr(colon + 1));
  }
  return reply;
}

RawClient::RawClient(std::uint16_t port) : fd_(connect_to(port)) {}

RawClient::~RawClient() { close(); }

void RawClient::close() {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
}

bool RawClient::send(std::string_view data) {
  while (!data.empty()) {
    const ssize_t n = ::send(fd_, data.data(), data.size(), MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    data.remove_prefix(static_cast<std::size_t>(n));
  }
  return true;
}

long RawClient::receive(std::chrono::steady_clock::time_point deadline) {
  for (;;) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return -1;
    pollfd descriptor{fd_, POLLIN, 0};
    const int ready = ::poll(&descriptor, 1, static_cast<int>(left.count()));
    if (ready < 0 && errno == EINTR) continue;
    if (ready <= 0) return -1;
    char chunk[16384];
    const ssize_t n = ::recv(fd_, chunk, sizeof(chunk), 0);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return 0;  // EOF, or reset
    pending_.append(chunk, static_cast<std::size_t>(n));
    return n;
  }
}

std::optional<HttpReply> RawClient::read_response(bool expect_body,
                                                  std::chrono::milliseconds wait) {
  const auto deadline = std::chrono::steady_clock::now() + wait;
  std::size_t head_end;
  while ((head_end = pending_.find("\r\n\r\n")) == std::string::npos) {
    if (receive(deadline) <= 0) return std::nullopt;
  }
  HttpReply reply = parse_head(std::string_view(pending_).substr(0, head_end));
  pending_.erase(0, head_end + 4);
  const std::size_t length =
      expect_body && reply.has("content-length") ? std::stoul(reply.header("content-length")) : 0;
  while (pending_.size() < length) {
    if (receive(deadline) <= 0) return std::nullopt;
  }
  reply.body = pending_.substr(0, length);
  pending_.erase(0, length);
  return reply;
}

std::optional<std::string> RawClient::read_until_closed(std::chrono::milliseconds wait) {
  const auto deadline = std::chrono::steady_clock::now() + wait;
  for (;;) {
    const long n = receive(deadline);
    if (n < 0) return std::nullopt;
    if (n == 0) break;
  }
  std::string received;
  received.swap(pending_);
  return received;
}

bool connection_refused(std::uint16_t port) {
  const int fd = connect_to(port);
  if (fd >= 0) {
    ::close(fd);
    return false;
  }
  return errno == ECONNREFUSED;
}

CurlResult curl(const std::string& arguments, const std::string& url) {
  TempDir dir;
  const std::string heads = (dir / "heads").string();
  const std::string body = (dir / "body").string();
  CurlResult result;
  const CommandResult run = run_command("/usr/bin/curl -sS --max-time 60 -D '" + heads + "' -o '" +
                                        body + "' " + arguments + " '" + url + "'");
  result.exit_code = run.exit_code;
  result.output = run.output;
  if (std::filesystem::exists(heads)) result.all_headers = read_text(heads);
  // The last head in the file is the final response (after any 100 Continue).
  const std::size_t last = result.all_headers.rfind("HTTP/");
  if (last != std::string::npos) {
    std::string_view head = std::string_view(result.all_headers).substr(last);
    head = head.substr(0, head.find("\r\n\r\n"));
    result.reply = parse_head(head);
  }
  if (std::filesystem::exists(body)) result.reply.body = read_text(body);
  return result;
}

}  // namespace signet::test
