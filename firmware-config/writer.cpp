// to_toml(): the effective configuration as a TOML document that load_configuration_file()
// reads back to an equal Configuration.
#include <cstdio>
#include <sstream>

#include "firmware-config/loader.h"

namespace signet::firmware_config {
namespace {

std::string quoted(std::string_view text) {
  std::string out = "\"";
  for (const unsigned char c : text) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\t':
        out += "\\t";
        break;
      case '\r':
        out += "\\r";
        break;
      default:
        if (c < 0x20 || c == 0x7f) {
          char escape[8];
          std::snprintf(escape, sizeof escape, "\\u%04x", c);
          out += escape;
        } else {
          out += static_cast<char>(c);
        }
    }
  }
  return out + "\"";
}

std::string quoted_list(const std::vector<std::string>& items) {
  std::string out = "[";
  for (std::size_t i = 0; i < items.size(); ++i) out += (i ? ", " : "") + quoted(items[i]);
  return out + "]";
}

const char* flag(bool value) { return value ? "true" : "false"; }

}  // namespace

std::string to_toml(const Configuration& c) {
  std::ostringstream out;
  out << "[listen]\n"
      << "https = " << quoted(c.listen.https.to_string()) << "\n"
      << "http = " << quoted(c.listen.http.to_string()) << "\n\n";
  out << "[tls]\n"
      << "min_version = " << quoted(to_string(c.tls.min_version)) << "\n"
      << "extra_names = " << quoted_list(c.tls.extra_names) << "\n\n";
  out << "[limits]\n"
      << "max_connections = " << c.limits.max_connections << "\n"
      << "max_body_bytes = " << c.limits.max_body_bytes << "\n"
      << "header_timeout_ms = " << c.limits.header_timeout.count() << "\n"
      << "body_timeout_ms = " << c.limits.body_timeout.count() << "\n"
      << "idle_timeout_ms = " << c.limits.idle_timeout.count() << "\n"
      << "io_threads = " << c.limits.io_threads << "\n"
      << "worker_threads = " << c.limits.worker_threads << "\n\n";
  out << "[sessions]\n"
      << "idle_seconds = " << c.sessions.idle.count() << "\n"
      << "lifetime_seconds = " << c.sessions.lifetime.count() << "\n\n";
  out << "[pkcs11]\n"
      << "default_token = " << quoted(c.pkcs11.default_token) << "\n";
  for (const auto& m : c.pkcs11.modules) {
    out << "\n[[pkcs11.modules]]\n"
        << "name = " << quoted(m.name) << "\n"
        << "path = " << quoted(m.path) << "\n";
  }
  for (const auto& t : c.pkcs11.tokens) {
    out << "\n[[pkcs11.tokens]]\n"
        << "label = " << quoted(t.label) << "\n";
    if (!t.module.empty()) out << "module = " << quoted(t.module) << "\n";
    if (!t.pin.file.empty()) out << "pin_file = " << quoted(t.pin.file) << "\n";
    if (!t.pin.credential.empty()) out << "pin_credential = " << quoted(t.pin.credential) << "\n";
  }
  out << "\n[state]\n"
      << "directory = " << quoted(c.state.directory) << "\n\n";
  out << "[ca]\n"
      << "scheduler_interval_seconds = " << c.ca.scheduler_interval.count() << "\n"
      << "publish_base_url = " << quoted(c.ca.publish_base_url) << "\n\n";
  out << "[bootstrap.operators]\n"
      << "admin_name = " << quoted(c.bootstrap.operators.admin_name) << "\n"
      << "admin_password_file = " << quoted(c.bootstrap.operators.admin_password_file) << "\n\n";
  out << "[hardening]\n"
      << "seccomp = " << flag(c.hardening.seccomp) << "\n"
      << "user = " << quoted(c.hardening.user) << "\n\n";
  out << "[endpoints]\n"
      << "acme = " << flag(c.endpoints.acme) << "\n"
      << "scep = " << flag(c.endpoints.scep) << "\n"
      << "cmp = " << flag(c.endpoints.cmp) << "\n"
      << "est = " << flag(c.endpoints.est) << "\n\n";
  out << "[logging]\n"
      << "level = " << quoted(to_string(c.logging.level)) << "\n"
      << "syslog = " << flag(c.logging.syslog) << "\n"
      << "audit_checkpoint_interval_minutes = " << c.logging.audit_checkpoint_interval.count()
      << "\n";
  return out.str();
}

}  // namespace signet::firmware_config
