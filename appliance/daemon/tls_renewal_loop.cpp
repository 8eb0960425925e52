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

TlsRenewalLoop::TlsRenewalLoop(ApiServices& api, TlsCertificateSwitch& tls, TlsRenewalPolicy policy,
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
  const auto current = tls_.current();
  const auto left = current.certificate.not_after - api_.clock().now();
  if (left < policy_.renew_before) {
    if (auto renewed = renew(current); !renewed) failed(renewed.error());
  }
  renew_operator_certificates(api_, policy_.renew_before, log_);
}

Result<void> TlsRenewalLoop::renew(const TlsIdentity& current) {
  auto service = api_.system_service(kActor);
  ca::RekeyRequest request;
  request.certificate_id = current.certificate.id;
  request.key.kind = ca::KeySourceKind::kKeyOnToken;
  request.key.algorithm = base::KeyAlgorithm::kEcP256;
  request.validity_days = policy_.certificate_days;
  SIGNET_ASSIGN_OR_RETURN(auto issued, service->rekey(request));
  if (!issued.certificate.key_location) {
    return Error(ErrorCode::kInternal, "the renewed TLS certificate has no key location");
  }
  SIGNET_ASSIGN_OR_RETURN(auto* keys, api_.context().keys());
  SIGNET_ASSIGN_OR_RETURN(auto key, keys->find_key(*issued.certificate.key_location));
  TlsIdentity next{issued.certificate, current.appliance_ca, std::move(key)};
  if (auto swapped = tls_.swap(next); !swapped) {
    // The new certificate is never served: its key goes now, the old one keeps serving.
    (void)keys->destroy_key(*issued.certificate.key_location);
    return swapped.error();
  }
  nlohmann::json detail = {{"previous_serial", current.certificate.serial.to_hex()},
                           {"serial", issued.certificate.serial.to_hex()},
                           {"not_after", format_time(issued.certificate.not_after)},
                           {"key", issued.certificate.key_location->to_uri()}};
  if (current.certificate.key_location) {
    detail["previous_key"] = current.certificate.key_location->to_uri();
  }
  audit("tls.certificate_renewed", certificate_object(issued.certificate), detail.dump());
  log_("renewed signetd's TLS certificate: serial " + issued.certificate.serial.to_hex() +
       " (was " + current.certificate.serial.to_hex() + "), valid until " +
       format_time(issued.certificate.not_after));
  if (current.certificate.key_location) {
    retired_.push_back(
        {*current.certificate.key_location, std::chrono::steady_clock::now() + policy_.key_grace});
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
