// HttpServer: binding the listeners, accepting (ServerState::accept), and the start and stop
// sequences. Connections live in internal/connection.cpp.
#include "appliance/server/http_server.h"

#include <openssl/ssl.h>

#include <boost/asio/post.hpp>
#include <string>
#include <utility>

#include "appliance/server/internal/http_wire.h"
#include "appliance/server/internal/server_state.h"

namespace signet::appliance {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using boost::system::error_code;

namespace http::internal {

constexpr std::chrono::milliseconds kAcceptRetryDelay{100};

void ServerState::accept(std::size_t index) {
  Acceptor& acceptor = *acceptors[index];
  acceptor.acceptor.async_accept(
      asio::make_strand(ioc), [this, index](error_code ec, tcp::socket socket) {
        if (stopping.load() || ec == asio::error::operation_aborted) return;
        if (ec) {
          // Out of descriptors or memory, say: wait a little rather than spin.
          log(base::LogLevel::kWarning,
              "listener '" + configs[index].name + "': accept failed: " + ec.message());
          Acceptor& retrying = *acceptors[index];
          retrying.retry.expires_after(kAcceptRetryDelay);
          retrying.retry.async_wait([this, index](error_code wait_ec) {
            if (!wait_ec && !stopping.load()) accept(index);
          });
          return;
        }
        on_accepted(index, std::move(socket));
        accept(index);
      });
}

void ServerState::on_accepted(std::size_t index, tcp::socket socket) {
  if (!try_open_slot()) {
    counters.refused.fetch_add(1);
    error_code ignored;
    socket.close(ignored);
    return;
  }
  counters.accepted.fetch_add(1);
  error_code ec;
  const tcp::endpoint peer = socket.remote_endpoint(ec);
  const std::string remote =
      ec ? std::string("unknown")
         : format_endpoint(peer.address().to_string(), peer.address().is_v6(), peer.port());
  socket.set_option(tcp::no_delay(true), ec);
  std::shared_ptr<ConnectionBase> connection;
  try {
    connection = make_connection(*this, index, std::move(socket), remote);
  } catch (const std::exception& e) {
    connection_ended(0);  // no connection owns the slot yet
    log(base::LogLevel::kError,
        "listener '" + configs[index].name + "': cannot set up a connection: " + e.what());
    return;
  }
  connection->start();  // from here on the connection gives its slot back when it ends
}

void ServerState::run_io() {
  for (;;) {
    try {
      ioc.run();
      return;
    } catch (const std::exception& e) {
      log(base::LogLevel::kError, std::string("HTTP I/O thread: ") + e.what());
    }
  }
}

void ServerState::start() {
  std::lock_guard lock(lifecycle_mutex);
  if (lifecycle != Lifecycle::kCreated) return;
  workers.emplace(static_cast<std::size_t>(limits.worker_threads));
  work.emplace(asio::make_work_guard(ioc));
  started.store(true);
  for (std::size_t i = 0; i < acceptors.size(); ++i) {
    asio::post(acceptors[i]->acceptor.get_executor(), [this, i] { accept(i); });
  }
  for (int i = 0; i < limits.io_threads; ++i) io_threads.emplace_back([this] { run_io(); });
  lifecycle = Lifecycle::kRunning;
}

void ServerState::begin_stop() {
  if (stopping.exchange(true)) return;
  for (auto& acceptor : acceptors) {
    asio::post(acceptor->acceptor.get_executor(), [a = acceptor.get()] {
      error_code ignored;
      a->acceptor.close(ignored);
      a->retry.cancel();
    });
  }
  for (auto& connection : open_connections()) connection->notify_stop();
}

void ServerState::stop(std::chrono::milliseconds grace) {
  if (in_server_thread()) return begin_stop();  // joining ourselves would deadlock
  std::lock_guard lock(lifecycle_mutex);
  if (lifecycle == Lifecycle::kStopped) return;
  begin_stop();
  if (lifecycle == Lifecycle::kCreated) {  // no thread ever ran: close the listeners here
    for (auto& acceptor : acceptors) {
      error_code ignored;
      acceptor->acceptor.close(ignored);
    }
    lifecycle = Lifecycle::kStopped;
    return;
  }
  {
    std::unique_lock registry_lock(registry_mutex);
    registry_changed.wait_for(registry_lock, grace, [this] { return counters.open.load() == 0; });
  }
  for (auto& connection : open_connections()) connection->force_close();
  workers->stop();  // handler calls not yet begun are dropped; running ones finish
  workers->join();
  work.reset();
  ioc.stop();
  for (auto& thread : io_threads) thread.join();
  // No server thread runs any more: close what the posted closes above may not have reached,
  // so that nothing listens or stays connected once stop() returns (the objects themselves go
  // with the server).
  for (auto& acceptor : acceptors) {
    error_code ignored;
    acceptor->acceptor.close(ignored);
  }
  for (auto& connection : open_connections()) connection->close_unsynchronized();
  lifecycle = Lifecycle::kStopped;
}

}  // namespace http::internal

struct HttpServer::Impl : http::internal::ServerState {
  using ServerState::ServerState;
};

HttpServer::HttpServer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

HttpServer::~HttpServer() {
  if (impl_) impl_->stop(std::chrono::milliseconds(10'000));
}

base::Result<std::unique_ptr<HttpServer>> HttpServer::create(std::vector<ListenerConfig> listeners,
                                                             ServerLimits limits,
                                                             base::Logger* logger) {
  using base::Error;
  using base::ErrorCode;
  if (listeners.empty()) return Error(ErrorCode::kInvalidArgument, "no HTTP listener configured");
  if (limits.max_connections == 0 || limits.io_threads < 1 || limits.worker_threads < 1 ||
      limits.max_header_bytes == 0) {
    return Error(ErrorCode::kInvalidArgument,
                 "HTTP server limits need at least one connection, I/O thread and worker thread "
                 "and a positive header size");
  }
  auto impl = std::make_unique<Impl>(limits, logger);
  for (auto& config : listeners) {
    const std::string what = "listener '" + config.name + "'";
    if (!config.handler) return Error(ErrorCode::kInvalidArgument, what + " has no handler");
    std::unique_ptr<asio::ssl::context> tls;
    if (config.tls != nullptr) {
      if (SSL_CTX_get_app_data(config.tls) != nullptr ||
          SSL_CTX_get_default_passwd_cb_userdata(config.tls) != nullptr) {
        return Error(ErrorCode::kInvalidArgument,
                     what +
                         ": the TLS context has app data or password callback user data, "
                         "which Boost.Asio would take for its own");
      }
      SSL_CTX_up_ref(config.tls);  // asio::ssl::context adopts (and later frees) a reference
      tls = std::make_unique<asio::ssl::context>(config.tls);
    }
    error_code ec;
    const auto address = asio::ip::make_address(config.address, ec);
    if (ec) {
      return Error(ErrorCode::kInvalidArgument,
                   what + ": '" + config.address + "' is not an IP address");
    }
    const tcp::endpoint endpoint(address, config.port);
    const std::string where =
        what + ": cannot listen on " +
        http::internal::format_endpoint(config.address, address.is_v6(), config.port);
    auto acceptor = std::make_unique<http::internal::Acceptor>(impl->ioc);
    acceptor->acceptor.open(endpoint.protocol(), ec);
    if (!ec) acceptor->acceptor.set_option(tcp::acceptor::reuse_address(true), ec);
    if (!ec) acceptor->acceptor.bind(endpoint, ec);
    if (!ec) acceptor->acceptor.listen(asio::socket_base::max_listen_connections, ec);
    if (ec) return Error(ErrorCode::kUnavailable, where + ": " + ec.message());
    acceptor->port = acceptor->acceptor.local_endpoint(ec).port();
    if (ec) return Error(ErrorCode::kIoError, where + ": " + ec.message());
    impl->configs.push_back(std::move(config));
    impl->tls.push_back(std::move(tls));
    impl->acceptors.push_back(std::move(acceptor));
  }
  return std::unique_ptr<HttpServer>(new HttpServer(std::move(impl)));
}

std::uint16_t HttpServer::bound_port(std::size_t index) const {
  return index < impl_->acceptors.size() ? impl_->acceptors[index]->port : 0;
}

void HttpServer::start() { impl_->start(); }

void HttpServer::stop(std::chrono::milliseconds grace) { impl_->stop(grace); }

ServerStats HttpServer::stats() const {
  const http::internal::Counters& c = impl_->counters;
  ServerStats stats;
  stats.connections_open = c.open.load();
  stats.connections_accepted = c.accepted.load();
  stats.connections_refused = c.refused.load();
  stats.requests = c.requests.load();
  stats.timeouts = c.timeouts.load();
  stats.bad_requests = c.bad_requests.load();
  stats.handler_errors = c.handler_errors.load();
  return stats;
}

}  // namespace signet::appliance
