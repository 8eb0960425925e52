// signetd: the Signet appliance daemon. See `signetd --help`, README.md and docs/.
//
// Startup: no core dumps -> settings -> (started as root with [hardening] user: the effective
// ids become the user's) -> the state directory and PIN file checked private -> lock -> store,
// token and services -> the initial administrator -> the appliance CA and signetd's TLS certificate
// (key on the token) -> HTTPS (REST API and web console) and plain HTTP (CRLs, CA certificates,
// OCSP) listeners bound (as root when dropping) -> privileges dropped for good -> server threads ->
// the seccomp filter -> the revocation scheduler, the audit checkpoint schedule and the TLS
// certificate renewal schedule (appliance/daemon/ hardening.h, seccomp_policy.h,
// audit_checkpoint_loop.h, tls_renewal_loop.h). Audit forwarding ([audit] forward,
// audit_forwarder.h) starts as soon as the store is open. SIGTERM/SIGINT stop
// accepting, let in-flight requests finish, sign a last audit checkpoint and exit; SIGHUP reloads
// what the OCSP responder knows about the CAs and re-reads the configuration (config_reload.h).
#include <signal.h>
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
#include "appliance/api/card_service.h"
#include "appliance/api/metrics.h"
#include "appliance/api/router.h"
#include "appliance/console/console.h"
#include "appliance/core/daemon_lock.h"
#include "appliance/core/profile_bootstrap.h"
#include "appliance/core/token_error_audit.h"
#include "appliance/daemon/appliance_identity.h"
#include "appliance/daemon/audit_checkpoint_loop.h"
#include "appliance/daemon/audit_forwarder.h"
#include "appliance/daemon/config_reload.h"
#include "appliance/daemon/config_routes.h"
#include "appliance/daemon/hardening.h"
#include "appliance/daemon/operator_certificates.h"
#include "appliance/daemon/relying_party.h"
#include "appliance/daemon/seccomp_policy.h"
#include "appliance/daemon/settings.h"
#include "appliance/daemon/system_routes.h"
#include "appliance/daemon/threshold_logger.h"
#include "appliance/daemon/tls_certificate_switch.h"
#include "appliance/daemon/tls_context.h"
#include "appliance/daemon/tls_renewal_loop.h"
#include "appliance/server/http_server.h"
#include "hsm/openssl_provider.h"

namespace signet::appliance {
namespace {

using base::Result;

void log(const std::string& line) { std::cerr << "signetd: " << line << std::endl; }

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

// Runs the CRL and OCSP-signer schedules and the expiry scan: wakes when work is next due (at
// most every `interval`), runs it, and logs failures (the next round retries).
class SchedulerLoop {
 public:
  SchedulerLoop(ApiServices& api, const DaemonSettings& settings)
      : api_(api),
        interval_(settings.scheduler_interval),
        expiry_scan_interval_(settings.expiry_scan_interval),
        expiry_alert_days_(settings.expiry_alert_days),
        thread_([this] { run(); }) {}
  ~SchedulerLoop() {
    {
      std::lock_guard lock(mutex_);
      stopping_ = true;
    }
    wake_.notify_all();
    thread_.join();
  }

  // A configuration reload: the new intervals and window apply from the next round.
  void update(const DaemonSettings& next) {
    {
      std::lock_guard lock(mutex_);
      interval_ = next.scheduler_interval;
      expiry_scan_interval_ = next.expiry_scan_interval;
      expiry_alert_days_ = next.expiry_alert_days;
    }
    wake_.notify_all();
  }

 private:
  struct Timing {
    std::chrono::milliseconds interval;
    std::chrono::seconds expiry_scan_interval;
    int expiry_alert_days;
  };

  void run() {
    std::unique_lock lock(mutex_);
    while (!stopping_) {
      const Timing timing{interval_, expiry_scan_interval_, expiry_alert_days_};
      lock.unlock();
      auto wait = round(timing);
      lock.lock();
      wake_.wait_for(lock, wait, [this] { return stopping_; });
    }
  }

  // Alerts for the operators' certificates that expire within the window (the internal CA's
  // are the appliance's to renew). Deduplicated by the store: a rescan raises nothing new.
  void scan_for_expiry(const Timing& timing) {
    const auto now = std::chrono::steady_clock::now();
    if (now < next_expiry_scan_) return;
    next_expiry_scan_ = now + timing.expiry_scan_interval;
    auto service = api_.system_service("signetd:scheduler");
    auto scanned =
        service->raise_expiry_alerts(timing.expiry_alert_days, {std::string(kApplianceCaName)});
    if (!scanned) log("warning: the expiry scan did not run: " + scanned.error().describe());
  }

  std::chrono::milliseconds round(const Timing& timing) {
    scan_for_expiry(timing);
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
    std::chrono::milliseconds wait = timing.interval;
    if (next && *next) {
      const auto until =
          std::chrono::duration_cast<std::chrono::milliseconds>(**next - api_.clock().now());
      wait = std::clamp(until, std::chrono::milliseconds(1000), timing.interval);
    }
    const auto until_scan = std::chrono::duration_cast<std::chrono::milliseconds>(
        next_expiry_scan_ - std::chrono::steady_clock::now());
    return std::clamp(until_scan, std::chrono::milliseconds(1000), wait);
  }

  ApiServices& api_;
  std::chrono::milliseconds interval_;                        // guarded by mutex_
  std::chrono::seconds expiry_scan_interval_;                 // guarded by mutex_
  int expiry_alert_days_;                                     // guarded by mutex_
  std::chrono::steady_clock::time_point next_expiry_scan_{};  // the first round scans
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

// ca.publish_base_url: each CA without a base URL of its own gets the configured one (the
// Authority audits the change as ca.updated); a CA with its own URL keeps it.
Result<void> apply_publish_base_url(ApplianceContext& context, const std::string& url) {
  if (url.empty()) return base::ok();
  SIGNET_ASSIGN_OR_RETURN(auto* cas, context.cas());
  SIGNET_ASSIGN_OR_RETURN(auto* authority, context.authority());
  SIGNET_ASSIGN_OR_RETURN(auto list, cas->list_cas());
  for (const auto& ca : list) {
    if (ApiServices::is_internal_ca(ca.name) || !ca.settings.base_url.empty()) continue;
    ca::CaSettingsUpdate update;
    update.base_url = url;
    SIGNET_TRY(authority->update_settings(ca.name, update));
    log("CA '" + ca.name + "' publishes under " + url + " (ca.publish_base_url)");
  }
  return base::ok();
}

// `running`: a reload inside the live, hardened process. Its module probe would dlopen()
// whatever library the new file names (running its constructors after the privilege drop and
// under seccomp), and the module is a restart-only setting anyway: it is not probed.
Result<DaemonSettings> resolve_settings(const DaemonFlags& flags, bool running = false) {
  auto probes = appliance_probes();
  if (running) probes.module = nullptr;
  return resolve_daemon_settings(flags, SIGNET_DEFAULT_PKCS11_MODULE, probes,
                                 [](const char* name) { return std::getenv(name); });
}

// signetd's own lifecycle in the audit log (signetd.started, signetd.stopped).
Result<void> audit_lifecycle(ca::AuditSink& audit, const base::Clock& clock,
                             const std::string& action, const nlohmann::json& detail) {
  auto written = audit.append_audit(
      ca::make_audit_event(clock.now(), "signetd", action, "signetd", detail.dump()));
  if (!written) {
    log("warning: cannot audit " + action + ": " + written.error().describe());
    return std::move(written).error();
  }
  return base::ok();
}

Result<int> serve(DaemonSettings settings, const DaemonFlags& flags) {
  settings.store.actor = "signetd";
  settings.store.interactive = false;
  ApplianceContext context(settings.store);
  SIGNET_ASSIGN_OR_RETURN(
      auto privileges,
      PrivilegeDrop::begin(settings.configuration.hardening.user, context.state_dir()));
  SIGNET_TRY(context.ensure_state_dir());
  SIGNET_TRY(check_private_state(context.state_dir(), settings.store.pin_file));
  const SeccompPlan seccomp = plan_seccomp(settings.configuration, settings.store.module_path);
  if (seccomp.enabled) SIGNET_TRY(check_syscall_names(seccomp.extra));
  SIGNET_ASSIGN_OR_RETURN(auto lock, DaemonLock::acquire(context.state_dir()));
  SIGNET_TRY(context.prepare_softhsm(false));
  Metrics metrics;
  context.set_signing_observer([&metrics](std::chrono::nanoseconds elapsed, bool token_error) {
    metrics.signing_latency(elapsed);
    if (token_error) metrics.token_error();
  });
  // Token logins and errors go to the audit log (rate-limited) from the first login on.
  SIGNET_ASSIGN_OR_RETURN(auto* token_audit_sink, context.audit());
  auto token_audit = std::make_shared<TokenEventAudit>(*token_audit_sink, context.clock());
  context.set_token_event_observer(
      [token_audit](const hsm::TokenEvent& event) { token_audit->record(event); });
  SIGNET_TRY(context.open_all());
  SIGNET_TRY(apply_publish_base_url(context, settings.configuration.ca.publish_base_url));
  SIGNET_ASSIGN_OR_RETURN(auto* operators, context.operators());
  SIGNET_ASSIGN_OR_RETURN(auto* audit, context.audit());
  SIGNET_ASSIGN_OR_RETURN(auto* audit_head, context.checkpoints());
  SIGNET_ASSIGN_OR_RETURN(auto forwarder,
                          AuditForwarder::create(settings.configuration.audit, *audit, *audit_head,
                                                 context.state_dir(), log));

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
  const auto& tls_settings = settings.configuration.tls;
  SIGNET_ASSIGN_OR_RETURN(auto identity,
                          ensure_tls_identity(context, names, tls_settings.certificate_lifetime,
                                              tls_settings.renew_before));
  SIGNET_TRY(publish_appliance_ca(context.state_dir(), identity.appliance_ca));
  SIGNET_ASSIGN_OR_RETURN(auto bridge, hsm::OpensslBridge::create());
  SIGNET_ASSIGN_OR_RETURN(auto tls,
                          make_server_tls_context(*bridge, identity, settings.tls_min_version));
  SIGNET_ASSIGN_OR_RETURN(auto tls_switch,
                          TlsCertificateSwitch::create(*bridge, tls.get(), identity));

  // Smart cards ([cards]): the ATR map's modules are loaded now, never after start-up.
  std::unique_ptr<CardService> cards;
  if (settings.configuration.cards.enabled) {
    std::vector<std::string> notes;
    SIGNET_ASSIGN_OR_RETURN(cards,
                            CardService::create(settings.configuration.cards, context, notes));
    for (const auto& line : notes) log(line);
  }
  ApiServices api(context, authenticator, metrics);
  ThresholdLogger logger(settings.log_level);
  Router router(authenticator, metrics, &logger);
  register_session_routes(router, api);
  register_operator_routes(router, api);
  register_operator_certificate_routes(router, api);
  register_certificate_routes(router, api);
  register_ca_routes(router, api);
  register_profile_routes(router, api);
  register_order_routes(router, api);
  register_crl_routes(router, api);
  register_token_routes(router, api);
  register_card_routes(router, api, cards.get());
  register_audit_routes(router, api);
  register_system_routes(
      router, api,
      [&tls_switch] {
        return tls_switch->current().certificate.key_location.value_or(base::KeyRef{});
      },
      forwarder.get());
  for (const auto& line : bootstrap_declared_profiles(api, settings.configuration)) log(line);
  for (const auto& line : bootstrap_declared_operators(api, settings.configuration)) log(line);
  ConfigReloader reloader(
      settings, [&flags] { return resolve_settings(flags, /*running=*/true); }, *audit,
      context.clock());
  register_config_routes(router, reloader, api, SIGNET_DEFAULT_PKCS11_MODULE);
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
  SIGNET_ASSIGN_OR_RETURN(auto console, console::Console::create());
  std::vector<ListenerConfig> listeners;
  listeners.push_back({"https", settings.https.host, settings.https.port, tls.get(),
                       [&router, &console](http::Request& request) {
                         if (console.owns(request.path)) return console.handle(request);
                         return router.dispatch(request);
                       }});
  listeners.push_back(
      {"http", settings.http.host, settings.http.port, nullptr,
       [&relying_party](http::Request& request) { return relying_party.handle(request); }});
  SIGNET_TRY(privileges.bind_as_root());
  SIGNET_ASSIGN_OR_RETURN(auto server, HttpServer::create(std::move(listeners), limits, &logger));
  SIGNET_TRY(privileges.finish());
  if (forwarder) forwarder->start();
  if (privileges.active()) {
    log("dropped privileges to user '" + settings.configuration.hardening.user + "'");
  }
  server->start();
  if (seccomp.enabled) {
    // pcscd is reached over its AF_UNIX socket: card support needs local sockets.
    auto sockets = forwarding_socket_policy(settings.configuration.audit);
    if (cards && sockets == SocketPolicy::kRefused) sockets = SocketPolicy::kLocal;
    const auto extra = cards ? with_pcsc_client(seccomp.extra) : seccomp.extra;
    SIGNET_TRY(install_seccomp_policy(extra, sockets));
    log("seccomp: the syscall allowlist is installed (" +
        std::to_string(seccomp_base_allowlist().size() + seccomp.extra.size()) +
        " syscalls, plus clone for threads and ioctl FIONBIO/FIONREAD)" +
        (cards ? "; smart cards: AF_UNIX sockets and poll for pcscd" : ""));
  } else {
    log("warning: seccomp: no syscall filter: " + seccomp.reason);
  }
  ListenAddress https = settings.https, http = settings.http;
  https.port = server->bound_port(0);
  http.port = server->bound_port(1);
  SIGNET_TRY(lock.publish({static_cast<long>(::getpid()), "https://" + https.to_string(),
                           "http://" + http.to_string()}));
  (void)audit_lifecycle(*audit, context.clock(), "signetd.started",
                        {{"pid", static_cast<long>(::getpid())},
                         {"https", https.to_string()},
                         {"http", http.to_string()}});
  log("serving the API and the console on https://" + https.to_string() +
      " and CRLs/OCSP on http://" + http.to_string() + " (state " + context.state_dir().string() +
      ")");

  int exit_code = 0;
  {
    SchedulerLoop scheduler(api, settings);
    AuditCheckpointLoop checkpoints(api.checkpointer(), settings.audit_checkpoint_interval, log);
    TlsRenewalLoop renewal(api, *tls_switch,
                           {tls_settings.certificate_lifetime, tls_settings.renew_before,
                            tls_settings.renew_check_interval, tls_settings.operator_renew_before},
                           log);
    reloader.attach([&](const DaemonSettings& next) {
      logger.set_threshold(next.log_level);
      authenticator.set_session_times(next.session_idle, next.session_lifetime);
      scheduler.update(next);
      checkpoints.set_interval(next.audit_checkpoint_interval);
      auto notes = bootstrap_declared_profiles(api, next.configuration);
      for (auto& line : bootstrap_declared_operators(api, next.configuration)) {
        notes.push_back(std::move(line));
      }
      if (auto url = apply_publish_base_url(context, next.configuration.ca.publish_base_url);
          !url) {
        notes.push_back("ca.publish_base_url was not applied: " + url.error().message());
      }
      return notes;
    });
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGHUP);
    int stop_signal = SIGTERM;
    for (;;) {
      int signal_number = 0;
      if (sigwait(&set, &signal_number) != 0) continue;
      if (signal_number == SIGHUP) {
        auto reloaded = api.ocsp_responder().reload();
        log(reloaded ? "SIGHUP: reloaded the CAs"
                     : "SIGHUP: reload failed: " + reloaded.error().describe());
        log("SIGHUP: " + describe_reload(reloader.reload("signetd:SIGHUP")));
        continue;
      }
      stop_signal = signal_number;
      log(std::string("stopping on ") + (signal_number == SIGTERM ? "SIGTERM" : "SIGINT") +
          ": finishing in-flight requests");
      break;
    }
    server->stop(std::chrono::seconds(20));
    reloader.attach(nullptr);
    token_audit->flush();
    (void)audit_lifecycle(*audit, context.clock(), "signetd.stopped",
                          {{"signal", stop_signal == SIGTERM ? "SIGTERM" : "SIGINT"}});
    checkpoints.final();  // after the last request's audit events
  }
  log("stopped");
  return exit_code;
}

}  // namespace
}  // namespace signet::appliance

int main(int argc, char** argv) {
  using namespace signet::appliance;
  if (auto hardened = disable_core_dumps(); !hardened) {
    std::cerr << "signetd: error: " << hardened.error().describe() << "\n";
    return 1;
  }
  block_signals();
  CLI::App app{
      "signetd: the Signet PKI appliance daemon: HTTPS REST API and web console (TLS key on the "
      "token), and "
      "CRLs, CA certificates and OCSP over plain HTTP.\nPINs come from SIGNET_PIN_FILE / "
      "--pin-file; the first administrator's password from SIGNET_ADMIN_PASSWORD_FILE or a "
      "generated file in the state directory.",
      "signetd"};
  app.set_version_flag("--version", "signetd 0.1.0");
  DaemonFlags flags;
  app.add_option("--config", flags.config,
                 "configuration file (TOML; see docs/CONFIGURATION.md); an invalid file stops "
                 "signetd with every error. SIGHUP (or POST /api/v1/config/reload) re-reads it: "
                 "an invalid file changes nothing, a valid one applies its run-time settings");
  app.add_option("--listen", flags.listen, "HTTPS address:port (default 127.0.0.1:8443)");
  app.add_option("--http-listen", flags.http_listen,
                 "plain HTTP address:port for CRLs and OCSP (default 127.0.0.1:8080)");
  app.add_option("--state", flags.state, "state directory (env SIGNET_STATE)");
  app.add_option("--module", flags.module, "PKCS#11 module (env SIGNET_PKCS11_MODULE)");
  app.add_option("--token", flags.token, "default token label or serial (env SIGNET_TOKEN)");
  app.add_option("--pin-file", flags.pin_file,
                 "file with the token's user PIN (env SIGNET_PIN_FILE)");
  app.add_option("--user", flags.user,
                 "started as root: bind the listeners, then run as this user ([hardening] "
                 "user); the state directory must belong to it");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }
  auto fail = [](const signet::base::Error& error) {
    std::cerr << "signetd: error: " << error.describe() << "\n";
    return 1;
  };
  auto settings = resolve_settings(flags);
  if (!settings) return fail(settings.error());
  log(settings->config_file.empty() ? "no configuration file: the factory defaults"
                                    : "configuration from " + settings->config_file);
  for (const auto& warning : unenforced_settings(settings->configuration)) {
    log("warning: " + warning);
  }
  auto served = serve(std::move(*settings), flags);
  if (!served) return fail(served.error());
  return *served;
}
