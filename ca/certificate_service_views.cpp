// CertificateService: revocation, resubmission, finding and exporting certificates, import,
// interrupted orders, alerts and orphaned keys.
#include <algorithm>
#include <cctype>
#include <nlohmann/json.hpp>
#include <set>

#include "ca/certificate_record.h"
#include "ca/certificate_service.h"
#include "ca/internal/order_parameters.h"
#include "pki/certificate.h"
#include "pki/software_key.h"

namespace signet::ca {

using base::Error;
using base::ErrorCode;
using base::Result;
using nlohmann::json;

namespace {

std::string certificate_object(const CertificateRecord& record) {
  return "certificate:" + (record.ca_name.empty() ? std::string("discovered") : record.ca_name) +
         "/" + record.serial.to_hex();
}

std::string seconds_text(base::TimePoint t) {
  const auto seconds = std::chrono::time_point_cast<std::chrono::seconds>(t);
  const std::time_t time = std::chrono::system_clock::to_time_t(seconds);
  std::tm tm{};
  gmtime_r(&time, &tm);
  char buffer[32];
  std::strftime(buffer, sizeof buffer, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buffer;
}

std::string revocation_text(const CertificateRecord& record) {
  const auto& r = *record.revocation;
  return "revoked on " + seconds_text(r.revoked_at) + " (" +
         std::string(to_string(static_cast<RevocationReason>(r.reason))) + ")";
}

}  // namespace

// ---- revocation ----

Result<OrderResult> CertificateService::revoke(const RevokeRequest& request,
                                               std::uint64_t resubmitted_from) {
  SIGNET_ASSIGN_OR_RETURN(auto record, certificate_by_id(request.certificate_id));
  const std::string name = "certificate " + record.serial.to_hex();
  // Checked before an order exists, so that revoking twice changes nothing at all; the store
  // checks again atomically for a revocation that races this one.
  if (record.revocation) {
    return Error(ErrorCode::kConflict,
                 name + " is already " + revocation_text(record) + "; a revocation is permanent");
  }
  if (record.source != CertificateSource::kManaged || record.ca_name.empty()) {
    return Error(ErrorCode::kInvalidArgument,
                 name + " was imported, not issued here: only its issuer can revoke it");
  }
  if (record.is_ca && !request.ca_certificate) {
    return Error(ErrorCode::kInvalidArgument,
                 name +
                     " is a CA certificate; revoke the CA with 'signet ca revoke NAME', which "
                     "stops it issuing too");
  }
  if (record.is_ca && record.subject == record.issuer) {
    return Error(ErrorCode::kInvalidArgument,
                 name + " is a self-signed root: no CRL of an issuer above it can list it");
  }
  if (request.invalidity_date && *request.invalidity_date > clock_.now()) {
    return Error(ErrorCode::kInvalidArgument,
                 "the invalidity date " + seconds_text(*request.invalidity_date) +
                     " is in the future (RFC 5280 §5.3.2: it is when the key was, or is "
                     "suspected to have been, compromised)");
  }
  // Certificates issued before profiles existed revoke through their CA's default profile.
  SIGNET_ASSIGN_OR_RETURN(auto profile, resolve_profile({record.profile, record.ca_name}));

  internal::OrderParameters parameters;
  parameters.kind = OrderKind::kRevoke;
  parameters.issue.profile = {profile.name, profile.ca_name};
  parameters.certificate_id = record.id;
  parameters.reason = request.reason;
  parameters.ca_certificate = request.ca_certificate;
  parameters.invalidity_date = request.invalidity_date;
  Order order =
      internal::make_order(parameters, profile, record.common_name, record.id, resubmitted_from);
  SIGNET_ASSIGN_OR_RETURN(order, begin_order(std::move(order), "certificate.revoke.requested"));

  RevocationCommit commit;
  commit.certificate_id = record.id;
  commit.revocation.revoked_at = now();
  commit.revocation.reason = static_cast<int>(request.reason);
  if (request.invalidity_date) {
    commit.revocation.invalidity_date =
        std::chrono::time_point_cast<std::chrono::seconds>(*request.invalidity_date);
  }
  json detail = {{"ca", record.ca_name},
                 {"serial", record.serial.to_hex()},
                 {"reason", std::string(to_string(request.reason))},
                 {"order", order.id}};
  if (request.invalidity_date) detail["invalidity_date"] = seconds_text(*request.invalidity_date);
  commit.events.push_back(
      make_event("certificate.revoked", certificate_object(record), detail.dump()));
  Order done = order;
  done.status = OrderStatus::kComplete;
  done.certificate_id = record.id;
  done.completed_at = done.updated_at = clock_.now();
  commit.order = done;
  auto revoked = stores_.inventory.revoke_certificate(std::move(commit));
  if (!revoked) return fail_order(order, std::move(revoked).error());
  ++done.revision;
  return OrderResult{std::move(done), std::move(*revoked), {}, std::nullopt};
}

Result<OrderResult> CertificateService::resubmit(std::uint64_t order_id) {
  SIGNET_ASSIGN_OR_RETURN(auto found, stores_.orders.find_order(order_id));
  if (!found) {
    return Error(ErrorCode::kNotFound, "there is no order " + std::to_string(order_id));
  }
  if (found->status != OrderStatus::kFailed) {
    return Error(ErrorCode::kInvalidArgument, "order " + std::to_string(order_id) + " is " +
                                                  std::string(to_string(found->status)) +
                                                  "; only a failed order can be resubmitted");
  }
  SIGNET_ASSIGN_OR_RETURN(auto p, internal::order_parameters_from_json(found->parameters));
  switch (p.kind) {
    case OrderKind::kIssue:
      return issue(p.issue, order_id);
    case OrderKind::kRenew: {
      RenewRequest request;
      request.certificate_id = p.certificate_id;
      request.validity_days = p.issue.validity_days;
      if (p.issue.key.kind == KeySourceKind::kCsr) request.csr = p.issue.key.csr;
      return renew(request, order_id);
    }
    case OrderKind::kRekey:
    case OrderKind::kReissue: {
      RekeyRequest request;
      request.certificate_id = p.certificate_id;
      request.key = p.issue.key;
      request.revoke_previous = p.revoke_previous;
      request.as_reissue = p.kind == OrderKind::kReissue;
      request.validity_days = p.issue.validity_days;
      request.pfx_profile = p.issue.pfx_profile;
      return rekey(request, order_id);
    }
    case OrderKind::kRevoke: {
      RevokeRequest request;
      request.certificate_id = p.certificate_id;
      request.reason = p.reason;
      request.invalidity_date = p.invalidity_date;
      request.ca_certificate = p.ca_certificate;
      return revoke(request, order_id);
    }
  }
  return Error(ErrorCode::kInternal, "order " + std::to_string(order_id) + " has an unknown kind");
}

// ---- finding, viewing, exporting ----

Result<CertificateRecord> CertificateService::find(std::string_view id) {
  std::string text;
  for (char c : id) {
    if (c != ':' && !std::isspace(static_cast<unsigned char>(c))) text += c;
  }
  if (text.rfind("id", 0) == 0 && text.size() > 2 &&
      std::all_of(text.begin() + 2, text.end(), [](char c) { return std::isdigit(c); })) {
    // "id:42" (the colon was dropped above) names the inventory id.
    return certificate_by_id(std::stoull(text.substr(2)));
  }
  if (text.size() == 64) {
    if (auto fingerprint = base::from_hex(text)) {
      SIGNET_ASSIGN_OR_RETURN(auto found,
                              stores_.inventory.find_certificate_by_fingerprint(*fingerprint));
      if (found) return std::move(*found);
    }
  }
  auto serial = pki::SerialNumber::from_hex(text);
  if (!serial) {
    return Error(
        ErrorCode::kInvalidArgument,
        "'" + std::string(id) + "' is neither a serial number nor a SHA-256 fingerprint (hex)");
  }
  SIGNET_ASSIGN_OR_RETURN(auto matches, stores_.inventory.find_certificates_by_serial(*serial));
  if (matches.empty()) {
    return Error(ErrorCode::kNotFound,
                 "there is no certificate with serial number or "
                 "fingerprint " +
                     std::string(id));
  }
  if (matches.size() > 1) {
    std::string cas;
    for (const auto& m : matches) {
      cas +=
          (cas.empty() ? "" : ", ") + (m.ca_name.empty() ? std::string("(imported)") : m.ca_name);
    }
    return Error(ErrorCode::kInvalidArgument, "serial " + serial->to_hex() +
                                                  " was issued by several CAs (" + cas +
                                                  "); name the certificate by its fingerprint");
  }
  return std::move(matches.front());
}

Result<CertificateRecord> CertificateService::view(std::string_view id) {
  SIGNET_ASSIGN_OR_RETURN(auto record, find(id));
  json detail = {{"fingerprint_sha256", base::to_hex(record.fingerprint_sha256)}};
  SIGNET_TRY(stores_.audit.append_audit(
      make_event("certificate.view.accessed", certificate_object(record), detail.dump())));
  return record;
}

Result<std::vector<base::Bytes>> CertificateService::download(std::uint64_t certificate_id,
                                                              bool with_chain) {
  SIGNET_ASSIGN_OR_RETURN(auto record, certificate_by_id(certificate_id));
  std::vector<base::Bytes> out{record.der};
  if (with_chain && !record.ca_name.empty()) {
    SIGNET_ASSIGN_OR_RETURN(auto chain, authority_.chain_for(record.ca_name, record.der));
    for (auto& der : chain) {
      if (der != record.der) out.push_back(std::move(der));  // a root is its own issuer
    }
  }
  json detail = {{"chain", with_chain}, {"certificates", out.size()}};
  SIGNET_TRY(stores_.audit.append_audit(
      make_event("certificate.download.success", certificate_object(record), detail.dump())));
  return out;
}

Result<LocalKeyDelivery> CertificateService::export_pfx(std::uint64_t certificate_id,
                                                        pki::PfxProfile profile) {
  SIGNET_ASSIGN_OR_RETURN(auto record, certificate_by_id(certificate_id));
  const std::string name = "certificate " + record.serial.to_hex();
  if (!record.wrapped_key) {
    if (record.key_location) {
      return Error(ErrorCode::kPolicyViolation,
                   "PFX export refused: the key of " + name + " lives on token '" +
                       record.key_location->token_label + "' (" + record.key_location->to_uri() +
                       ") and cannot leave it; PFX export is only for certificates issued with a "
                       "local software key");
    }
    return Error(ErrorCode::kPolicyViolation,
                 "PFX export refused: Signet never held the private key of " + name +
                     " (it was issued from a CSR or imported); PFX export is only for "
                     "certificates issued with a local software key");
  }
  if (record.revocation) {
    return Error(ErrorCode::kPolicyViolation,
                 "PFX export refused: " + name + " is " + revocation_text(record));
  }
  auto pkcs8 = keys_.unwrap_secret(*record.wrapped_key);
  if (!pkcs8) {
    return std::move(pkcs8).error().with_context("unwrapping the local key of " + name);
  }
  SIGNET_ASSIGN_OR_RETURN(auto key, pki::SoftwareKey::from_pkcs8(pkcs8->view()));
  SIGNET_ASSIGN_OR_RETURN(auto certificate, pki::Certificate::from_der(record.der));
  if (key->public_key_der() != certificate.public_key_der()) {
    return Error(ErrorCode::kVerificationFailed,
                 "the stored key of " + name + " is not the certificate's key");
  }
  std::vector<base::Bytes> chain;
  if (!record.ca_name.empty()) {
    SIGNET_ASSIGN_OR_RETURN(chain, authority_.chain_for(record.ca_name, record.der));
  }
  SIGNET_ASSIGN_OR_RETURN(auto password, pki::random_pfx_password());
  SIGNET_ASSIGN_OR_RETURN(auto pfx, pki::build_pfx(record.der, chain, pkcs8->view(),
                                                   password.view(), profile, record.common_name));
  json detail = {{"pfx_profile", std::string(pki::to_string(profile))}};
  SIGNET_TRY(stores_.audit.append_audit(
      make_event("certificate.download_pfx.success", certificate_object(record), detail.dump())));
  return LocalKeyDelivery{std::move(pfx), std::move(password), profile};
}

Result<ImportReport> CertificateService::import_certificates(base::ByteView data,
                                                             std::string_view origin) {
  ImportReport report;
  auto certificates = pki::Certificate::parse_bundle(data);
  if (!certificates) {
    report.errors.push_back(std::string(origin) + ": " + certificates.error().describe());
    return report;
  }
  for (const auto& certificate : *certificates) {
    CertificateRecord record = describe_certificate(certificate, now());
    record.source = CertificateSource::kDiscovered;
    record.ca_name.clear();
    SIGNET_ASSIGN_OR_RETURN(
        auto known, stores_.inventory.find_certificate_by_fingerprint(record.fingerprint_sha256));
    if (known) {
      ++report.duplicates;
      continue;
    }
    json detail = {{"origin", std::string(origin)},
                   {"subject", record.subject},
                   {"issuer", record.issuer},
                   {"fingerprint_sha256", base::to_hex(record.fingerprint_sha256)}};
    auto event = make_event("certificate.imported", certificate_object(record), detail.dump());
    auto id = stores_.inventory.put_certificate(record, std::move(event));
    if (!id) {
      if (id.error().code() == ErrorCode::kAlreadyExists) {
        ++report.duplicates;  // imported meanwhile by someone else
        continue;
      }
      report.errors.push_back(std::string(origin) + ": " + record.subject + ": " +
                              id.error().describe());
      continue;
    }
    record.id = *id;
    report.imported.push_back(std::move(record));
  }
  return report;
}

// ---- recovery, alerts, orphans ----

Result<std::vector<Order>> CertificateService::fail_interrupted_orders(
    const std::function<bool(std::string_view worker)>& worker_alive) {
  std::vector<Order> failed;
  SIGNET_ASSIGN_OR_RETURN(auto unfinished, stores_.orders.list_unfinished_orders());
  for (auto& order : unfinished) {
    if (order.worker == worker_ || (!order.worker.empty() && worker_alive(order.worker))) continue;
    Error interrupted(ErrorCode::kUnavailable,
                      "interrupted: the process handling it (" +
                          (order.worker.empty() ? std::string("unknown") : order.worker) +
                          ") stopped before it finished; resubmit it");
    (void)fail_order(order, std::move(interrupted));
    failed.push_back(std::move(order));
  }
  return failed;
}

Result<std::size_t> CertificateService::raise_expiry_alerts(
    int days, const std::vector<std::string>& excluded_cas) {
  if (days < 1 || days > 3650) {
    return Error(ErrorCode::kInvalidArgument,
                 "the expiry window must be 1 to 3650 days, not " + std::to_string(days));
  }
  std::size_t raised = 0;
  CertificateQuery query;
  query.now = clock_.now();
  query.status = CertificateStatus::kActive;
  query.not_after_before = query.now + std::chrono::days(days);
  query.limit = 1000;
  while (true) {
    SIGNET_ASSIGN_OR_RETURN(auto page, stores_.inventory.list_certificates(query));
    for (const auto& record : page.items) {
      if (std::find(excluded_cas.begin(), excluded_cas.end(), record.ca_name) !=
          excluded_cas.end()) {
        continue;
      }
      const auto left =
          std::chrono::duration_cast<std::chrono::hours>(record.not_after - query.now);
      Alert alert;
      alert.raised_at = clock_.now();
      alert.kind = "certificate.expiring";
      alert.object = certificate_object(record);
      alert.dedupe_key = "expiring:" + std::to_string(record.id);
      alert.message =
          "certificate " + (record.common_name.empty() ? record.subject : record.common_name) +
          " (serial " + record.serial.to_hex() + ") expires on " + seconds_text(record.not_after) +
          ", in " + std::to_string(left.count() / 24) + " days";
      json detail = {{"not_after", seconds_text(record.not_after)}};
      SIGNET_ASSIGN_OR_RETURN(auto id,
                              stores_.alerts.raise_alert(
                                  alert, make_event("alert.raised", alert.object, detail.dump())));
      (void)id;
      ++raised;
    }
    if (page.next_cursor.empty()) break;
    query.cursor = page.next_cursor;
  }
  return raised;
}

Result<Alert> CertificateService::acknowledge_alert(std::uint64_t id) {
  return stores_.alerts.acknowledge_alert(
      id, actor_, clock_.now(),
      make_event("alert.acknowledged", "alert:" + std::to_string(id), "{}"));
}

Result<std::vector<base::KeyRef>> CertificateService::orphaned_keys(
    const std::vector<base::KeyRef>& candidates) {
  SIGNET_ASSIGN_OR_RETURN(auto cas, stores_.cas.list_cas());
  std::vector<base::KeyRef> orphans;
  for (const auto& key : candidates) {
    const bool ca_key =
        std::any_of(cas.begin(), cas.end(), [&](const CaRecord& ca) { return ca.key == key; });
    if (ca_key) continue;
    SIGNET_ASSIGN_OR_RETURN(auto users, stores_.inventory.find_certificates_by_key(key));
    if (users.empty()) orphans.push_back(key);
  }
  return orphans;
}

}  // namespace signet::ca
