#include "appliance/daemon/settings.h"

#include <charconv>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

namespace signet::appliance {

using base::Error;
using base::ErrorCode;
using base::Result;

std::string ListenAddress::to_string() const {
  const bool v6 = host.find(':') != std::string::npos;
  return (v6 ? "[" + host + "]" : host) + ":" + std::to_string(port);
}

Result<ListenAddress> parse_listen_address(std::string_view text) {
  const auto bad = [&] {
    return Error(
        ErrorCode::kInvalidArgument,
        "'" + std::string(text) + "' is not ADDRESS:PORT (e.g. 127.0.0.1:8443, [::1]:8443)");
  };
  ListenAddress out;
  std::string_view port_text;
  if (!text.empty() && text.front() == '[') {
    const auto close = text.find(']');
    if (close == std::string_view::npos || close + 1 >= text.size() || text[close + 1] != ':') {
      return bad();
    }
    out.host = std::string(text.substr(1, close - 1));
    port_text = text.substr(close + 2);
  } else {
    const auto colon = text.rfind(':');
    if (colon == std::string_view::npos || colon == 0) return bad();
    out.host = std::string(text.substr(0, colon));
    port_text = text.substr(colon + 1);
    if (out.host.find(':') != std::string::npos) return bad();
  }
  unsigned port = 0;
  const auto [ptr, ec] =
      std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
  if (port_text.empty() || ec != std::errc() || ptr != port_text.data() + port_text.size() ||
      port > 65535) {
    return bad();
  }
  out.port = static_cast<std::uint16_t>(port);
  return out;
}

namespace {

template <typename T>
Result<T> typed(const nlohmann::json& value, std::string_view key, T min, T max) {
  if (!value.is_number_integer()) {
    return Error(ErrorCode::kInvalidArgument,
                 "config key '" + std::string(key) + "' must be an integer");
  }
  const auto v = value.get<long long>();
  if (v < static_cast<long long>(min) || v > static_cast<long long>(max)) {
    return Error(ErrorCode::kInvalidArgument, "config key '" + std::string(key) +
                                                  "' must be between " + std::to_string(min) +
                                                  " and " + std::to_string(max));
  }
  return static_cast<T>(v);
}

Result<std::string> text(const nlohmann::json& value, std::string_view key) {
  if (!value.is_string()) {
    return Error(ErrorCode::kInvalidArgument,
                 "config key '" + std::string(key) + "' must be a string");
  }
  return value.get<std::string>();
}

}  // namespace

Result<void> apply_config_file(const std::string& path, DaemonSettings& s) {
  std::ifstream in(path);
  if (!in) return Error(ErrorCode::kNotFound, "cannot read the configuration file '" + path + "'");
  std::stringstream buffer;
  buffer << in.rdbuf();
  const auto j = nlohmann::json::parse(buffer.str(), nullptr, false);
  if (j.is_discarded() || !j.is_object()) {
    return Error(ErrorCode::kInvalidArgument,
                 "the configuration file '" + path + "' is not a JSON object");
  }
  for (const auto& [key, value] : j.items()) {
    if (key == "listen") {
      SIGNET_ASSIGN_OR_RETURN(auto t, text(value, key));
      SIGNET_ASSIGN_OR_RETURN(s.https, parse_listen_address(t));
    } else if (key == "http_listen") {
      SIGNET_ASSIGN_OR_RETURN(auto t, text(value, key));
      SIGNET_ASSIGN_OR_RETURN(s.http, parse_listen_address(t));
    } else if (key == "state") {
      SIGNET_ASSIGN_OR_RETURN(s.store.state_dir, text(value, key));
    } else if (key == "pkcs11_module") {
      SIGNET_ASSIGN_OR_RETURN(s.store.module_path, text(value, key));
    } else if (key == "token") {
      SIGNET_ASSIGN_OR_RETURN(s.store.token, text(value, key));
    } else if (key == "pin_file") {
      SIGNET_ASSIGN_OR_RETURN(s.store.pin_file, text(value, key));
    } else if (key == "tls_names") {
      if (!value.is_array()) {
        return Error(ErrorCode::kInvalidArgument,
                     "config key 'tls_names' must be an array of strings");
      }
      s.tls_names.clear();
      for (const auto& item : value) {
        SIGNET_ASSIGN_OR_RETURN(auto name, text(item, "tls_names[]"));
        s.tls_names.push_back(name);
      }
    } else if (key == "max_connections") {
      SIGNET_ASSIGN_OR_RETURN(s.max_connections, typed<std::size_t>(value, key, 1, 100000));
    } else if (key == "max_body_bytes") {
      SIGNET_ASSIGN_OR_RETURN(s.max_body_bytes, typed<std::size_t>(value, key, 1024, 64 << 20));
    } else if (key == "header_timeout_ms") {
      SIGNET_ASSIGN_OR_RETURN(auto ms, typed<long>(value, key, 100, 600000));
      s.header_timeout = std::chrono::milliseconds(ms);
    } else if (key == "body_timeout_ms") {
      SIGNET_ASSIGN_OR_RETURN(auto ms, typed<long>(value, key, 100, 600000));
      s.body_timeout = std::chrono::milliseconds(ms);
    } else if (key == "idle_timeout_ms") {
      SIGNET_ASSIGN_OR_RETURN(auto ms, typed<long>(value, key, 100, 3600000));
      s.idle_timeout = std::chrono::milliseconds(ms);
    } else if (key == "io_threads") {
      SIGNET_ASSIGN_OR_RETURN(s.io_threads, typed<int>(value, key, 1, 64));
    } else if (key == "worker_threads") {
      SIGNET_ASSIGN_OR_RETURN(s.worker_threads, typed<int>(value, key, 1, 1024));
    } else if (key == "session_idle_seconds") {
      SIGNET_ASSIGN_OR_RETURN(auto v, typed<long>(value, key, 1, 86400));
      s.session_idle = std::chrono::seconds(v);
    } else if (key == "session_lifetime_seconds") {
      SIGNET_ASSIGN_OR_RETURN(auto v, typed<long>(value, key, 1, 7 * 86400));
      s.session_lifetime = std::chrono::seconds(v);
    } else if (key == "scheduler_interval_seconds") {
      SIGNET_ASSIGN_OR_RETURN(auto v, typed<long>(value, key, 1, 3600));
      s.scheduler_interval = std::chrono::seconds(v);
    } else if (key == "expiry_scan_interval_seconds") {
      SIGNET_ASSIGN_OR_RETURN(auto v, typed<long>(value, key, 60, 86400));
      s.expiry_scan_interval = std::chrono::seconds(v);
    } else if (key == "expiry_alert_days") {
      SIGNET_ASSIGN_OR_RETURN(s.expiry_alert_days, typed<int>(value, key, 1, 3650));
    } else {
      return Error(ErrorCode::kInvalidArgument,
                   "unknown key '" + key + "' in the configuration file '" + path + "'");
    }
  }
  return base::ok();
}

}  // namespace signet::appliance
