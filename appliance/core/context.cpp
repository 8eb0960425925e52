#include "appliance/core/context.h"

#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iostream>

#include "appliance/core/softhsm_state.h"
#include "appliance/core/worker_identity.h"
#include "base/secret_input.h"
#include "hsm/key_provider.h"
#include "hsm/module.h"
#include "store/lmdb_store.h"

namespace signet::appliance {

using base::Error;
using base::ErrorCode;
using base::Result;

namespace {

std::filesystem::path default_state_dir() {
  if (const char* home = std::getenv("HOME"); home != nullptr && *home != '\0') {
    return std::filesystem::path(home) / ".local/state/signet";
  }
  return "/var/lib/signet";
}

}  // namespace

namespace {

std::string env_or(const char* name, std::string fallback) {
  const char* value = std::getenv(name);
  return value != nullptr && *value != '\0' ? std::string(value) : std::move(fallback);
}

}  // namespace

GlobalOptions GlobalOptions::from_environment(std::string default_module) {
  GlobalOptions options;
  options.state_dir = env_or("SIGNET_STATE", "");
  options.module_path = env_or("SIGNET_PKCS11_MODULE", std::move(default_module));
  options.token = env_or("SIGNET_TOKEN", "");
  options.pin_file = env_or("SIGNET_PIN_FILE", "");
  return options;
}

ApplianceContext::ApplianceContext(GlobalOptions options)
    : options_(std::move(options)),
      state_dir_(options_.state_dir.empty() ? default_state_dir()
                                            : std::filesystem::path(options_.state_dir)),
      worker_(current_worker()) {}

ApplianceContext::~ApplianceContext() {
  // Order matters: the service uses the Authority; the Authority uses the store and the keys;
  // signers hold the module.
  service_.reset();
  checkpointer_.reset();
  authority_.reset();
  observed_keys_.reset();
  keys_.reset();
  store_.reset();
  module_.reset();
}

Result<void> ApplianceContext::ensure_state_dir() {
  std::error_code error;
  if (std::filesystem::is_directory(state_dir_, error)) return base::ok();
  std::filesystem::create_directories(state_dir_, error);
  if (error) {
    return Error(ErrorCode::kIoError, "cannot create the state directory '" + state_dir_.string() +
                                          "': " + error.message());
  }
  std::filesystem::permissions(state_dir_, std::filesystem::perms::owner_all,
                               std::filesystem::perm_options::replace, error);
  return base::ok();
}

bool ApplianceContext::module_is_softhsm() const {
  return std::filesystem::path(options_.module_path).filename().string().find("softhsm") !=
         std::string::npos;
}

Result<void> ApplianceContext::prepare_softhsm(bool create) {
  const char* configured = std::getenv("SOFTHSM2_CONF");
  if (!module_is_softhsm() || (configured != nullptr && *configured != '\0')) return base::ok();
  const auto conf = softhsm_dir() / "softhsm2.conf";
  if (std::filesystem::exists(conf)) {
    ::setenv("SOFTHSM2_CONF", conf.c_str(), 1);
    return base::ok();
  }
  if (!create) return base::ok();  // SoftHSM then uses its system-wide configuration
  SIGNET_TRY(ensure_state_dir());
  std::error_code error;
  std::filesystem::create_directories(softhsm_dir() / "tokens", error);
  if (error) {
    return Error(ErrorCode::kIoError,
                 "cannot create '" + (softhsm_dir() / "tokens").string() + "': " + error.message());
  }
  std::ofstream out(conf);
  out << "# SoftHSMv2 configuration of this Signet state directory.\n"
      << "directories.tokendir = " << (softhsm_dir() / "tokens").string() << "\n"
      << "objectstore.backend = file\n"
      << "log.level = ERROR\n"
      << "slots.removable = false\n";
  if (!out) return Error(ErrorCode::kIoError, "cannot write '" + conf.string() + "'");
  out.close();
  ::setenv("SOFTHSM2_CONF", conf.c_str(), 1);
  return base::ok();
}

void ApplianceContext::guard_softhsm() {
  if (!module_is_softhsm()) return;
  auto token_dir = softhsm_token_dir();
  if (!token_dir || !std::filesystem::is_directory(state_dir_)) return;
  auto report = guard_softhsm_tokens(*token_dir, softhsm_dir() / "token-copies");
  if (!report) {
    std::cerr << "signet: warning: cannot guard the SoftHSM token files: "
              << report.error().describe() << "\n";
    return;
  }
  for (const auto& restored : report->restored) {
    std::cerr << "signet: warning: the token file " << restored
              << "/token.object was torn by a process killed while SoftHSM rewrote it; "
                 "restored Signet's verified copy\n";
  }
}

Result<store::LmdbStore*> ApplianceContext::store() {
  if (store_) return store_.get();
  SIGNET_TRY(ensure_state_dir());
  auto opened = store::LmdbStore::open(state_dir_);
  if (!opened) return std::move(opened).error().with_context("opening the store");
  store_ = std::move(*opened);
  return store_.get();
}

Result<hsm::Pkcs11Module*> ApplianceContext::module() {
  if (module_) return module_.get();
  SIGNET_TRY(prepare_softhsm(false));
  guard_softhsm();
  SIGNET_ASSIGN_OR_RETURN(module_, hsm::Pkcs11Module::load(options_.module_path));
  return module_.get();
}

Result<base::SecureBuffer> ApplianceContext::read_pin(const std::string& token_label) {
  if (!options_.pin_file.empty()) return base::read_secret_file(options_.pin_file);
  if (!options_.interactive) {
    return Error(ErrorCode::kInvalidArgument,
                 "no PIN file for token '" + token_label +
                     "': set SIGNET_PIN_FILE (or --pin-file) to a file of mode 0600");
  }
  return base::prompt_secret("User PIN for token '" + token_label + "': ");
}

Result<hsm::Pkcs11KeyProvider*> ApplianceContext::keys() {
  if (keys_) return keys_.get();
  SIGNET_TRY(module());
  auto pins = [this](const hsm::TokenInfo& token) { return read_pin(token.label); };
  hsm::Pkcs11KeyProvider::Options key_options;
  key_options.token_events = token_events_;
  SIGNET_ASSIGN_OR_RETURN(
      keys_, hsm::Pkcs11KeyProvider::create({module_}, options_.token, pins, key_options));
  return keys_.get();
}

Result<base::KeyProvider*> ApplianceContext::signing_keys() {
  SIGNET_ASSIGN_OR_RETURN(auto* inner, keys());
  if (!signing_observer_) return static_cast<base::KeyProvider*>(inner);
  if (!observed_keys_)
    observed_keys_ = std::make_unique<ObservedKeyProvider>(*inner, signing_observer_);
  return static_cast<base::KeyProvider*>(observed_keys_.get());
}

Result<ca::Authority*> ApplianceContext::authority() {
  if (authority_) return authority_.get();
  SIGNET_ASSIGN_OR_RETURN(auto* records, store());
  SIGNET_ASSIGN_OR_RETURN(auto* key_provider, signing_keys());
  authority_ = std::make_unique<ca::Authority>(*records, *records, *records, *key_provider, clock_,
                                               rng_, actor());
  return authority_.get();
}

Result<ca::CrlLog*> ApplianceContext::crl_log() {
  SIGNET_ASSIGN_OR_RETURN(auto* records, store());
  return static_cast<ca::CrlLog*>(records);
}

Result<crl::CrlService*> ApplianceContext::crl_service() {
  if (crl_service_) return crl_service_.get();
  SIGNET_ASSIGN_OR_RETURN(auto* records, store());
  SIGNET_ASSIGN_OR_RETURN(auto* key_provider, signing_keys());
  crl_service_ = std::make_unique<crl::CrlService>(
      crl::CrlStores{*records, *records, *records, *records}, *key_provider, clock_, actor());
  return crl_service_.get();
}

Result<crl::OcspSigners*> ApplianceContext::ocsp_signers() {
  if (ocsp_signers_) return ocsp_signers_.get();
  SIGNET_ASSIGN_OR_RETURN(auto* records, store());
  SIGNET_ASSIGN_OR_RETURN(auto* key_provider, signing_keys());
  SIGNET_ASSIGN_OR_RETURN(auto* ca_authority, authority());
  ocsp_signers_ = std::make_unique<crl::OcspSigners>(
      *ca_authority, crl::CrlStores{*records, *records, *records, *records}, *key_provider, clock_,
      actor());
  return ocsp_signers_.get();
}

Result<crl::RevocationScheduler*> ApplianceContext::scheduler() {
  if (scheduler_) return scheduler_.get();
  SIGNET_ASSIGN_OR_RETURN(auto* records, store());
  SIGNET_ASSIGN_OR_RETURN(auto* crls, crl_service());
  SIGNET_ASSIGN_OR_RETURN(auto* signers, ocsp_signers());
  scheduler_ = std::make_unique<crl::RevocationScheduler>(
      *crls, signers, crl::CrlStores{*records, *records, *records, *records}, clock_);
  return scheduler_.get();
}

Result<crl::OcspResponder*> ApplianceContext::ocsp_responder() {
  if (ocsp_responder_) return ocsp_responder_.get();
  SIGNET_ASSIGN_OR_RETURN(auto* records, store());
  SIGNET_ASSIGN_OR_RETURN(auto* signers, ocsp_signers());
  ocsp_responder_ = std::make_unique<crl::OcspResponder>(*records, *records, *signers, clock_);
  return ocsp_responder_.get();
}

Result<ca::Inventory*> ApplianceContext::inventory() {
  SIGNET_ASSIGN_OR_RETURN(auto* records, store());
  return static_cast<ca::Inventory*>(records);
}

Result<ca::CaDirectory*> ApplianceContext::cas() {
  SIGNET_ASSIGN_OR_RETURN(auto* records, store());
  return static_cast<ca::CaDirectory*>(records);
}

Result<ca::AuditSink*> ApplianceContext::audit() {
  SIGNET_ASSIGN_OR_RETURN(auto* records, store());
  return static_cast<ca::AuditSink*>(records);
}

Result<ca::AuditCheckpointLog*> ApplianceContext::checkpoints() {
  SIGNET_ASSIGN_OR_RETURN(auto* records, store());
  return static_cast<ca::AuditCheckpointLog*>(records);
}

Result<ca::AuditCheckpointer*> ApplianceContext::checkpointer() {
  if (checkpointer_) return checkpointer_.get();
  SIGNET_ASSIGN_OR_RETURN(auto* records, store());
  SIGNET_ASSIGN_OR_RETURN(auto* key_provider, keys());
  checkpointer_ = std::make_unique<ca::AuditCheckpointer>(
      *key_provider, *records, *records, clock_,
      ca::AuditCheckpointer::Options{options_.token, base::KeyAlgorithm::kEcP256});
  return checkpointer_.get();
}

Result<ca::ProfileDirectory*> ApplianceContext::profiles() {
  SIGNET_ASSIGN_OR_RETURN(auto* records, store());
  return static_cast<ca::ProfileDirectory*>(records);
}

Result<ca::OrderLog*> ApplianceContext::orders() {
  SIGNET_ASSIGN_OR_RETURN(auto* records, store());
  return static_cast<ca::OrderLog*>(records);
}

Result<ca::AlertLog*> ApplianceContext::alerts() {
  SIGNET_ASSIGN_OR_RETURN(auto* records, store());
  return static_cast<ca::AlertLog*>(records);
}

Result<ca::OperatorDirectory*> ApplianceContext::operators() {
  SIGNET_ASSIGN_OR_RETURN(auto* records, store());
  return static_cast<ca::OperatorDirectory*>(records);
}

Result<void> ApplianceContext::open_all() {
  SIGNET_TRY(store());
  SIGNET_TRY(keys());
  SIGNET_TRY(service());
  SIGNET_TRY(scheduler());
  SIGNET_TRY(ocsp_responder());
  SIGNET_TRY(checkpointer());
  return base::ok();
}

Result<ca::CertificateService*> ApplianceContext::service() {
  if (service_) return service_.get();
  SIGNET_ASSIGN_OR_RETURN(auto* records, store());
  SIGNET_ASSIGN_OR_RETURN(auto* ca_authority, authority());
  SIGNET_ASSIGN_OR_RETURN(auto* key_provider, signing_keys());
  ca::RecordStores stores{*records, *records, *records, *records, *records, *records};
  auto service = std::make_unique<ca::CertificateService>(*ca_authority, stores, *key_provider,
                                                          clock_, rng_, actor(), worker_);
  // Orders left `pending`/`processing` by a process that is gone (killed, crashed) fail now,
  // with their alerts, and the keys they generated on a token are deleted.
  auto interrupted = service->fail_interrupted_orders(
      [](std::string_view worker) { return worker_alive(worker); });
  if (!interrupted) {
    std::cerr << "signet: warning: cannot check for interrupted orders: "
              << interrupted.error().describe() << "\n";
  } else {
    for (const auto& order : *interrupted) {
      std::cerr << "signet: warning: order " << order.id << " (" << ca::to_string(order.kind)
                << (order.common_name.empty() ? "" : " of '" + order.common_name + "'")
                << ") was interrupted by the end of its process and is now failed; see "
                   "'signet order show "
                << order.id << "'\n";
    }
  }
  service_ = std::move(service);
  return service_.get();
}

std::string ApplianceContext::actor() const {
  if (!options_.actor.empty()) return options_.actor;
  std::string name = std::to_string(::getuid());
  if (const passwd* entry = ::getpwuid(::getuid()); entry != nullptr) name = entry->pw_name;
  return "cli:" + name;
}

}  // namespace signet::appliance
