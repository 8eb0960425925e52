#include "appliance/api/api.h"

#include <charconv>
#include <iostream>
#include <string_view>

#include "hsm/key_provider.h"
#include "store/lmdb_store.h"

namespace signet::appliance {

namespace {

template <typename T>
T& must(base::Result<T*> result, const char* what) {
  // ApiServices is made after ApplianceContext::open_all() succeeded: every piece exists.
  if (!result) {
    std::cerr << "signetd: internal error: " << what << " is not open\n";
    std::abort();
  }
  return **result;
}

}  // namespace

ApiServices::ApiServices(ApplianceContext& context, Authenticator& authenticator, Metrics& metrics)
    : context_(context), authenticator_(authenticator), metrics_(metrics) {}

ca::Inventory& ApiServices::inventory() { return must(context_.inventory(), "the inventory"); }
ca::AuditCheckpointLog& ApiServices::checkpoints() {
  return must(context_.checkpoints(), "the audit checkpoints");
}
ca::AuditCheckpointer& ApiServices::checkpointer() {
  return must(context_.checkpointer(), "the audit checkpointer");
}
ca::CaDirectory& ApiServices::cas() { return must(context_.cas(), "the CA directory"); }
ca::ProfileDirectory& ApiServices::profiles() { return must(context_.profiles(), "profiles"); }
ca::OrderLog& ApiServices::orders() { return must(context_.orders(), "the order log"); }
ca::AlertLog& ApiServices::alerts() { return must(context_.alerts(), "the alert log"); }
ca::AuditSink& ApiServices::audit() { return must(context_.audit(), "the audit log"); }
ca::CrlLog& ApiServices::crl_log() { return must(context_.crl_log(), "the CRL log"); }
ca::OperatorDirectory& ApiServices::operators() {
  return must(context_.operators(), "the operator directory");
}
ca::Authority& ApiServices::authority() { return must(context_.authority(), "the authority"); }
crl::OcspResponder& ApiServices::ocsp_responder() {
  return must(context_.ocsp_responder(), "the OCSP responder");
}
crl::RevocationScheduler& ApiServices::scheduler() {
  return must(context_.scheduler(), "the revocation scheduler");
}
crl::OcspSigners& ApiServices::ocsp_signers() {
  return must(context_.ocsp_signers(), "the OCSP signers");
}

std::unique_ptr<ca::CertificateService> ApiServices::service_for(const Principal& principal) {
  auto& records = must(context_.store(), "the store");
  ca::RecordStores stores{records, records, records, records, records, records};
  return std::make_unique<ca::CertificateService>(
      authority(), stores, must(context_.signing_keys(), "the key provider"), context_.clock(),
      context_.rng(), principal.actor(), context_.worker());
}

std::unique_ptr<ca::CertificateService> ApiServices::system_service(std::string actor) {
  auto& records = must(context_.store(), "the store");
  ca::RecordStores stores{records, records, records, records, records, records};
  return std::make_unique<ca::CertificateService>(
      authority(), stores, must(context_.signing_keys(), "the key provider"), context_.clock(),
      context_.rng(), std::move(actor), context_.worker());
}

base::Result<bool> ApiServices::is_internal_alert(const ca::Alert& alert) {
  const std::string certificate_prefix = "certificate:" + std::string(kApplianceCaName) + "/";
  if (alert.object.rfind(certificate_prefix, 0) == 0) return true;
  constexpr std::string_view kOrderPrefix = "order:";
  if (alert.object.rfind(kOrderPrefix, 0) != 0) return false;
  std::uint64_t id = 0;
  const auto digits = std::string_view(alert.object).substr(kOrderPrefix.size());
  const auto [end, error] = std::from_chars(digits.data(), digits.data() + digits.size(), id);
  if (error != std::errc() || end != digits.data() + digits.size()) return false;
  SIGNET_ASSIGN_OR_RETURN(auto order, orders().find_order(id));
  return order && is_internal_ca(order->ca_name);
}

std::unique_ptr<crl::CrlService> ApiServices::crl_service_for(const Principal& principal) {
  auto& records = must(context_.store(), "the store");
  return std::make_unique<crl::CrlService>(crl::CrlStores{records, records, records, records},
                                           must(context_.signing_keys(), "the key provider"),
                                           context_.clock(), principal.actor());
}

std::unique_ptr<ca::Authority> ApiServices::authority_for(const Principal& principal) {
  auto& records = must(context_.store(), "the store");
  return std::make_unique<ca::Authority>(records, records, records,
                                         must(context_.signing_keys(), "the key provider"),
                                         context_.clock(), context_.rng(), principal.actor());
}

void ApiServices::ca_changed(const std::string& ca_name) {
  authority().forget_ca(ca_name);
  if (auto reloaded = ocsp_responder().reload(); !reloaded) {
    std::cerr << "signetd: warning: the OCSP responder did not reload after a change of CA '"
              << ca_name << "': " << reloaded.error().describe() << "\n";
  }
}

void ApiServices::after_revocation(const std::string& ca_name) {
  if (ca_name.empty()) return;  // a discovered certificate: on no CRL of ours
  std::lock_guard lock(revocation_mutex_);
  auto outcomes = scheduler().on_revocation(ca_name);
  if (!outcomes) {
    std::cerr << "signetd: warning: a revocation is recorded, but CA '" << ca_name
              << "''s CRL was not regenerated: " << outcomes.error().describe()
              << " (the scheduler retries)\n";
    return;
  }
  for (const auto& o : *outcomes) {
    if (o.error) {
      std::cerr << "signetd: warning: " << crl::to_string(o.work.what) << " of CA '" << ca_name
                << "' failed: " << o.error->describe() << " (the scheduler retries)\n";
    }
  }
}

}  // namespace signet::appliance
