// HttpServer: the appliance's HTTP/1.1 server (Boost.Beast over Boost.Asio), for HTTPS (the
// API and console) and plain HTTP (CRLs, CA certificates and OCSP for relying parties).
//
// Built for a network-facing appliance: a fixed number of I/O threads multiplexing every
// connection (no thread per connection); handlers run on a bounded worker pool, so a handler
// waiting on a token or a durable commit never stalls I/O; a bound on open connections
// (accepts beyond it are closed at once); limits on header and body size (431 / 413); a
// deadline for the request header and one for the body (a slow client is cut off, 408 when
// possible); keep-alive with an idle timeout. TLS contexts are made by the caller (the token
// key comes from hsm/openssl_provider.h) and only borrowed here.
//
// Per connection, one request at a time: the next request (also a pipelined one) is read
// only after the previous response went out, so at most one handler call per connection is
// queued or running, and the worker pool's queue is bounded by max_connections.
//
// Deadlines, each cutting the connection off when it passes:
// - TLS handshake: tls_handshake_timeout from accept;
// - first request's header: header_timeout from accept (after the TLS handshake for HTTPS);
// - later requests on a kept-alive connection: idle_timeout for their first byte to arrive
//   (closed quietly when it passes), then header_timeout for the rest of the header;
// - body: body_timeout from the end of the header;
// - each response (a 100 Continue included): write_timeout.
// When a request was partly received at the header or body deadline, a 408 is sent first.
// Handlers have no deadline: they are the server's own code.
//
// Every response carries Content-Length (except 204 and 304), Date and "Server: signet".
// Errors the server answers itself (400, 408, 413, 431, 500, 505) have the API's JSON error
// shape and close the connection; after a response that closes the connection, unread input
// is drained for up to linger_timeout so that the client reads the response, not a reset.
//
// Thread-safe: start() once, stop() and stats() from any thread (also from a signal-watching
// thread). Handlers are called concurrently from the worker threads.
#pragma once

#include <openssl/types.h>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "appliance/server/http.h"
#include "base/log.h"
#include "base/result.h"

namespace signet::appliance {

// Called on a worker thread, concurrently with other calls. An exception becomes a 500
// {"error":{"code":"internal","message":"internal error"}}; its text is logged, never sent.
using HttpHandler = std::function<http::Response(http::Request&)>;

struct ListenerConfig {
  std::string name;        // "https", "http": for logs and errors
  std::string address;     // "127.0.0.1", "::1", "0.0.0.0"
  std::uint16_t port = 0;  // 0: an ephemeral port (see HttpServer::bound_port)
  // Borrowed (up-referenced while the server lives); nullptr: plain HTTP. When the context
  // verifies client certificates, the verified leaf reaches handlers as
  // Request::client_certificate. The context is shared with Boost.Asio, whose wrapper treats
  // the SSL_CTX's app data (SSL_CTX_set_app_data, ex_data index 0) and default password
  // callback user data as its own objects: both must stay unset (create() refuses them).
  SSL_CTX* tls = nullptr;
  HttpHandler handler;
};

struct ServerLimits {
  std::size_t max_connections = 512;
  std::size_t max_header_bytes = 16 * 1024;
  std::size_t max_body_bytes = 1024 * 1024;
  std::chrono::milliseconds header_timeout{10'000};  // from connection or first byte
  std::chrono::milliseconds body_timeout{30'000};
  std::chrono::milliseconds idle_timeout{60'000};  // keep-alive between requests
  std::chrono::milliseconds tls_handshake_timeout{10'000};
  std::chrono::milliseconds write_timeout{30'000};  // for each response
  std::chrono::milliseconds linger_timeout{2'000};  // draining input before a close
  int io_threads = 2;
  int worker_threads = 32;
};

struct ServerStats {
  std::uint64_t connections_open = 0;
  std::uint64_t connections_accepted = 0;
  std::uint64_t connections_refused = 0;  // over max_connections
  std::uint64_t requests = 0;             // requests read in full (then handled or refused)
  std::uint64_t timeouts = 0;             // handshake, header, body and write deadlines
  std::uint64_t bad_requests = 0;         // answered 400, 413, 431 or 505 by the server
  std::uint64_t handler_errors = 0;       // handlers that threw or returned a bad response
};

class HttpServer {
 public:
  // Binds every listener (so "address in use" is reported here, before any thread starts).
  // `logger` (borrowed, must outlive the server; nullptr: discard) hears about handler
  // exceptions and accept failures.
  static base::Result<std::unique_ptr<HttpServer>> create(std::vector<ListenerConfig> listeners,
                                                          ServerLimits limits,
                                                          base::Logger* logger = nullptr);
  ~HttpServer();  // stop()s; never from a handler (a server thread cannot join itself)
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // The port listener `index` is bound to (the ephemeral one when 0 was asked for).
  std::uint16_t bound_port(std::size_t index) const;

  // Starts the I/O and worker threads and accepting. Once; later calls do nothing.
  void start();
  // Stops accepting, closes idle connections (keep-alive, TLS handshakes, requests not yet
  // begun), lets in-flight requests finish and their responses go out (with
  // "Connection: close") for up to `grace`, then closes every connection and joins the
  // threads; a handler still running then is waited for (threads cannot be abandoned).
  // Once it returns, nothing listens and every connection is closed. Idempotent. Called from a
  // handler or another server thread, it only begins the stop (a thread cannot join itself): a
  // later stop() from outside, or the destructor, ends it.
  void stop(std::chrono::milliseconds grace = std::chrono::milliseconds(10'000));

  ServerStats stats() const;

 private:
  struct Impl;
  explicit HttpServer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace signet::appliance
