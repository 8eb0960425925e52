#include "crl/ocsp_signers.h"

#include <chrono>
#include <nlohmann/json.hpp>
#include <utility>

#include "pki/certificate.h"
#include "pki/name.h"
#include "pki/ocsp.h"
#include "pki/tbs_certificate.h"

namespace signet::crl {

using base::Error;
using base::ErrorCode;
using base::Result;

namespace {

constexpr int kIssueAttempts = 3;  // fresh serials after an (astronomically rare) collision

std::string responder_label(std::string_view ca_name) {
  return "signet-ocsp-" + std::string(ca_name);
}

}  // namespace

OcspSigners::OcspSigners(ca::Authority& authority, CrlStores stores, base::KeyProvider& keys,
                         const base::Clock& clock, std::string actor)
    : authority_(authority),
      stores_(stores),
      keys_(keys),
      clock_(clock),
      actor_(std::move(actor)) {}

void OcspSigners::forget(std::string_view ca_name) {
  std::lock_guard lock(mutex_);
  if (auto it = cache_.find(ca_name); it != cache_.end()) cache_.erase(it);
}

Result<std::optional<ca::CertificateRecord>> OcspSigners::delegated_record(const ca::CaRecord& ca) {
  if (ca.ocsp_signer_certificate_id == 0) return std::optional<ca::CertificateRecord>();
  return stores_.inventory.find_certificate_by_id(ca.ocsp_signer_certificate_id);
}

Result<std::optional<std::string>> OcspSigners::renewal_due(const ca::CaRecord& ca) {
  if (ca.settings.ocsp_signing != ca::OcspSigning::kDelegated) return std::optional<std::string>();
  SIGNET_ASSIGN_OR_RETURN(auto record, delegated_record(ca));
  if (!record) return std::optional<std::string>("no responder certificate yet");
  if (record->revocation) return std::optional<std::string>("the responder certificate is revoked");
  const auto now = clock_.now();
  if (now >= record->not_after)
    return std::optional<std::string>("the responder certificate expired");
  const auto renew_at =
      record->not_after - std::chrono::days(ca.settings.ocsp_signer_renew_before_days);
  if (now >= renew_at) {
    const auto hours =
        std::chrono::duration_cast<std::chrono::hours>(record->not_after - now).count();
    return std::optional<std::string>("the responder certificate expires in " +
                                      std::to_string(hours) + " h");
  }
  // A CA rolled over to a new key issues a responder certificate under the new key.
  SIGNET_ASSIGN_OR_RETURN(auto ca_certificate, pki::Certificate::from_der(ca.certificate_der));
  SIGNET_ASSIGN_OR_RETURN(auto responder_certificate, pki::Certificate::from_der(record->der));
  if (!responder_certificate.verify_signed_by(ca_certificate)) {
    return std::optional<std::string>("the CA certificate changed since the responder was issued");
  }
  return std::optional<std::string>();
}

Result<OcspSigningKey> OcspSigners::current(const ca::CaRecord& ca) {
  const bool delegated = ca.settings.ocsp_signing == ca::OcspSigning::kDelegated;
  const std::string ca_key_uri = ca.key.to_uri();
  {
    std::lock_guard lock(mutex_);
    if (auto it = cache_.find(ca.name); it != cache_.end()) {
      const Cached& cached = it->second;
      const bool same_mode = delegated == !cached.key.certificate_der.empty();
      // A renewal here forgets the entry; the caller's record may predate it.
      if (same_mode && cached.ca_key_uri == ca_key_uri && clock_.now() < cached.key.not_after) {
        return cached.key;
      }
    }
  }

  Cached fresh;
  fresh.ca_key_uri = ca_key_uri;
  if (!delegated) {
    SIGNET_ASSIGN_OR_RETURN(auto certificate, pki::Certificate::from_der(ca.certificate_der));
    auto signer = keys_.find_key(ca.key);
    if (!signer) return std::move(signer).error().with_context("the key of CA '" + ca.name + "'");
    fresh.key.signer = std::move(*signer);
    fresh.key.not_after = certificate.not_after();
    SIGNET_ASSIGN_OR_RETURN(fresh.key.responder_key_hash,
                            pki::ocsp_responder_key_hash(certificate.public_key_der()));
  } else {
    // The stored record names the current responder (the caller's copy may be older).
    SIGNET_ASSIGN_OR_RETURN(auto stored, stores_.cas.find_ca(ca.name));
    if (!stored) return Error(ErrorCode::kNotFound, "no CA named '" + ca.name + "'");
    ca::CaRecord effective = std::move(*stored);
    SIGNET_ASSIGN_OR_RETURN(auto due, renewal_due(effective));
    if (due) {
      // Expired or missing: nothing valid can sign until a new one exists. Merely close to
      // expiry: the scheduler renews it; the current one still serves.
      SIGNET_ASSIGN_OR_RETURN(auto record, delegated_record(effective));
      const bool usable = record && !record->revocation && clock_.now() < record->not_after &&
                          due->find("expires in") != std::string::npos;
      if (!usable) {
        SIGNET_ASSIGN_OR_RETURN(auto issued, renew(ca.name));
        effective.ocsp_signer_certificate_id = issued.id;
      }
    }
    SIGNET_ASSIGN_OR_RETURN(auto record, delegated_record(effective));
    if (!record || !record->key_location) {
      return Error(ErrorCode::kNotFound, "the OCSP responder certificate of CA '" + ca.name +
                                             "' is missing from the inventory");
    }
    auto signer = keys_.find_key(*record->key_location);
    if (!signer) {
      return std::move(signer).error().with_context("the OCSP responder key of CA '" + ca.name +
                                                    "'");
    }
    fresh.key.signer = std::move(*signer);
    fresh.key.certificate_der = record->der;
    fresh.key.not_after = record->not_after;
    fresh.certificate_id = record->id;
    SIGNET_ASSIGN_OR_RETURN(fresh.key.responder_key_hash,
                            pki::ocsp_responder_key_hash(fresh.key.signer->public_key_der()));
  }
  std::lock_guard lock(mutex_);
  cache_[ca.name] = fresh;
  return fresh.key;
}

Result<ca::CertificateRecord> OcspSigners::renew(std::string_view ca_name) {
  std::lock_guard renewing(renew_mutex_);
  const std::string name(ca_name);
  SIGNET_ASSIGN_OR_RETURN(auto found, stores_.cas.find_ca(name));
  if (!found) return Error(ErrorCode::kNotFound, "no CA named '" + name + "'");
  ca::CaRecord ca = std::move(*found);
  if (ca.certificate_der.empty() || ca.state != ca::CaState::kActive) {
    return Error(ErrorCode::kInvalidArgument,
                 "CA '" + name + "' has no certificate, so it cannot certify an OCSP responder");
  }
  const std::uint64_t previous_id = ca.ocsp_signer_certificate_id;
  SIGNET_ASSIGN_OR_RETURN(auto previous, delegated_record(ca));

  base::KeyGenerationRequest generate;
  generate.token = ca.key.token_serial;
  generate.algorithm = ca.key_algorithm;
  generate.label = responder_label(name);
  SIGNET_TRY(keys_.check_room(generate.token));
  auto generated = keys_.generate_key(generate);
  if (!generated) {
    return std::move(generated).error().with_context("generating the OCSP responder key of CA '" +
                                                     name + "'");
  }
  const std::shared_ptr<base::Signer> key = std::move(*generated);
  const auto discard = [&](Error error) {
    (void)keys_.destroy_key(key->key_ref());
    return error;
  };

  ca::EndEntityPlan plan;
  plan.ca_name = name;
  auto subject = pki::encode_name({{"CN", "OCSP Responder " + name}});
  if (!subject) return discard(std::move(subject).error());
  plan.subject_der = std::move(*subject);
  plan.public_key_der = key->public_key_der();
  plan.validity_days = std::max(1, ca.settings.ocsp_signer_validity_days);
  plan.key_usage = pki::kDigitalSignature;
  plan.extended_key_usage = {kOidOcspSigning};
  plan.ocsp_no_check = true;

  ca::CertificateRecord record;
  for (int attempt = 1;; ++attempt) {
    auto signed_record = authority_.sign_planned(plan);
    if (!signed_record) return discard(std::move(signed_record).error());
    record = std::move(*signed_record);
    record.key_location = key->key_ref();
    nlohmann::json detail = {{"ca", name},
                             {"serial", record.serial.to_hex()},
                             {"key", key->key_ref().to_uri()},
                             {"not_after", base::to_unix_seconds(record.not_after)},
                             {"replaces", previous_id}};
    auto event =
        ca::make_audit_event(clock_.now(), actor_, "ocsp.signer_issued",
                             "certificate:" + name + "/" + record.serial.to_hex(), detail.dump());
    auto id = stores_.inventory.put_certificate(record, std::move(event));
    if (id) {
      record.id = *id;
      break;
    }
    if (id.error().code() != ErrorCode::kAlreadyExists || attempt == kIssueAttempts) {
      return discard(std::move(id).error().with_context(
          "recording the OCSP responder certificate of CA '" + name + "'"));
    }
  }

  // The CA names its responder; retried when the CA record changed meanwhile.
  for (int attempt = 1;; ++attempt) {
    ca.ocsp_signer_certificate_id = record.id;
    nlohmann::json detail = {{"ca", name}, {"certificate_id", record.id}};
    auto updated = stores_.cas.update_ca(
        ca, ca::make_audit_event(clock_.now(), actor_, "ca.ocsp_signer_changed", "ca:" + name,
                                 detail.dump()));
    if (updated) break;
    if (updated.error().code() != ErrorCode::kConflict || attempt == kIssueAttempts) {
      return std::move(updated).error().with_context(
          "naming the new OCSP responder certificate on CA '" + name + "' (certificate id " +
          std::to_string(record.id) + " was issued)");
    }
    SIGNET_ASSIGN_OR_RETURN(auto reread, stores_.cas.find_ca(name));
    if (!reread) return Error(ErrorCode::kNotFound, "CA '" + name + "' vanished");
    ca = std::move(*reread);
  }
  forget(name);
  // The previous responder's key has no further use; its certificate stays on record. A key
  // that cannot be deleted now shows up in `signet token keys --orphans`.
  if (previous && previous->key_location && !(*previous->key_location == key->key_ref())) {
    (void)keys_.destroy_key(*previous->key_location);
  }
  return record;
}

}  // namespace signet::crl
