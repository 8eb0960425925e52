// signetd: the Signet appliance daemon. See `signetd --help`, README.md and docs/.
//
// Startup: settings -> state directory lock -> store, token and services -> the initial
// administrator -> the appliance CA and signetd's TLS certificate (key on the token) -> HTTPS
// (REST API) and plain HTTP (CRLs, CA certificates, OCSP) listeners -> the revocation
// scheduler and the audit checkpoint schedule. SIGTERM/SIGINT stop accepting, let in-flight
// requests finish, sign a last audit checkpoint and exit;
// SIGHUP reloads what the OCSP responder knows about the CAs.
#include <signal.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <condition_variable>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <mutex>
#include <thread>

#include "appliance/api/api.h"
#include "appliance/api/auth.h"
#include "appliance/api/metrics.h"
#include "appliance/api/router.h"
#include "appliance/core/daemon_lock.h"
#include "appliance/daemon/appliance_identity.h"
#include "appliance/daemon/audit_checkpoint_loop.h"
#include "appliance/daemon/relying_party.h"
#include "appliance/daemon/settings.h"
#include "appliance/daemon/system_routes.h"
#include "appliance/daemon/tls_context.h"
#include "appliance/server/http_server.h"
#include "hsm/openssl_provider.h"

namespace signet::appliance {
namespace {

using base::Result;

void log(const std::string& line) { std::cerr << "signetd: " << line << std::endl; }

void harden_process() {
  ::prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);  // no core dumps, no ptrace by other users
  rlimit no_core{0, 0};
  ::setrlimit(RLIMIT_CORE, &no_core);
  ::umask(077);
}

// Signals are taken by sigwait() in main(); every thread inherits this mask.
sigset_t block_signals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGHUP);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  ::signal(SIGPIPE, SIG_IGN);
  return set;
}

// Runs the CRL and OCSP-signer schedules: wakes when work is next due (at most every
// `interval`), runs it, and logs failures (the next round retries).
class SchedulerLoop {
 public:
  SchedulerLoop(ApiServices& api, std::chrono::seconds interval)
      : api_(api), interval_(interval), thread_([this] { run(); }) {}
  ~SchedulerLoop() {
    {
      std::lock_guard lock(mutex_);
      stopping_ = true;
    }
    wake_.notify_all();
    thread_.join();
  }

 private:
  void run() {
    std::unique_lock lock(mutex_);
    while (!stopping_) {
      lock.unlock();
      auto wait = round();
      lock.lock();
      wake_.wait_for(lock, wait, [this] { return stopping_; });
    }
  }

  std::chrono::milliseconds round() {
    {
      auto guard = api_.revocation_lock();
      auto outcomes = api_.scheduler().run_due();
      if (!outcomes) {
        log("warning: the revocation schedule did not run: " + outcomes.error().describe());
      } else {
        for (const auto& o : *outcomes) {
          if (o.error) {
            log("warning: " + std::string(crl::to_string(o.work.what)) + " of CA '" +
                o.work.ca_name + "' failed: " + o.error->describe());
          }
        }
      }
    }
    auto next = api_.scheduler().next_wakeup();
    std::chrono::milliseconds wait = interval_;
    if (next && *next) {
      const auto until =
          std::chrono::duration_cast<std::chrono::milliseconds>(**next - api_.clock().now());
      wait =
          std::clamp(until, std::chrono::milliseconds(1000), std::chrono::milliseconds(interval_));
    }
    return wait;
  }

  ApiServices& api_;
  std::chrono::milliseconds interval_;
  std::mutex mutex_;
  std::condition_variable wake_;
  bool stopping_ = false;
  std::thread thread_;
};

std::vector<Metrics::GaugeSample> crl_ages(ApiServices& api) {
  std::vector<Metrics::GaugeSample> samples;
  auto cas = api.cas().list_cas();
  if (!cas) return samples;
  for (const auto& ca : *cas) {
    auto latest = api.crl_log().latest_crl_info(ca.name, ca::CrlKind::kFull);
    if (!latest || !*latest) continue;
    const double age =
        std::chrono::duration<double>(api.clock().now() - (*latest)->this_update).count();
    samples.push_back({"ca=\"" + ca.name + "\"", age});
  }
  return samples;
}

// The appliance CA certificate, for clients on this machine (the CLI, scripts) to trust
// signetd's HTTPS: <state>/appliance-ca.pem, world-readable (it is public).
Result<void> publish_appliance_ca(const std::filesystem::path& state_dir, const ca::CaRecord& ca) {
  const auto path = state_dir / "appliance-ca.pem";
  const auto tmp = state_dir / "appliance-ca.pem.tmp";
  std::string pem = "-----BEGIN CERTIFICATE-----\n";
  const std::string b64 = base::to_base64(ca.certificate_der);
  for (std::size_t i = 0; i < b64.size(); i += 64) pem += b64.substr(i, 64) + "\n";
  pem += "-----END CERTIFICATE-----\n";
  {
    std::ofstream out(tmp, std::ios::trunc);
    out << pem;
    if (!out.flush()) return base::Error(base::ErrorCode::kIoError, "cannot write " + tmp.string());
  }
  ::chmod(tmp.c_str(), 0644);
  std::error_code error;
  std::filesystem::rename(tmp, path, error);
  if (error) return base::Error(base::ErrorCode::kIoError, "cannot write " + path.string());
  return base::ok();
}

Result<int> serve(DaemonSettings settings) {
  settings.store.actor = "signetd";
  settings.store.interactive = false;
  ApplianceContext context(settings.store);
  SIGNET_TRY(context.ensure_state_dir());
  SIGNET_ASSIGN_OR_RETURN(auto lock, DaemonLock::acquire(context.state_dir()));
  SIGNET_TRY(context.prepare_softhsm(false));
  Metrics metrics;
  context.set_signing_observer([&metrics](std::chrono::nanoseconds elapsed, bool token_error) {
    metrics.signing_latency(elapsed);
    if (token_error) metrics.token_error();
  });
  SIGNET_TRY(context.open_all());
  SIGNET_ASSIGN_OR_RETURN(auto* operators, context.operators());
  SIGNET_ASSIGN_OR_RETURN(auto* audit, context.audit());

  AuthPolicy policy;
  policy.session_idle = settings.session_idle;
  policy.session_lifetime = settings.session_lifetime;
  Authenticator authenticator(*operators, *audit, context.clock(), context.rng(), policy);
  SIGNET_ASSIGN_OR_RETURN(auto password_file,
                          ensure_initial_administrator(context, authenticator, settings.admin_name,
                                                       settings.admin_password_file));
  if (!password_file.empty()) {
    log("created the administrator '" + settings.admin_name + "'; its initial password is in " +
        password_file + " (mode 0600): log in and change it");
  }

  std::vector<std::string> names = settings.tls_names;
  names.push_back(settings.https.host);
  SIGNET_ASSIGN_OR_RETURN(auto identity, ensure_tls_identity(context, names));
  SIGNET_TRY(publish_appliance_ca(context.state_dir(), identity.appliance_ca));
  SIGNET_ASSIGN_OR_RETURN(auto bridge, hsm::OpensslBridge::create());
  SIGNET_ASSIGN_OR_RETURN(auto tls,
                          make_server_tls_context(*bridge, identity, settings.tls_min_version));

  ApiServices api(context, authenticator, metrics);
  base::StderrLogger logger(settings.log_level);
  Router router(authenticator, metrics, &logger);
  register_session_routes(router, api);
  register_operator_routes(router, api);
  register_certificate_routes(router, api);
  register_ca_routes(router, api);
  register_profile_routes(router, api);
  register_order_routes(router, api);
  register_crl_routes(router, api);
  register_token_routes(router, api);
  register_audit_routes(router, api);
  register_system_routes(router, api, *identity.certificate.key_location);
  RelyingPartyEndpoints relying_party(api.cas(), api.crl_log(), api.ocsp_responder(), metrics);
  metrics.add_gauge("signet_crl_age_seconds", "Seconds since the CA's latest full CRL was issued.",
                    [&api] { return crl_ages(api); });
  metrics.add_gauge("signet_sessions", "Open operator sessions.", [&authenticator] {
    return std::vector<Metrics::GaugeSample>{{"", double(authenticator.session_count())}};
  });

  ServerLimits limits;
  limits.max_connections = settings.max_connections;
  limits.max_body_bytes = settings.max_body_bytes;
  limits.header_timeout = settings.header_timeout;
  limits.body_timeout = settings.body_timeout;
  limits.idle_timeout = settings.idle_timeout;
  limits.io_threads = settings.io_threads;
  limits.worker_threads = settings.worker_threads;
  std::vector<ListenerConfig> listeners;
  listeners.push_back({"https", settings.https.host, settings.https.port, tls.get(),
                       [&router](http::Request& request) { return router.dispatch(request); }});
  listeners.push_back(
      {"http", settings.http.host, settings.http.port, nullptr,
       [&relying_party](http::Request& request) { return relying_party.handle(request); }});
  SIGNET_ASSIGN_OR_RETURN(auto server, HttpServer::create(std::move(listeners), limits, &logger));
  server->start();
  ListenAddress https = settings.https, http = settings.http;
  https.port = server->bound_port(0);
  http.port = server->bound_port(1);
  SIGNET_TRY(lock.publish({static_cast<long>(::getpid()), "https://" + https.to_string(),
                           "http://" + http.to_string()}));
  log("serving the API on https://" + https.to_string() + " and CRLs/OCSP on http://" +
      http.to_string() + " (state " + context.state_dir().string() + ")");

  int exit_code = 0;
  {
    SchedulerLoop scheduler(api, settings.scheduler_interval);
    AuditCheckpointLoop checkpoints(api.checkpointer(), settings.audit_checkpoint_interval, log);
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGHUP);
    for (;;) {
      int signal_number = 0;
      if (sigwait(&set, &signal_number) != 0) continue;
      if (signal_number == SIGHUP) {
        auto reloaded = api.ocsp_responder().reload();
        log(reloaded ? "SIGHUP: reloaded the CAs"
                     : "SIGHUP: reload failed: " + reloaded.error().describe());
        continue;
      }
      log(std::string("stopping on ") + (signal_number == SIGTERM ? "SIGTERM" : "SIGINT") +
          ": finishing in-flight requests");
      break;
    }
    server->stop(std::chrono::seconds(20));
    checkpoints.final();  // after the last request's audit events
  }
  log("stopped");
  return exit_code;
}

}  // namespace
}  // namespace signet::appliance

int main(int argc, char** argv) {
  using namespace signet::appliance;
  harden_process();
  block_signals();
  CLI::App app{
      "signetd: the Signet PKI appliance daemon: HTTPS REST API (TLS key on the token), and "
      "CRLs, CA certificates and OCSP over plain HTTP.\nPINs come from SIGNET_PIN_FILE / "
      "--pin-file; the first administrator's password from SIGNET_ADMIN_PASSWORD_FILE or a "
      "generated file in the state directory.",
      "signetd"};
  app.set_version_flag("--version", "signetd 0.1.0");
  DaemonFlags flags;
  app.add_option("--config", flags.config,
                 "configuration file (TOML; see docs/CONFIGURATION.md); an invalid file stops "
                 "signetd with every error");
  app.add_option("--listen", flags.listen, "HTTPS address:port (default 127.0.0.1:8443)");
  app.add_option("--http-listen", flags.http_listen,
                 "plain HTTP address:port for CRLs and OCSP (default 127.0.0.1:8080)");
  app.add_option("--state", flags.state, "state directory (env SIGNET_STATE)");
  app.add_option("--module", flags.module, "PKCS#11 module (env SIGNET_PKCS11_MODULE)");
  app.add_option("--token", flags.token, "default token label or serial (env SIGNET_TOKEN)");
  app.add_option("--pin-file", flags.pin_file,
                 "file with the token's user PIN (env SIGNET_PIN_FILE)");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }
  auto fail = [](const signet::base::Error& error) {
    std::cerr << "signetd: error: " << error.describe() << "\n";
    return 1;
  };
  auto settings = resolve_daemon_settings(flags, SIGNET_DEFAULT_PKCS11_MODULE,
                                          signet::firmware_config::real_probes(),
                                          [](const char* name) { return std::getenv(name); });
  if (!settings) return fail(settings.error());
  log(settings->config_file.empty() ? "no configuration file: the factory defaults"
                                    : "configuration from " + settings->config_file);
  for (const auto& warning : unenforced_settings(settings->configuration)) {
    log("warning: " + warning);
  }
  auto served = serve(std::move(*settings));
  if (!served) return fail(served.error());
  return *served;
}
