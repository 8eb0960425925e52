// ApplianceContext: the `signet` command line's composition root. It resolves the global settings
// (state directory, PKCS#11 module, default token, PIN file) from flags and environment, and
// builds the concrete pieces on first use: the LMDB store, the PKCS#11 module and key
// provider, the ca::Authority and the ca::CertificateService over them. Commands receive it
// and ask for what they need, so that `signet token list` never opens the store and
// `signet cert list` never loads the PKCS#11 module. The service names this process as its
// worker ("pid:<pid>:<start>", worker_identity.h); creating it first fails the orders that a
// killed process left unfinished. Single-threaded use (one command per process).
#pragma once

#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "appliance/core/observed_keys.h"
#include "base/clock.h"
#include "base/result.h"
#include "base/rng.h"
#include "base/secure_buffer.h"
#include "ca/audit_checkpoint.h"
#include "ca/authority.h"
#include "ca/certificate_service.h"
#include "ca/operators.h"
#include "crl/crl_service.h"
#include "crl/ocsp_responder.h"
#include "crl/ocsp_signers.h"
#include "crl/scheduler.h"
#include "hsm/token_events.h"

namespace signet::hsm {
class Pkcs11Module;
class Pkcs11KeyProvider;
}  // namespace signet::hsm
namespace signet::store {
class LmdbStore;
}  // namespace signet::store

namespace signet::appliance {

// The appliance's own CA, which signetd creates to issue its TLS and operator certificates
// (and renews them itself); kept apart from the operators' CAs.
inline constexpr std::string_view kApplianceCaName = "signet-appliance";

struct GlobalOptions {
  std::string state_dir;    // --state or SIGNET_STATE
  std::string module_path;  // --module or SIGNET_PKCS11_MODULE
  std::string token;        // --token or SIGNET_TOKEN
  std::string pin_file;     // --pin-file or SIGNET_PIN_FILE
  bool json = false;        // --json
  // Who the services name in orders and audit events; empty: "cli:<user>".
  std::string actor;
  // Whether a missing PIN file may be answered at a terminal prompt (the CLI) or is an
  // error (signetd).
  bool interactive = true;

  // The settings from the environment (SIGNET_STATE, SIGNET_PKCS11_MODULE, SIGNET_TOKEN,
  // SIGNET_PIN_FILE), with `default_module` when SIGNET_PKCS11_MODULE is unset.
  static GlobalOptions from_environment(std::string default_module);
};

class ApplianceContext {
 public:
  explicit ApplianceContext(GlobalOptions options);
  ~ApplianceContext();
  ApplianceContext(const ApplianceContext&) = delete;
  ApplianceContext& operator=(const ApplianceContext&) = delete;

  const GlobalOptions& options() const { return options_; }
  bool json() const { return options_.json; }
  const std::filesystem::path& state_dir() const { return state_dir_; }
  std::filesystem::path store_dir() const { return state_dir_ / "store"; }
  std::filesystem::path softhsm_dir() const { return state_dir_ / "softhsm"; }
  std::filesystem::path pins_dir() const { return state_dir_ / "pins"; }

  const base::Clock& clock() const { return clock_; }
  base::Rng& rng() { return rng_; }

  // Creates the state directory (mode 0700) when missing; a clear error when it cannot.
  base::Result<void> ensure_state_dir();
  // Points SoftHSM at the state directory's configuration when the module is SoftHSM and
  // SOFTHSM2_CONF is not already set; creates that configuration when `create` is true.
  base::Result<void> prepare_softhsm(bool create);
  bool module_is_softhsm() const;

  base::Result<store::LmdbStore*> store();
  base::Result<hsm::Pkcs11Module*> module();
  base::Result<hsm::Pkcs11KeyProvider*> keys();
  // The provider the CA services sign through: keys(), observed when an observer was set.
  base::Result<base::KeyProvider*> signing_keys();
  // Every signature the services make is reported to `observer` (signetd's metrics). Call
  // before the services are first used.
  void set_signing_observer(SigningObserver observer) { signing_observer_ = std::move(observer); }
  // Every token's logins, refused logins, token errors and lost sessions are reported to
  // `observer` (signetd's audit trail, token_error_audit.h). Call before keys() is first used.
  void set_token_event_observer(hsm::TokenEventObserver observer) {
    token_events_ = std::move(observer);
  }
  base::Result<ca::Authority*> authority();
  base::Result<ca::Inventory*> inventory();
  base::Result<ca::CaDirectory*> cas();
  base::Result<ca::AuditSink*> audit();
  base::Result<ca::AuditCheckpointLog*> checkpoints();
  // Signs checkpoints of the audit log with the audit key on the default token (--token).
  base::Result<ca::AuditCheckpointer*> checkpointer();
  base::Result<ca::ProfileDirectory*> profiles();
  base::Result<ca::OrderLog*> orders();
  base::Result<ca::AlertLog*> alerts();
  base::Result<ca::OperatorDirectory*> operators();
  // The lifecycle service; on first use it fails orders whose worker died (warning on stderr).
  base::Result<ca::CertificateService*> service();
  // Revocation services over the same store and tokens.
  base::Result<ca::CrlLog*> crl_log();
  base::Result<crl::CrlService*> crl_service();
  base::Result<crl::OcspSigners*> ocsp_signers();
  base::Result<crl::RevocationScheduler*> scheduler();
  base::Result<crl::OcspResponder*> ocsp_responder();

  // Creates every piece now (store, module, keys, services, the checkpointer), so that a
  // multi-threaded user (signetd) only ever reads them afterwards. The lazy getters above are not
  // thread-safe.
  base::Result<void> open_all();

  // The PIN for a token: from the PIN file when one is configured, else a terminal prompt.
  base::Result<base::SecureBuffer> read_pin(const std::string& token_label);

  std::string actor() const;
  const std::string& worker() const { return worker_; }

 private:
  // Restores SoftHSM token files torn by a killed process (see softhsm_state.h).
  void guard_softhsm();

  GlobalOptions options_;
  std::filesystem::path state_dir_;
  base::SystemClock clock_;
  base::SystemRng rng_;
  std::unique_ptr<store::LmdbStore> store_;
  std::shared_ptr<hsm::Pkcs11Module> module_;
  std::shared_ptr<hsm::Pkcs11KeyProvider> keys_;
  SigningObserver signing_observer_;
  hsm::TokenEventObserver token_events_;
  std::unique_ptr<ObservedKeyProvider> observed_keys_;
  std::unique_ptr<ca::Authority> authority_;
  std::unique_ptr<ca::CertificateService> service_;
  std::unique_ptr<ca::AuditCheckpointer> checkpointer_;
  std::unique_ptr<crl::CrlService> crl_service_;
  std::unique_ptr<crl::OcspSigners> ocsp_signers_;
  std::unique_ptr<crl::RevocationScheduler> scheduler_;
  std::unique_ptr<crl::OcspResponder> ocsp_responder_;
  std::string worker_;
};

}  // namespace signet::appliance
