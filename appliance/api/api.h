// The REST API's resources: what handlers reach (ApiServices) and one register_*_routes()
// per group of routes. signetd builds ApiServices at startup over an ApplianceContext whose
// pieces are all created before the server starts, so handlers only use thread-safe services.
//
// Actor: the lifecycle services write the acting operator into orders and audit events, so
// handlers take per-request services from ApiServices (service_for(principal)...), which are
// cheap views over the shared Authority, store and tokens.
//
// Thread-safe: handlers run on the server's worker threads concurrently.
#pragma once

#include <memory>
#include <mutex>
#include <string>

#include "appliance/api/principal.h"
#include "appliance/api/router.h"
#include "appliance/core/context.h"
#include "ca/authority.h"
#include "ca/certificate_service.h"
#include "ca/operators.h"
#include "crl/crl_service.h"
#include "crl/ocsp_responder.h"
#include "crl/ocsp_signers.h"
#include "crl/scheduler.h"

namespace signet::appliance {

class Authenticator;
class Metrics;
class CardService;

class ApiServices {
 public:
  // `context` must have every service created already (ApplianceContext::open_all()).
  ApiServices(ApplianceContext& context, Authenticator& authenticator, Metrics& metrics);

  ApplianceContext& context() { return context_; }
  Authenticator& authenticator() { return authenticator_; }
  Metrics& metrics() { return metrics_; }
  const base::Clock& clock() const { return context_.clock(); }

  // The shared services (already created; never null after construction).
  ca::Inventory& inventory();
  ca::CaDirectory& cas();
  ca::ProfileDirectory& profiles();
  ca::OrderLog& orders();
  ca::AlertLog& alerts();
  ca::AuditSink& audit();
  ca::AuditCheckpointLog& checkpoints();
  ca::AuditCheckpointer& checkpointer();
  ca::CrlLog& crl_log();
  ca::OperatorDirectory& operators();
  ca::Authority& authority();  // the shared one: issuing cache; its own actor is "signetd"
  crl::OcspResponder& ocsp_responder();
  crl::RevocationScheduler& scheduler();
  crl::OcspSigners& ocsp_signers();

  // Per-request services acting for `principal`.
  std::unique_ptr<ca::CertificateService> service_for(const Principal& principal);
  // A CertificateService acting for the appliance itself (its schedules): `actor` names it in
  // orders and audit events ("signetd:scheduler").
  std::unique_ptr<ca::CertificateService> system_service(std::string actor);
  std::unique_ptr<crl::CrlService> crl_service_for(const Principal& principal);
  // An Authority for CA administration (create, import, settings, renew, revoke) acting for
  // `principal`. Hold admin_lock() while using it and call ca_changed() afterwards, so that
  // the shared Authority drops what it cached about that CA.
  std::unique_ptr<ca::Authority> authority_for(const Principal& principal);
  std::unique_lock<std::mutex> admin_lock() { return std::unique_lock(admin_mutex_); }
  void ca_changed(const std::string& ca_name);

  // After a revocation (certificate or CA): regenerates the CA's CRLs when it does so on
  // revocation and lets the OCSP responder see the new state. Failures are logged, not
  // returned (the revocation is recorded; the scheduler catches up).
  void after_revocation(const std::string& ca_name);

  // The appliance's own CA, which issues signetd's TLS and operator certificates; hidden from
  // the operators' CA listings and refused as a target of their requests.
  static constexpr std::string_view kApplianceCaName = appliance::kApplianceCaName;
  static bool is_internal_ca(std::string_view ca_name) { return ca_name == kApplianceCaName; }
  // Whether an alert is about the internal CA (one of its certificates or orders): hidden from
  // operators like the rest of that CA.
  base::Result<bool> is_internal_alert(const ca::Alert& alert);

 private:
  ApplianceContext& context_;
  Authenticator& authenticator_;
  Metrics& metrics_;
  std::mutex admin_mutex_;
  std::mutex revocation_mutex_;  // one CRL regeneration at a time (also the scheduler loop)

 public:
  // Held by whoever runs revocation work (after_revocation, the scheduler loop, CRL routes).
  std::unique_lock<std::mutex> revocation_lock() { return std::unique_lock(revocation_mutex_); }
};

// ---- route groups (api_*.cpp) ----
void register_certificate_routes(Router& router, ApiServices& api);  // /api/v1/certificates...
void register_ca_routes(Router& router, ApiServices& api);           // /api/v1/cas...
void register_profile_routes(Router& router, ApiServices& api);      // /api/v1/profiles...
void register_order_routes(Router& router, ApiServices& api);        // orders and alerts
void register_crl_routes(Router& router, ApiServices& api);          // /api/v1/cas/{ca}/crls...
void register_token_routes(Router& router, ApiServices& api);        // /api/v1/tokens...
void register_audit_routes(Router& router, ApiServices& api);        // /api/v1/audit...
void register_operator_routes(Router& router, ApiServices& api);     // operators, API tokens
void register_session_routes(Router& router, ApiServices& api);      // login, logout, whoami
// /api/v1/cards...: `cards` is null when smart-card support is off (every route answers 404).
void register_card_routes(Router& router, ApiServices& api, CardService* cards);
// POST /api/v1/cards/pin/change and /unblock (api_card_pins.cpp; register_card_routes calls it).
void register_card_pin_routes(Router& router, ApiServices& api, CardService* cards);

}  // namespace signet::appliance
