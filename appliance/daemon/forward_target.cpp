#include "appliance/daemon/forward_target.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "firmware-config/configuration.h"

namespace signet::appliance {

using base::Error;
using base::ErrorCode;
using base::Result;

namespace {

constexpr auto kRetryInterval = std::chrono::seconds(1);
constexpr timeval kSendTimeout{1, 0};

}  // namespace

ForwardTarget::ForwardTarget(Kind kind, std::string address, std::string path, std::string host,
                             int port)
    : kind_(kind),
      address_(std::move(address)),
      path_(std::move(path)),
      host_(std::move(host)),
      port_(port) {}

Result<ForwardTarget> ForwardTarget::parse(std::string address) {
  std::string_view rest = address;
  if (rest.rfind("unix:", 0) == 0) rest.remove_prefix(5);
  if (!rest.empty() && rest.front() == '/') {
    if (rest.size() >= sizeof(sockaddr_un{}.sun_path)) {
      return Error(ErrorCode::kInvalidArgument, "the socket path '" + address + "' is too long");
    }
    return ForwardTarget(Kind::kUnixDatagram, address, std::string(rest), "", 0);
  }
  const bool udp = rest.rfind("udp:", 0) == 0, tcp = rest.rfind("tcp:", 0) == 0;
  if (!udp && !tcp) {
    return Error(ErrorCode::kInvalidArgument, "'" + address + "' is not a syslog address");
  }
  SIGNET_ASSIGN_OR_RETURN(auto parsed, firmware_config::parse_listen_address(rest.substr(4)));
  return ForwardTarget(udp ? Kind::kUdp : Kind::kTcp, address, "", parsed.host, parsed.port);
}

ForwardTarget::ForwardTarget(ForwardTarget&& other) noexcept
    : kind_(other.kind_),
      address_(std::move(other.address_)),
      path_(std::move(other.path_)),
      host_(std::move(other.host_)),
      port_(other.port_),
      fd_(std::exchange(other.fd_, -1)),
      retry_at_(other.retry_at_) {}

ForwardTarget& ForwardTarget::operator=(ForwardTarget&& other) noexcept {
  if (this != &other) {
    close();
    kind_ = other.kind_;
    address_ = std::move(other.address_);
    path_ = std::move(other.path_);
    host_ = std::move(other.host_);
    port_ = other.port_;
    fd_ = std::exchange(other.fd_, -1);
    retry_at_ = other.retry_at_;
  }
  return *this;
}

ForwardTarget::~ForwardTarget() { close(); }

void ForwardTarget::close() {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
}

bool ForwardTarget::connect(std::string& error) {
  sockaddr_storage storage{};
  socklen_t length = 0;
  int domain = AF_UNIX;
  if (kind_ == Kind::kUnixDatagram) {
    auto* un = reinterpret_cast<sockaddr_un*>(&storage);
    un->sun_family = AF_UNIX;
    std::memcpy(un->sun_path, path_.c_str(), path_.size() + 1);
    length = sizeof(sockaddr_un);
  } else if (host_.find(':') == std::string::npos) {
    auto* in = reinterpret_cast<sockaddr_in*>(&storage);
    in->sin_family = domain = AF_INET;
    in->sin_port = htons(static_cast<std::uint16_t>(port_));
    ::inet_pton(AF_INET, host_.c_str(), &in->sin_addr);
    length = sizeof(sockaddr_in);
  } else {
    auto* in6 = reinterpret_cast<sockaddr_in6*>(&storage);
    in6->sin6_family = domain = AF_INET6;
    in6->sin6_port = htons(static_cast<std::uint16_t>(port_));
    ::inet_pton(AF_INET6, host_.c_str(), &in6->sin6_addr);
    length = sizeof(sockaddr_in6);
  }
  const int type = kind_ == Kind::kTcp ? SOCK_STREAM : SOCK_DGRAM;
  const int fd = ::socket(domain, type | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    error = std::string("socket: ") + std::strerror(errno);
    return false;
  }
  // Bounds connect (TCP) and every send: the forwarding thread never hangs on a target.
  ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &kSendTimeout, sizeof(kSendTimeout));
  if (::connect(fd, reinterpret_cast<const sockaddr*>(&storage), length) != 0) {
    error = std::string("connect: ") + std::strerror(errno);
    ::close(fd);
    return false;
  }
  fd_ = fd;
  return true;
}

bool ForwardTarget::connect_if_due(std::string& error) {
  if (fd_ >= 0) return true;
  const auto now = std::chrono::steady_clock::now();
  if (now < retry_at_) {
    error = "not connected (retrying)";
    return false;
  }
  retry_at_ = now + kRetryInterval;
  return connect(error);
}

bool ForwardTarget::send(std::string_view message, std::string& error) {
  if (!connect_if_due(error)) return false;
  std::string framed;
  if (kind_ == Kind::kTcp) {
    framed = std::to_string(message.size()) + " ";  // RFC 6587 §3.4.1 octet counting
    framed.append(message);
    message = framed;
  }
  std::size_t sent = 0;
  while (sent < message.size()) {
    const ssize_t n = ::send(fd_, message.data() + sent, message.size() - sent, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 || (kind_ != Kind::kTcp && static_cast<std::size_t>(n) != message.size())) {
      error = std::string("send: ") + (n < 0 ? std::strerror(errno) : "short datagram");
      close();
      retry_at_ = std::chrono::steady_clock::now() + kRetryInterval;
      return false;
    }
    sent += static_cast<std::size_t>(n);
  }
  return true;
}

}  // namespace signet::appliance
