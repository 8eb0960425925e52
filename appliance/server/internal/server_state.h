// Private to appliance/server: the state an HttpServer owns and shares with its connections
// (http_server.cpp runs the listeners and the stop sequence, connection.cpp the connections).
// Boost.Asio only; Boost.Beast stays inside connection.cpp.
//
// Thread-safety: the counters and flags are atomics; the registry is guarded by
// registry_mutex; start() and stop() by lifecycle_mutex; limits, logger, configs and tls are
// set before start() and never change after.
#pragma once

#include <atomic>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/thread_pool.hpp>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "appliance/server/http_server.h"
#include "base/log.h"

namespace signet::appliance::http::internal {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

// What the stop sequence asks of every open connection (see ServerState::stop).
class ConnectionBase {
 public:
  virtual ~ConnectionBase() = default;
  virtual void start() = 0;        // registers with the server and begins, on the strand
  virtual void notify_stop() = 0;  // close if idle, else finish the request and close
  virtual void force_close() = 0;
  // Closes the socket from the calling thread: only once every server thread has been joined.
  virtual void close_unsynchronized() = 0;
};

struct Counters {
  std::atomic<std::uint64_t> open{0}, accepted{0}, refused{0}, requests{0}, timeouts{0},
      bad_requests{0}, handler_errors{0};
};

struct Acceptor {
  explicit Acceptor(asio::io_context& ioc) : acceptor(asio::make_strand(ioc)) {}
  tcp::acceptor acceptor;  // on its own strand: accepting and closing never overlap
  asio::steady_timer retry{acceptor.get_executor()};
  std::uint16_t port = 0;
};

// Everything the server owns. Members are destroyed bottom-up: threads first (joined by then),
// then the worker pool and acceptors (their pending work may hold connections, whose sockets
// need the io_context), then the io_context, then TLS contexts, listener configurations and
// the registry that connections report their end to.
struct ServerState {
  ServerState(ServerLimits limits_in, base::Logger* logger_in)
      : limits(limits_in), logger(logger_in), ioc(limits_in.io_threads) {}

  ServerLimits limits;
  base::Logger* logger;
  Counters counters;

  std::mutex registry_mutex;  // guards connections and next_id
  std::condition_variable registry_changed;
  std::unordered_map<std::uint64_t, std::weak_ptr<ConnectionBase>> connections;
  std::uint64_t next_id = 1;

  std::atomic<bool> stopping{false};
  std::atomic<bool> started{false};

  std::vector<ListenerConfig> configs;
  std::vector<std::unique_ptr<asio::ssl::context>> tls;  // per listener; null for plain HTTP
  asio::io_context ioc;
  std::vector<std::unique_ptr<Acceptor>> acceptors;
  std::optional<asio::thread_pool> workers;
  std::optional<asio::executor_work_guard<asio::io_context::executor_type>> work;
  std::vector<std::thread> io_threads;

  enum class Lifecycle { kCreated, kRunning, kStopped };
  std::mutex lifecycle_mutex;  // serialises start() and stop() from outside threads
  Lifecycle lifecycle = Lifecycle::kCreated;

  void log(base::LogLevel level, const std::string& message) const {
    if (logger != nullptr) logger->log(level, message);
  }

  // Takes one of max_connections slots; false when all are taken.
  bool try_open_slot() {
    std::uint64_t open = counters.open.load();
    do {
      if (open >= limits.max_connections) return false;
    } while (!counters.open.compare_exchange_weak(open, open + 1));
    return true;
  }

  std::uint64_t register_connection(std::weak_ptr<ConnectionBase> connection) {
    std::lock_guard lock(registry_mutex);
    const std::uint64_t id = next_id++;
    connections.emplace(id, std::move(connection));
    return id;
  }

  // From a connection's destructor: releases its slot.
  void connection_ended(std::uint64_t id) {
    std::lock_guard lock(registry_mutex);
    connections.erase(id);
    counters.open.fetch_sub(1);
    registry_changed.notify_all();
  }

  std::vector<std::shared_ptr<ConnectionBase>> open_connections() {
    std::vector<std::shared_ptr<ConnectionBase>> result;
    std::lock_guard lock(registry_mutex);
    for (const auto& [id, weak] : connections) {
      if (auto connection = weak.lock()) result.push_back(std::move(connection));
    }
    return result;
  }

  bool in_server_thread() {
    if (ioc.get_executor().running_in_this_thread()) return true;
    return started.load() && workers->get_executor().running_in_this_thread();
  }

  // In http_server.cpp.
  void accept(std::size_t index);
  void on_accepted(std::size_t index, tcp::socket socket);
  void run_io();
  void start();
  void begin_stop();
  void stop(std::chrono::milliseconds grace);
};

// The connection for a socket just accepted on listener `index` (plain or TLS, as the listener
// is), owning the slot try_open_slot() took for it; the caller then calls start().
std::shared_ptr<ConnectionBase> make_connection(ServerState& server, std::size_t index,
                                                tcp::socket socket, std::string remote);

}  // namespace signet::appliance::http::internal
