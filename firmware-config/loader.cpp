#include "firmware-config/loader.h"

#include <algorithm>
#include <cctype>
#include <fstream>
#include <set>
#include <sstream>

#include "firmware-config/internal/audit_section.h"
#include "firmware-config/internal/table_reader.h"

namespace signet::firmware_config {
namespace {

using internal::TableReader;
using internal::Value;

constexpr long long kSecondsPerDay = 86400;

void read_listen_address(TableReader& t, std::string_view key, ListenAddress& out) {
  std::string text;
  if (!t.string(key, text)) return;
  auto parsed = parse_listen_address(text);
  if (!parsed) {
    t.issue(key, t.line_of(key), parsed.error().message());
    return;
  }
  out = *parsed;
}

void read_listen(TableReader& t, ListenSettings& out) {
  read_listen_address(t, "https", out.https);
  read_listen_address(t, "http", out.http);
  if (out.https == out.http && out.https.port != 0) {
    t.issue("http", t.line_of("http"), "is the same address as listen.https");
  }
  t.finish();
}

bool valid_dns_or_ip(const std::string& name) {
  if (name.empty() || name.size() > 253) return false;
  return std::all_of(name.begin(), name.end(), [](unsigned char c) {
    return std::isalnum(c) || c == '-' || c == '.' || c == ':' || c == '*';
  });
}

// "30 days", "90 seconds", "1 day and 60 seconds".
std::string describe_seconds(std::chrono::seconds value) {
  const auto days = value.count() / kSecondsPerDay;
  const auto seconds = value.count() % kSecondsPerDay;
  const auto unit = [](long long n, const char* one) {
    return std::to_string(n) + " " + one + (n == 1 ? "" : "s");
  };
  if (days == 0) return unit(seconds, "second");
  if (seconds == 0) return unit(days, "day");
  return unit(days, "day") + " and " + unit(seconds, "second");
}

// A duration given either in days (`days_key`, 1 to max_days) or in seconds (`seconds_key`,
// min_seconds to max_days days), not both. Returns the key that was given ("" : neither).
std::string read_days_or_seconds(TableReader& t, const char* days_key, long long max_days,
                                 const char* seconds_key, long long min_seconds,
                                 std::chrono::seconds& out) {
  long long days = 0, seconds = 0;
  const bool by_days = t.integer(days_key, 1, max_days, days);
  const bool by_seconds = t.integer(seconds_key, min_seconds, max_days * kSecondsPerDay, seconds);
  if (by_days && by_seconds) {
    t.issue(seconds_key, t.line_of(seconds_key),
            std::string("give either ") + days_key + " or " + seconds_key + ", not both");
    return seconds_key;
  }
  if (by_days) out = std::chrono::days(days);
  if (by_seconds) out = std::chrono::seconds(seconds);
  return by_days ? days_key : by_seconds ? seconds_key : "";
}

void read_tls(TableReader& t, TlsSettings& out) {
  std::string version;
  if (t.string("min_version", version)) {
    if (version == "1.2") {
      out.min_version = TlsVersion::kTls12;
    } else if (version == "1.3") {
      out.min_version = TlsVersion::kTls13;
    } else {
      t.issue("min_version", t.line_of("min_version"),
              "must be \"1.2\" or \"1.3\", not \"" + version + "\"");
    }
  }
  std::vector<std::string> names;
  if (t.strings("extra_names", names)) {
    for (std::size_t i = 0; i < names.size(); ++i) {
      if (!valid_dns_or_ip(names[i])) {
        t.issue("extra_names[" + std::to_string(i) + "]", t.line_of("extra_names"),
                "'" + names[i] + "' is not a DNS name or IP address");
      }
    }
    out.extra_names = std::move(names);
  }
  const auto lifetime_key = read_days_or_seconds(
      t, "certificate_days", 397, "certificate_lifetime_seconds", 60, out.certificate_lifetime);
  const auto renew_key = read_days_or_seconds(t, "renew_before_days", 3650, "renew_before_seconds",
                                              1, out.renew_before);
  if (out.renew_before >= out.certificate_lifetime) {
    const auto key = renew_key.empty() ? lifetime_key : renew_key;
    t.issue(key, t.line_of(key),
            "the certificate is renewed when less than " + describe_seconds(out.renew_before) +
                " of its lifetime is left, which must be shorter than the lifetime (" +
                describe_seconds(out.certificate_lifetime) +
                "): otherwise every check makes a new key and certificate");
  }
  t.duration("renew_check_interval_seconds", 1, 86400, out.renew_check_interval);
  long long operator_days = 0;
  if (t.integer("operator_renew_before_days", 1, 3650, operator_days)) {
    out.operator_renew_before = std::chrono::days(operator_days);
  }
  t.finish();
}

void read_limits(TableReader& t, LimitSettings& out) {
  t.integer_into("max_connections", 1, 100000, out.max_connections);
  t.integer_into("max_body_bytes", 1024, 64LL << 20, out.max_body_bytes);
  t.duration("header_timeout_ms", 100, 600000, out.header_timeout);
  t.duration("body_timeout_ms", 100, 600000, out.body_timeout);
  t.duration("idle_timeout_ms", 100, 3600000, out.idle_timeout);
  t.integer_into("io_threads", 1, 64, out.io_threads);
  t.integer_into("worker_threads", 1, 1024, out.worker_threads);
  t.finish();
}

void read_sessions(TableReader& t, SessionSettings& out) {
  t.duration("idle_seconds", 1, kSecondsPerDay, out.idle);
  t.duration("lifetime_seconds", 1, 7 * kSecondsPerDay, out.lifetime);
  if (out.idle > out.lifetime) {
    t.issue("idle_seconds", t.line_of("idle_seconds"), "must not exceed sessions.lifetime_seconds");
  }
  t.finish();
}

bool valid_credential_name(const std::string& name) {
  return !name.empty() && name != "." && name != ".." &&
         std::all_of(name.begin(), name.end(), [](unsigned char c) {
           return std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '@';
         });
}

void require(TableReader& t, std::string_view key, bool present) {
  if (!present) t.issue(key, t.line(), "is required");
}

void read_modules(TableReader& pkcs11, Pkcs11Settings& out, const Probes& probes) {
  bool present = false;
  auto tables = pkcs11.tables("modules", present);
  if (!present) return;
  out.modules.clear();
  std::set<std::string> names;
  for (auto& t : tables) {
    Pkcs11Module module;
    require(t, "name", t.string("name", module.name));
    if (!module.name.empty() && !names.insert(module.name).second) {
      t.issue("name", t.line_of("name"), "module '" + module.name + "' is defined twice");
    }
    const bool has_path = t.string("path", module.path);
    require(t, "path", has_path);
    if (has_path && module.path.empty()) {
      t.issue("path", t.line_of("path"), "must not be empty");
    } else if (has_path && probes.module) {
      if (auto loaded = probes.module(module.path); !loaded) {
        t.issue("path", t.line_of("path"), loaded.error().message());
      }
    }
    if (std::vector<std::string> allow; t.strings("seccomp_allow", allow)) {
      module.seccomp_allow = std::move(allow);
    }
    t.finish();
    out.modules.push_back(std::move(module));
  }
  if (out.modules.empty()) pkcs11.issue("modules", pkcs11.line_of("modules"), "names no module");
}

void read_token_pin(TableReader& t, PinSource& pin, const Probes& probes) {
  const bool has_file = t.string("pin_file", pin.file);
  const bool has_credential = t.string("pin_credential", pin.credential);
  if (has_file && has_credential) {
    t.issue("pin_credential", t.line_of("pin_credential"),
            "give either pin_file or pin_credential, not both");
  }
  if (has_file && probes.pin_file) {
    if (auto checked = probes.pin_file(pin.file); !checked) {
      t.issue("pin_file", t.line_of("pin_file"), checked.error().message());
    }
  }
  if (has_credential && !valid_credential_name(pin.credential)) {
    t.issue("pin_credential", t.line_of("pin_credential"),
            "'" + pin.credential + "' is not a systemd credential name");
  }
}

void read_tokens(TableReader& pkcs11, Pkcs11Settings& out, const Probes& probes) {
  bool present = false;
  auto tables = pkcs11.tables("tokens", present);
  std::set<std::string> labels;
  for (auto& t : tables) {
    Pkcs11Token token;
    require(t, "label", t.string("label", token.label));
    if (!token.label.empty() && !labels.insert(token.label).second) {
      t.issue("label", t.line_of("label"), "token '" + token.label + "' is defined twice");
    }
    if (t.string("module", token.module)) {
      const bool known = std::any_of(out.modules.begin(), out.modules.end(),
                                     [&](const auto& m) { return m.name == token.module; });
      if (!known) {
        t.issue("module", t.line_of("module"),
                "names no module of pkcs11.modules ('" + token.module + "')");
      }
    }
    read_token_pin(t, token.pin, probes);
    t.finish();
    out.tokens.push_back(std::move(token));
  }
}

void read_pkcs11(TableReader& t, Pkcs11Settings& out, const Probes& probes) {
  read_modules(t, out, probes);
  read_tokens(t, out, probes);
  if (t.string("default_token", out.default_token) && !out.tokens.empty()) {
    const bool known = std::any_of(out.tokens.begin(), out.tokens.end(),
                                   [&](const auto& k) { return k.label == out.default_token; });
    if (!known) {
      t.issue("default_token", t.line_of("default_token"),
              "names no token of pkcs11.tokens ('" + out.default_token + "')");
    }
  }
  t.finish();
}

void read_state(TableReader& t, StateSettings& out) {
  t.string("directory", out.directory);
  t.finish();
}

bool valid_base_url(const std::string& url) {
  std::string_view rest = url;
  if (rest.rfind("http://", 0) == 0) {
    rest.remove_prefix(7);
  } else if (rest.rfind("https://", 0) == 0) {
    rest.remove_prefix(8);
  } else {
    return false;
  }
  // As ca::Authority accepts it: a host after the scheme, no query, fragment or blanks.
  return url.size() > 8 && rest.front() != '/' &&
         rest.find_first_of("?# \t\r\n") == std::string::npos;
}

void read_ca(TableReader& t, CaSettings& out) {
  t.duration("scheduler_interval_seconds", 1, 3600, out.scheduler_interval);
  t.duration("expiry_scan_interval_seconds", 60, 86400, out.expiry_scan_interval);
  t.integer_into("expiry_alert_days", 1, 3650, out.expiry_alert_days);
  if (t.string("publish_base_url", out.publish_base_url) && !out.publish_base_url.empty() &&
      !valid_base_url(out.publish_base_url)) {
    t.issue("publish_base_url", t.line_of("publish_base_url"),
            "'" + out.publish_base_url + "' is not an http:// or https:// base URL");
  }
  t.finish();
}

bool valid_operator_name(const std::string& name) {
  return !name.empty() && name.size() <= 64 &&
         std::all_of(name.begin(), name.end(), [](unsigned char c) {
           return std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '@';
         });
}

void read_profiles(TableReader& bootstrap, std::vector<ProfileBootstrap>& out,
                   const Probes& probes) {
  bool present = false;
  auto tables = bootstrap.tables("profiles", present);
  std::set<std::string> names;
  for (auto& t : tables) {
    ProfileBootstrap profile;
    require(t, "name", t.string("name", profile.name));
    require(t, "ca", t.string("ca", profile.ca));
    if (!profile.name.empty() && !names.insert(profile.ca + "/" + profile.name).second) {
      t.issue("name", t.line_of("name"),
              "profile '" + profile.ca + "/" + profile.name + "' is declared twice");
    }
    profile.json = t.as_json();
    profile.toml = t.as_inline_toml();
    if (probes.profile && !profile.name.empty() && !profile.ca.empty()) {
      if (auto checked = probes.profile(profile.json); !checked) {
        t.issue("", t.line(), checked.error().message());
      }
    }
    t.finish();
    out.push_back(std::move(profile));
  }
}

void probe_into(TableReader& t, std::string_view key, const std::string& value,
                const std::function<base::Result<void>(const std::string&)>& probe) {
  if (!probe) return;
  if (auto checked = probe(value); !checked) {
    t.issue(key, t.line_of(key), checked.error().message());
  }
}

bool valid_role(const std::string& role) {
  return role == "administrator" || role == "ra-officer" || role == "auditor";
}

void read_account(TableReader& t, OperatorAccount& account, const std::string& admin_name,
                  const Probes& probes) {
  const bool has_name = t.string("name", account.name);
  require(t, "name", has_name);
  if (has_name && !valid_operator_name(account.name)) {
    t.issue("name", t.line_of("name"),
            "'" + account.name + "' is not an operator name (1-64 letters, digits, - _ . @)");
  } else if (has_name && account.name == admin_name) {
    t.issue("name", t.line_of("name"),
            "'" + account.name +
                "' is bootstrap.operators.admin_name, the first administrator; declare it there");
  }
  const bool has_role = t.string("role", account.role);
  require(t, "role", has_role);
  if (has_role && !valid_role(account.role)) {
    t.issue(
        "role", t.line_of("role"),
        "must be \"administrator\", \"ra-officer\" or \"auditor\", not \"" + account.role + "\"");
  }
  const bool has_password = t.string("password_file", account.password_file);
  if (has_password) probe_into(t, "password_file", account.password_file, probes.pin_file);
  const bool has_certificate = t.string("certificate_file", account.certificate_file);
  if (has_certificate) {
    probe_into(t, "certificate_file", account.certificate_file, probes.certificate);
  }
  if (!has_password && !has_certificate) {
    t.issue("", t.line(),
            "declares no way to log in: give password_file, certificate_file or both");
  }
  t.boolean("disabled", account.disabled);
}

void read_operators(TableReader& ops, OperatorBootstrap& out, const Probes& probes) {
  if (ops.string("admin_name", out.admin_name) && !valid_operator_name(out.admin_name)) {
    ops.issue("admin_name", ops.line_of("admin_name"),
              "'" + out.admin_name + "' is not an operator name (1-64 letters, digits, - _ . @)");
  }
  if (ops.string("admin_password_file", out.admin_password_file)) {
    probe_into(ops, "admin_password_file", out.admin_password_file, probes.pin_file);
  }
  bool present = false;
  auto tables = ops.tables("accounts", present);
  std::set<std::string> names;
  for (auto& t : tables) {
    OperatorAccount account;
    read_account(t, account, out.admin_name, probes);
    if (!account.name.empty() && !names.insert(account.name).second) {
      t.issue("name", t.line_of("name"), "operator '" + account.name + "' is declared twice");
    }
    t.finish();
    out.accounts.push_back(std::move(account));
  }
  ops.finish();
}

void read_bootstrap(TableReader& t, BootstrapSettings& out, const Probes& probes) {
  if (auto ops = t.table("operators")) read_operators(*ops, out.operators, probes);
  read_profiles(t, out.profiles, probes);
  t.finish();
}

void read_hardening(TableReader& t, HardeningSettings& out) {
  t.boolean("seccomp", out.seccomp);
  if (t.string("user", out.user) && !out.user.empty() && !valid_operator_name(out.user)) {
    t.issue("user", t.line_of("user"), "'" + out.user + "' is not a user name");
  }
  t.finish();
}

// The ATR map's content (JSON, token/atr_map.h) is checked by signetd when it loads it at
// start-up: firmware-config does not know the map's format.
void read_cards(TableReader& t, CardSettings& out) {
  t.boolean("enabled", out.enabled);
  if (t.string("atr_map", out.atr_map) && !out.atr_map.empty() && out.atr_map.front() != '/') {
    t.issue("atr_map", t.line_of("atr_map"), "must be an absolute path");
  }
  t.duration("key_generation_timeout_seconds", 10, 86400, out.key_generation_timeout);
  t.duration("card_wait_seconds", 1, 3600, out.card_wait);
  t.finish();
}

void read_endpoints(TableReader& t, EndpointSettings& out) {
  t.boolean("acme", out.acme);
  t.boolean("scep", out.scep);
  t.boolean("cmp", out.cmp);
  t.boolean("est", out.est);
  t.finish();
}

void read_logging(TableReader& t, LoggingSettings& out) {
  std::string level;
  if (t.string("level", level)) {
    static constexpr LogLevel kLevels[] = {LogLevel::kDebug, LogLevel::kInfo, LogLevel::kWarning,
                                           LogLevel::kError};
    const auto* found = std::find_if(std::begin(kLevels), std::end(kLevels),
                                     [&](LogLevel l) { return to_string(l) == level; });
    if (found == std::end(kLevels)) {
      t.issue("level", t.line_of("level"),
              "must be \"debug\", \"info\", \"warning\" or \"error\", not \"" + level + "\"");
    } else {
      out.level = *found;
    }
  }
  t.duration("audit_checkpoint_interval_minutes", 0, 10080, out.audit_checkpoint_interval);
  t.finish();
}

void read_config(TableReader& t, ConfigSettings& out, const Probes& probes) {
  if (t.strings("admin_trust_anchors", out.admin_trust_anchors) && probes.trust_anchor) {
    for (std::size_t i = 0; i < out.admin_trust_anchors.size(); ++i) {
      if (auto checked = probes.trust_anchor(out.admin_trust_anchors[i]); !checked) {
        t.issue("admin_trust_anchors[" + std::to_string(i) + "]", t.line_of("admin_trust_anchors"),
                checked.error().message());
      }
    }
  }
  t.finish();
}

template <typename Section, typename Read>
void section(TableReader& root, std::string_view key, Section& out, Read read) {
  if (auto t = root.table(key)) read(*t, out);
}

void read_root(TableReader& root, Configuration& c, const Probes& probes) {
  section(root, "listen", c.listen, read_listen);
  section(root, "tls", c.tls, read_tls);
  section(root, "limits", c.limits, read_limits);
  section(root, "sessions", c.sessions, read_sessions);
  section(root, "pkcs11", c.pkcs11,
          [&](TableReader& t, Pkcs11Settings& out) { read_pkcs11(t, out, probes); });
  section(root, "state", c.state, read_state);
  section(root, "ca", c.ca, read_ca);
  section(root, "bootstrap", c.bootstrap,
          [&](TableReader& t, BootstrapSettings& out) { read_bootstrap(t, out, probes); });
  section(root, "hardening", c.hardening, read_hardening);
  section(root, "cards", c.cards, read_cards);
  section(root, "endpoints", c.endpoints, read_endpoints);
  section(root, "logging", c.logging, read_logging);
  section(root, "audit", c.audit, internal::read_audit);
  section(root, "config", c.config,
          [&](TableReader& t, ConfigSettings& out) { read_config(t, out, probes); });
  root.finish();
}

}  // namespace

std::string ConfigIssue::describe(std::string_view file) const {
  std::string out(file);
  if (line > 0) out += ":" + std::to_string(line);
  if (!out.empty()) out += ": ";
  if (!key.empty()) out += key + ": ";
  return out + message;
}

LoadResult parse_configuration(std::string_view text, const std::string& source,
                               const std::string& default_module, const Probes& probes) {
  LoadResult result{Configuration::defaults(default_module), {}};
  Value document;
  try {
    std::istringstream in{std::string(text)};
    document = toml::parse<toml::discard_comments, std::map, std::vector>(in, source);
  } catch (const toml::exception& error) {
    result.issues.push_back(internal::syntax_issue(error));
    return result;
  } catch (const std::exception& error) {
    result.issues.push_back({"", 0, std::string("not valid TOML: ") + error.what()});
    return result;
  }
  TableReader root(document, "", result.issues);
  read_root(root, result.configuration, probes);
  std::stable_sort(result.issues.begin(), result.issues.end(),
                   [](const ConfigIssue& a, const ConfigIssue& b) { return a.line < b.line; });
  return result;
}

LoadResult load_configuration_file(const std::string& path, const std::string& default_module,
                                   const Probes& probes) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return {Configuration::defaults(default_module), {{"", 0, "cannot read the file"}}};
  }
  std::stringstream buffer;
  buffer << in.rdbuf();
  return parse_configuration(buffer.str(), path, default_module, probes);
}

base::Error to_error(const std::string& file, const std::vector<ConfigIssue>& issues) {
  std::string message = "the configuration file '" + file + "' has " +
                        std::to_string(issues.size()) +
                        (issues.size() == 1 ? " error:" : " errors:");
  for (const auto& issue : issues) message += "\n  " + issue.describe(file);
  return base::Error(base::ErrorCode::kInvalidArgument, std::move(message));
}

}  // namespace signet::firmware_config
