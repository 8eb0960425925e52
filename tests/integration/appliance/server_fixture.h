// Servers for the HTTP server tests: small limits, an echo handler that shows what a handler
// saw, and a logger that keeps what it heard.
#pragma once

#include <catch2/catch.hpp>

#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "appliance/server/http_server.h"
#include "base/bytes.h"
#include "base/log.h"

namespace signet::test {

inline appliance::ServerLimits test_limits() {
  appliance::ServerLimits limits;
  limits.io_threads = 2;
  limits.worker_threads = 4;
  return limits;
}

// Answers with what the handler saw, one "name=value" line each, as text/plain.
inline appliance::HttpHandler echo_handler() {
  return [](appliance::http::Request& request) {
    std::string text = "method=" + request.method + "\npath=" + request.path + "\n";
    for (const auto& [name, value] : request.query) text += "query " + name + "=" + value + "\n";
    text += "secure=" + std::string(request.secure ? "1" : "0") + "\n";
    text += "cert=" + base::to_hex(request.client_certificate) + "\n";
    text += "remote=" + request.remote_address + "\n";
    text += "x-test=" + std::string(request.header("x-test").value_or("")) + "\n";
    text += "body=" + request.body;
    appliance::http::Response response;
    response.content_type = "text/plain";
    response.body = std::move(text);
    return response;
  };
}

class RecordingLogger final : public base::Logger {
 public:
  void log(base::LogLevel, std::string_view message) override {
    std::lock_guard lock(mutex_);
    lines_.emplace_back(message);
  }
  std::string all() const {
    std::lock_guard lock(mutex_);
    std::string text;
    for (const auto& line : lines_) text += line + "\n";
    return text;
  }

 private:
  mutable std::mutex mutex_;
  std::vector<std::string> lines_;
};

inline std::unique_ptr<appliance::HttpServer> start_server(appliance::HttpHandler handler,
                                                           appliance::ServerLimits limits,
                                                           SSL_CTX* tls = nullptr,
                                                           base::Logger* logger = nullptr) {
  appliance::ListenerConfig listener;
  listener.name = tls != nullptr ? "https" : "http";
  listener.address = "127.0.0.1";
  listener.port = 0;
  listener.tls = tls;
  listener.handler = std::move(handler);
  std::vector<appliance::ListenerConfig> listeners;
  listeners.push_back(std::move(listener));
  auto server = appliance::HttpServer::create(std::move(listeners), limits, logger);
  if (!server) FAIL(server.error().describe());
  (*server)->start();
  return std::move(*server);
}

}  // namespace signet::test
