#include "appliance/daemon/tls_renewal_loop.h"

#include <nlohmann/json.hpp>

#include "appliance/core/views.h"
#include "appliance/daemon/operator_certificates.h"
#include "hsm/key_provider.h"

namespace signet::appliance {

using base::Error;
using base::ErrorCode;
using base::Result;

namespace {

constexpr const char* kActor = "signetd:tls-renewal";

std::string certificate_object(const ca::CertificateRecord& record) {
  return "certificate:" + record.ca_name + "/" + record.serial.to_hex();
}

}  // namespace

TlsRenewalLoop::TlsRenewalLoop(ApiServices& api, ServedTlsIdentity& tls, TlsRenewalPolicy policy,
                               Log log)
    : api_(api), tls_(tls), policy_(policy), log_(std::move(log)), thread_([this] { run(); }) {}

TlsRenewalLoop::~TlsRenewalLoop() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  thread_.join();
  destroy_retired(/*all=*/true);
}

void TlsRenewalLoop::run() {
  std::unique_lock lock(mutex_);
  while (!wake_.wait_for(lock, policy_.check_interval, [this] { return stopping_; })) {
    lock.unlock();
    round();
    lock.lock();
  }
}

void TlsRenewalLoop::round() {
  destroy_retired(/*all=*/false);
  if (auto renewed = renew_if_due(); !renewed) failed(renewed.error());
  renew_operator_certificates(api_, policy_.operator_renew_before, log_);
}

Result<void> TlsRenewalLoop::renew_if_due() {
  const auto served = tls_.current();
  SIGNET_ASSIGN_OR_RETURN(auto newest, newest_of(api_, served.certificate));
  if (newest.id != served.certificate.id) {
    // An earlier renewal committed `newest` but could not put it in service.
    if (ca::status_at(newest, api_.clock().now()) != ca::CertificateStatus::kActive) {
      return rekey_and_serve(served, newest);
    }
    auto adopted = serve(served, newest, /*adopted=*/true);
    if (adopted || adopted.error().code() != ErrorCode::kNotFound) return adopted;
    log_("warning: the TLS certificate " + newest.serial.to_hex() +
         " that an earlier renewal made cannot be served (" + adopted.error().describe() +
         "): rekeying it");
    return rekey_and_serve(served, newest);
  }
  if (served.certificate.not_after - api_.clock().now() >= policy_.renew_before) {
    return base::ok();
  }
  return rekey_and_serve(served, newest);
}

Result<void> TlsRenewalLoop::rekey_and_serve(const TlsIdentity& served,
                                             const ca::CertificateRecord& newest) {
  auto service = api_.system_service(kActor);
  ca::RekeyRequest request;
  request.certificate_id = newest.id;
  request.key.kind = ca::KeySourceKind::kKeyOnToken;
  request.key.algorithm = base::KeyAlgorithm::kEcP256;
  request.validity_days = validity_days_of(policy_.certificate_lifetime);
  request.lifetime = policy_.certificate_lifetime;
  SIGNET_ASSIGN_OR_RETURN(auto issued, service->rekey(request));
  // Committed: from here on a failure leaves the new certificate and its key for the next round
  // (renew_if_due) to serve.
  return serve(served, issued.certificate, /*adopted=*/false);
}

Result<void> TlsRenewalLoop::serve(const TlsIdentity& served, const ca::CertificateRecord& next,
                                   bool adopted) {
  if (!next.key_location) {
    return Error(ErrorCode::kNotFound,
                 "the TLS certificate " + next.serial.to_hex() + " has no key location");
  }
  SIGNET_ASSIGN_OR_RETURN(auto* keys, api_.context().keys());
  SIGNET_ASSIGN_OR_RETURN(auto key, keys->find_key(*next.key_location));
  SIGNET_TRY(tls_.swap(TlsIdentity{next, served.appliance_ca, std::move(key)}));
  nlohmann::json detail = {{"previous_serial", served.certificate.serial.to_hex()},
                           {"serial", next.serial.to_hex()},
                           {"not_after", format_time(next.not_after)},
                           {"key", next.key_location->to_uri()}};
  if (served.certificate.key_location) {
    detail["previous_key"] = served.certificate.key_location->to_uri();
  }
  if (adopted) detail["made_by_an_earlier_round"] = true;
  audit("tls.certificate_renewed", certificate_object(next), detail.dump());
  log_("renewed signetd's TLS certificate: serial " + next.serial.to_hex() + " (was " +
       served.certificate.serial.to_hex() + "), valid until " + format_time(next.not_after) +
       (adopted ? "; made by an earlier round whose swap had failed" : ""));
  if (served.certificate.key_location) {
    retired_.push_back(
        {*served.certificate.key_location, std::chrono::steady_clock::now() + policy_.key_grace});
  }
  return base::ok();
}

void TlsRenewalLoop::failed(const Error& error) {
  const std::string message =
      "renewing signetd's TLS certificate failed (the current one keeps serving): " +
      error.describe();
  log_("warning: " + message);
  ca::Alert alert;
  alert.raised_at = api_.clock().now();
  alert.kind = "tls.renewal_failed";
  alert.object = "tls:signetd";
  alert.message = message;
  alert.dedupe_key = "tls.renewal_failed";
  nlohmann::json detail = {{"error", error.message()}};
  auto raised = api_.alerts().raise_alert(
      alert, ca::make_audit_event(alert.raised_at, kActor, "tls.renewal_failed", alert.object,
                                  detail.dump()));
  if (!raised) log_("warning: cannot raise the alert: " + raised.error().describe());
}

void TlsRenewalLoop::destroy_retired(bool all) {
  const auto now = std::chrono::steady_clock::now();
  auto keys = api_.context().keys();
  for (auto it = retired_.begin(); it != retired_.end();) {
    if (!all && now < it->destroy_after) {
      ++it;
      continue;
    }
    const auto uri = it->key.to_uri();
    auto destroyed = keys ? (*keys)->destroy_key(it->key) : Result<void>(keys.error());
    if (destroyed) {
      audit("tls.key_destroyed", "key:" + uri, R"({"reason":"replaced by a renewal"})");
    } else {
      log_("warning: cannot destroy the replaced TLS key " + uri + ": " +
           destroyed.error().describe());
    }
    it = retired_.erase(it);
  }
}

void TlsRenewalLoop::audit(const std::string& action, const std::string& object,
                           const std::string& detail) {
  auto written = api_.audit().append_audit(
      ca::make_audit_event(api_.clock().now(), kActor, action, object, detail));
  if (!written)
    log_("warning: cannot write the audit event " + action + ": " + written.error().describe());
}

}  // namespace signet::appliance
