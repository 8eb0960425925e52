// ForwardTarget: one destination of audit forwarding, a socket signetd (re)connects by itself:
// a local datagram socket ("/dev/log", "unix:/path", journald's socket), UDP ("udp:host:port")
// or TCP ("tcp:host:port", each message framed by octet counting, RFC 6587 §3.4.1). Addresses
// are IP literals (no name lookups while serving).
//
// send() never waits longer than the send timeout (1 s): when the target is unreachable or its
// buffer stays full, the message is dropped (counted by the caller), the socket is closed, and
// a new connection is tried for a later message, at most once per second. UDP reports a
// missing receiver only through a later send's ECONNREFUSED, so drops there are a lower bound.
//
// Ownership: owns its socket (closed by the destructor). Not thread-safe: one forwarding
// thread uses it.
#pragma once

#include <chrono>
#include <string>
#include <string_view>

#include "base/result.h"

namespace signet::appliance {

class ForwardTarget {
 public:
  // `address`: as [audit] syslog_address accepts it (firmware-config validated it).
  static base::Result<ForwardTarget> parse(std::string address);
  ForwardTarget(ForwardTarget&& other) noexcept;
  ForwardTarget& operator=(ForwardTarget&& other) noexcept;
  ~ForwardTarget();

  // Sends one message; false when it was dropped. `error` then says why (for the log).
  bool send(std::string_view message, std::string& error);

  // Connects when not connected and the retry interval has passed; true when connected.
  bool connect_if_due(std::string& error);

  bool connected() const { return fd_ >= 0; }
  const std::string& address() const { return address_; }

 private:
  enum class Kind { kUnixDatagram, kUdp, kTcp };
  ForwardTarget(Kind kind, std::string address, std::string path, std::string host, int port);
  bool connect(std::string& error);
  void close();

  Kind kind_;
  std::string address_;  // as configured, for logs
  std::string path_;     // kUnixDatagram
  std::string host_;     // kUdp, kTcp: an IP literal
  int port_ = 0;
  int fd_ = -1;
  std::chrono::steady_clock::time_point retry_at_{};
};

}  // namespace signet::appliance
