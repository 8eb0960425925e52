// signetd's settings: factory defaults, then the TOML file, then the environment, then the
// flags (appliance/daemon/settings.h).
#include <catch2/catch.hpp>
#include <map>

#include "appliance/daemon/settings.h"
#include "tests/support/test_support.h"

using namespace signet::appliance;

namespace {

constexpr const char* kModule = "/usr/lib/softhsm/libsofthsm2.so";

EnvironmentLookup environment(std::map<std::string, std::string> values) {
  auto shared = std::make_shared<std::map<std::string, std::string>>(std::move(values));
  return [shared](const char* name) -> const char* {
    const auto it = shared->find(name);
    return it == shared->end() ? nullptr : it->second.c_str();
  };
}

signet::firmware_config::Probes no_probes() { return {}; }

}  // namespace

TEST_CASE("without a file signetd runs on the factory defaults and the environment") {
  signet::test::TempDir dir;
  auto s = resolve_daemon_settings({}, kModule, no_probes(),
                                   environment({{"SIGNET_STATE", dir.str()},
                                                {"SIGNET_TOKEN", "signet"},
                                                {"SIGNET_PIN_FILE", "/run/pin"}}));
  REQUIRE(s);
  CHECK(s->config_file.empty());
  CHECK(s->https.to_string() == "127.0.0.1:8443");
  CHECK(s->http.to_string() == "127.0.0.1:8080");
  CHECK(s->store.state_dir == dir.str());
  CHECK(s->store.module_path == kModule);
  CHECK(s->store.token == "signet");
  CHECK(s->store.pin_file == "/run/pin");
  CHECK(s->max_connections == 512);
  CHECK(s->session_idle == std::chrono::minutes(15));
  CHECK(s->admin_name == "admin");
  CHECK(s->admin_password_file.empty());
  CHECK(unenforced_settings(s->configuration).empty());
}

TEST_CASE("the file sets what the environment leaves, and flags override both") {
  signet::test::TempDir dir;
  const auto file = dir / "signetd.toml";
  signet::test::write_text(file, R"([listen]
https = "127.0.0.1:9443"
http = "127.0.0.1:9080"
[limits]
max_body_bytes = 4096
[pkcs11]
default_token = "main"
[[pkcs11.modules]]
name = "vendor"
path = "/opt/vendor/p11.so"
[[pkcs11.tokens]]
label = "main"
module = "vendor"
pin_file = "/etc/signet/main.pin"
[bootstrap.operators]
admin_name = "chief"
[hardening]
seccomp = true
)");
  DaemonFlags flags;
  flags.config = file.string();
  auto from_file = resolve_daemon_settings(flags, kModule, no_probes(), environment({}));
  REQUIRE(from_file);
  CHECK(from_file->https.port == 9443);
  CHECK(from_file->max_body_bytes == 4096);
  CHECK(from_file->store.module_path == "/opt/vendor/p11.so");
  CHECK(from_file->store.token == "main");
  CHECK(from_file->store.pin_file == "/etc/signet/main.pin");
  CHECK(from_file->admin_name == "chief");
  CHECK(from_file->configuration.hardening.seccomp);
  CHECK(unenforced_settings(from_file->configuration).empty());

  auto env = environment({{"SIGNET_TOKEN", "other"},
                          {"SIGNET_PIN_FILE", "/run/other.pin"},
                          {"SIGNET_PKCS11_MODULE", "/lib/spy.so"},
                          {"SIGNET_ADMIN_PASSWORD_FILE", "/run/admin"}});
  auto with_env = resolve_daemon_settings(flags, kModule, no_probes(), env);
  REQUIRE(with_env);
  CHECK(with_env->store.token == "other");
  CHECK(with_env->store.pin_file == "/run/other.pin");
  CHECK(with_env->store.module_path == "/lib/spy.so");
  CHECK(with_env->admin_password_file == "/run/admin");

  flags.listen = "[::1]:0";
  flags.pin_file = "/run/flag.pin";
  flags.token = "flagged";
  auto with_flags = resolve_daemon_settings(flags, kModule, no_probes(), env);
  REQUIRE(with_flags);
  CHECK(with_flags->https.to_string() == "[::1]:0");
  CHECK(with_flags->http.port == 9080);
  CHECK(with_flags->store.pin_file == "/run/flag.pin");
  CHECK(with_flags->store.token == "flagged");
}

TEST_CASE("a PIN in a systemd credential is read from $CREDENTIALS_DIRECTORY") {
  signet::test::TempDir dir;
  const auto file = dir / "signetd.toml";
  signet::test::write_text(file, "[[pkcs11.tokens]]\nlabel = \"t\"\npin_credential = \"pin\"\n");
  DaemonFlags flags;
  flags.config = file.string();
  auto s = resolve_daemon_settings(flags, kModule, no_probes(),
                                   environment({{"CREDENTIALS_DIRECTORY", "/run/credentials/x"}}));
  REQUIRE(s);
  CHECK(s->store.pin_file == "/run/credentials/x/pin");
  auto missing = resolve_daemon_settings(flags, kModule, no_probes(), environment({}));
  REQUIRE_FALSE(missing);
  CHECK(missing.error().message().find("$CREDENTIALS_DIRECTORY is not set") != std::string::npos);
}

TEST_CASE("an invalid file stops signetd with every error") {
  signet::test::TempDir dir;
  const auto file = dir / "bad.toml";
  signet::test::write_text(file, "[limits]\nio_threads = 0\n[logging]\nlevel = \"loud\"\n");
  DaemonFlags flags;
  flags.config = file.string();
  auto s = resolve_daemon_settings(flags, kModule, no_probes(), environment({}));
  REQUIRE_FALSE(s);
  const auto& message = s.error().message();
  CHECK(message.find("has 2 errors") != std::string::npos);
  CHECK(message.find(file.string() + ":2: limits.io_threads") != std::string::npos);
  CHECK(message.find(file.string() + ":4: logging.level") != std::string::npos);
}

TEST_CASE("without --config signetd reads the active file of the state directory") {
  signet::test::TempDir dir;
  std::filesystem::create_directories(dir / "config");
  signet::test::write_text(dir / "config" / "signetd.toml", "[limits]\nio_threads = 7\n", 0600);
  DaemonFlags flags;
  flags.state = dir.str();
  auto s = resolve_daemon_settings(flags, kModule, no_probes(), environment({}));
  REQUIRE(s);
  CHECK(s->config_file == (dir / "config" / "signetd.toml").string());
  CHECK(s->io_threads == 7);
}
