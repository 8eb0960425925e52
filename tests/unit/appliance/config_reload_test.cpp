// signetd's configuration reload (appliance/daemon/config_reload.h) with an injected resolver:
// a failing resolution applies nothing and is audited; a good one hands the new settings to
// Apply, sorts the changes into applied and restart-required, and keeps naming a pending
// restart on later reloads.
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "appliance/daemon/config_reload.h"
#include "tests/support/memory_store.h"

using namespace signet::appliance;
using signet::base::Error;
using signet::base::ErrorCode;

namespace {

DaemonSettings settings_with(int lifetime, const char* tls = "1.2") {
  DaemonSettings s;
  s.config_file = "/etc/signet/signetd.toml";
  s.configuration = signet::firmware_config::Configuration::defaults("/lib/p11.so");
  s.configuration.sessions.lifetime = std::chrono::seconds(lifetime);
  s.configuration.tls.min_version = std::string(tls) == "1.3"
                                        ? signet::firmware_config::TlsVersion::kTls13
                                        : signet::firmware_config::TlsVersion::kTls12;
  s.session_lifetime = std::chrono::seconds(lifetime);
  return s;
}

std::vector<std::string> actions(signet::test::MemoryStore& store) {
  std::vector<std::string> out;
  auto events = store.list_audit(0, 1000);
  REQUIRE(events);
  for (const auto& e : *events) out.push_back(e.action);
  return out;
}

}  // namespace

TEST_CASE("run-time keys are told apart from those that need a restart") {
  CHECK(reloadable_at_run_time("logging.level"));
  CHECK(reloadable_at_run_time("sessions.idle_seconds"));
  CHECK(reloadable_at_run_time("bootstrap.profiles[2].validity"));
  CHECK(reloadable_at_run_time("ca.expiry_alert_days"));
  CHECK_FALSE(reloadable_at_run_time("listen.https"));
  CHECK_FALSE(reloadable_at_run_time("state.directory"));
  CHECK_FALSE(reloadable_at_run_time("limits.max_connections"));
  CHECK_FALSE(reloadable_at_run_time("pkcs11.tokens[0].pin_file"));
}

TEST_CASE("a reload applies what it can, names restarts, and a bad file changes nothing") {
  signet::test::MemoryStore store;
  signet::base::FixedClock clock(signet::base::TimePoint{});
  signet::base::Result<DaemonSettings> next = settings_with(3600);
  ConfigReloader reloader(
      settings_with(3600), [&] { return next; }, store, clock);

  auto early = reloader.reload("test");
  REQUIRE_FALSE(early);
  CHECK(early.error().code() == ErrorCode::kUnavailable);

  std::vector<int> applied_lifetimes;
  reloader.attach([&](const DaemonSettings& s) {
    applied_lifetimes.push_back(static_cast<int>(s.session_lifetime.count()));
    return std::vector<std::string>{"note"};
  });

  next = settings_with(7200, "1.3");
  auto report = reloader.reload("operator:admin");
  REQUIRE(report);
  CHECK(report->applied == std::vector<std::string>{"sessions.lifetime_seconds: 3600 -> 7200"});
  CHECK(report->restart_required ==
        std::vector<std::string>{"tls.min_version: \"1.2\" -> \"1.3\""});
  CHECK(report->notes == std::vector<std::string>{"note"});
  CHECK(applied_lifetimes == std::vector<int>{7200});

  next = Error(ErrorCode::kInvalidArgument, "the configuration file 'x' has 1 error");
  auto failed = reloader.reload("operator:admin");
  REQUIRE_FALSE(failed);
  CHECK(failed.error().describe().find("not reloaded") != std::string::npos);
  CHECK(applied_lifetimes.size() == 1);

  // Same file again: nothing new to apply, the TLS change still waits for a restart.
  next = settings_with(7200, "1.3");
  report = reloader.reload("signetd:SIGHUP");
  REQUIRE(report);
  CHECK(report->applied.empty());
  CHECK(report->restart_required.size() == 1);
  CHECK(actions(store) ==
        std::vector<std::string>{"config.reloaded", "config.reload_failed", "config.reloaded"});

  reloader.attach(nullptr);
  CHECK_FALSE(reloader.reload("test"));
}
