// to_toml(): the effective configuration as a TOML document that load_configuration_file()
// reads back to an equal Configuration; to_json() the same as JSON.
#include <chrono>
#include <cstdio>
#include <map>
#include <sstream>
#include <toml.hpp>

#include "firmware-config/internal/table_reader.h"
#include "firmware-config/internal/toml_text.h"
#include "firmware-config/loader.h"

namespace signet::firmware_config {

std::string internal::toml_quoted(std::string_view text) {
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

namespace {

using internal::toml_quoted;

std::string toml_quoted_list(const std::vector<std::string>& items) {
  std::string out = "[";
  for (std::size_t i = 0; i < items.size(); ++i) out += (i ? ", " : "") + toml_quoted(items[i]);
  return out + "]";
}

const char* flag(bool value) { return value ? "true" : "false"; }

// "key = N\n" in whole days when it is, else in seconds.
std::string days_or_seconds(const char* days_key, const char* seconds_key,
                            std::chrono::seconds value) {
  constexpr long long kDay = 86400;
  if (value.count() % kDay == 0) {
    return std::string(days_key) + " = " + std::to_string(value.count() / kDay) + "\n";
  }
  return std::string(seconds_key) + " = " + std::to_string(value.count()) + "\n";
}

}  // namespace

std::string to_toml(const Configuration& c) {
  std::ostringstream out;
  out << "[listen]\n"
      << "https = " << toml_quoted(c.listen.https.to_string()) << "\n"
      << "http = " << toml_quoted(c.listen.http.to_string()) << "\n\n";
  out << "[tls]\n"
      << "min_version = " << toml_quoted(to_string(c.tls.min_version)) << "\n"
      << "extra_names = " << toml_quoted_list(c.tls.extra_names) << "\n"
      << days_or_seconds("certificate_days", "certificate_lifetime_seconds",
                         c.tls.certificate_lifetime)
      << days_or_seconds("renew_before_days", "renew_before_seconds", c.tls.renew_before)
      << "renew_check_interval_seconds = " << c.tls.renew_check_interval.count() << "\n"
      << "operator_renew_before_days = "
      << std::chrono::duration_cast<std::chrono::days>(c.tls.operator_renew_before).count()
      << "\n\n";
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
      << "default_token = " << toml_quoted(c.pkcs11.default_token) << "\n";
  for (const auto& m : c.pkcs11.modules) {
    out << "\n[[pkcs11.modules]]\n"
        << "name = " << toml_quoted(m.name) << "\n"
        << "path = " << toml_quoted(m.path) << "\n";
    if (m.seccomp_allow) out << "seccomp_allow = " << toml_quoted_list(*m.seccomp_allow) << "\n";
  }
  for (const auto& t : c.pkcs11.tokens) {
    out << "\n[[pkcs11.tokens]]\n"
        << "label = " << toml_quoted(t.label) << "\n";
    if (!t.module.empty()) out << "module = " << toml_quoted(t.module) << "\n";
    if (!t.pin.file.empty()) out << "pin_file = " << toml_quoted(t.pin.file) << "\n";
    if (!t.pin.credential.empty())
      out << "pin_credential = " << toml_quoted(t.pin.credential) << "\n";
  }
  out << "\n[state]\n"
      << "directory = " << toml_quoted(c.state.directory) << "\n\n";
  out << "[ca]\n"
      << "scheduler_interval_seconds = " << c.ca.scheduler_interval.count() << "\n"
      << "expiry_scan_interval_seconds = " << c.ca.expiry_scan_interval.count() << "\n"
      << "expiry_alert_days = " << c.ca.expiry_alert_days << "\n"
      << "publish_base_url = " << toml_quoted(c.ca.publish_base_url) << "\n\n";
  out << "[bootstrap.operators]\n"
      << "admin_name = " << toml_quoted(c.bootstrap.operators.admin_name) << "\n"
      << "admin_password_file = " << toml_quoted(c.bootstrap.operators.admin_password_file)
      << "\n\n";
  for (const auto& account : c.bootstrap.operators.accounts) {
    out << "[[bootstrap.operators.accounts]]\n"
        << "name = " << toml_quoted(account.name) << "\n"
        << "role = " << toml_quoted(account.role) << "\n";
    if (!account.password_file.empty()) {
      out << "password_file = " << toml_quoted(account.password_file) << "\n";
    }
    if (!account.certificate_file.empty()) {
      out << "certificate_file = " << toml_quoted(account.certificate_file) << "\n";
    }
    out << "disabled = " << flag(account.disabled) << "\n\n";
  }
  for (const auto& profile : c.bootstrap.profiles) {
    out << "[[bootstrap.profiles]]\n";
    for (const auto& [key, value] : profile.toml) out << key << " = " << value << "\n";
    out << "\n";
  }
  out << "[hardening]\n"
      << "seccomp = " << flag(c.hardening.seccomp) << "\n"
      << "user = " << toml_quoted(c.hardening.user) << "\n\n";
  out << "[cards]\n"
      << "enabled = " << flag(c.cards.enabled) << "\n"
      << "atr_map = " << toml_quoted(c.cards.atr_map) << "\n"
      << "key_generation_timeout_seconds = " << c.cards.key_generation_timeout.count() << "\n"
      << "card_wait_seconds = " << c.cards.card_wait.count() << "\n\n";
  out << "[endpoints]\n"
      << "acme = " << flag(c.endpoints.acme) << "\n"
      << "scep = " << flag(c.endpoints.scep) << "\n"
      << "cmp = " << flag(c.endpoints.cmp) << "\n"
      << "est = " << flag(c.endpoints.est) << "\n\n";
  out << "[logging]\n"
      << "level = " << toml_quoted(to_string(c.logging.level)) << "\n"
      << "audit_checkpoint_interval_minutes = " << c.logging.audit_checkpoint_interval.count()
      << "\n\n";
  out << "[audit]\n"
      << "forward = " << toml_quoted_list(c.audit.forward) << "\n"
      << "syslog_address = " << toml_quoted(c.audit.syslog_address) << "\n"
      << "syslog_facility = " << toml_quoted(c.audit.syslog_facility) << "\n"
      << "enterprise_number = " << c.audit.enterprise_number << "\n"
      << "journald_socket = " << toml_quoted(c.audit.journald_socket) << "\n"
      << "queue_size = " << c.audit.queue_size << "\n\n";
  out << "[config]\n"
      << "admin_trust_anchors = " << toml_quoted_list(c.config.admin_trust_anchors) << "\n";
  return out.str();
}

}  // namespace signet::firmware_config

namespace signet::firmware_config {

std::string to_json(const Configuration& configuration) {
  std::istringstream in(to_toml(configuration));
  const auto document = toml::parse<toml::discard_comments, std::map, std::vector>(in, "effective");
  return internal::to_json_text(document) + "\n";
}

}  // namespace signet::firmware_config
