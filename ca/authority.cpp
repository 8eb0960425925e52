// Authority: the issuing context cache and end-entity issuance from a CSR.
// CA creation, import and settings are in ca_lifecycle.cpp.
#include "ca/authority.h"

#include <nlohmann/json.hpp>

#include "ca/internal/issuing_ca.h"
#include "ca/policy.h"
#include "pki/csr.h"
#include "pki/digest.h"
#include "pki/name.h"
#include "pki/public_key.h"

namespace signet::ca {

using base::Error;
using base::ErrorCode;
using base::Result;

namespace {

constexpr int kSerialCollisionRetries = 3;

std::uint16_t end_entity_key_usage(const pki::PublicKeyInfo& key) {
  // RFC 5280 §4.2.1.3 and RFC 8813: RSA keys may also encipher keys (TLS 1.2 RSA key
  // exchange); EC and EdDSA keys sign only.
  if (key.type == pki::PublicKeyInfo::Type::kRsa) {
    return pki::kDigitalSignature | pki::kKeyEncipherment;
  }
  return pki::kDigitalSignature;
}

// A CSR without SANs whose common name is a DNS name gets that name as its SAN: clients
// ignore the CN for host names (RFC 6125 §6.4.4).
std::vector<pki::GeneralName> sans_with_common_name(std::vector<pki::GeneralName> sans,
                                                    const std::string& common_name) {
  if (!sans.empty() || common_name.find('.') == std::string::npos) return sans;
  if (auto name = pki::parse_general_name("DNS:" + common_name)) sans.push_back(*name);
  return sans;
}

}  // namespace

struct Authority::SignedCertificate {
  CertificateRecord record;
};

Authority::Authority(Inventory& inventory, CaDirectory& cas, AuditSink& audit,
                     base::KeyProvider& keys, const base::Clock& clock, base::Rng& rng,
                     std::string actor)
    : inventory_(inventory),
      cas_(cas),
      audit_(audit),
      keys_(keys),
      clock_(clock),
      rng_(rng),
      actor_(std::move(actor)) {}

base::TimePoint Authority::now_seconds() const {
  return std::chrono::time_point_cast<std::chrono::seconds>(clock_.now());
}

AuditEvent Authority::make_event(std::string action, std::string object, std::string detail) const {
  return make_audit_event(clock_.now(), actor_, std::move(action), std::move(object),
                          std::move(detail));
}

Result<CaRecord> Authority::find_ca(std::string_view name) {
  SIGNET_ASSIGN_OR_RETURN(auto found, cas_.find_ca(name));
  if (!found) {
    return Error(ErrorCode::kNotFound, "there is no CA named '" + std::string(name) + "'");
  }
  return std::move(*found);
}

Result<std::shared_ptr<const Authority::IssuingCa>> Authority::issuing_ca(std::string_view name) {
  {
    std::lock_guard lock(cache_mutex_);
    if (auto it = issuing_cache_.find(name); it != issuing_cache_.end()) return it->second;
  }
  SIGNET_ASSIGN_OR_RETURN(CaRecord record, find_ca(name));
  if (!record.certificate_der.empty()) {
    auto own = inventory_.find_certificate_by_fingerprint(pki::sha256(record.certificate_der));
    if (!own) return std::move(own).error().with_context("checking CA '" + record.name + "'");
    if (*own && (*own)->revocation) {
      return Error(
          ErrorCode::kPolicyViolation,
          "CA '" + record.name + "' is revoked (its certificate was revoked with reason " +
              std::string(to_string(static_cast<RevocationReason>((*own)->revocation->reason))) +
              "); it issues nothing more");
    }
  }
  // The chain handed out with what this context signs, checked link by link once here.
  std::vector<base::Bytes> chain{record.certificate_der};
  if (record.external_parent) {
    chain.insert(chain.end(), record.external_chain_der.begin(), record.external_chain_der.end());
  } else if (!record.parent.empty() && !record.certificate_der.empty()) {
    SIGNET_ASSIGN_OR_RETURN(auto issuers, chain_for(record.parent, record.certificate_der));
    chain.insert(chain.end(), issuers.begin(), issuers.end());
  }
  SIGNET_ASSIGN_OR_RETURN(auto context,
                          IssuingCa::create(std::move(record), keys_, std::move(chain)));
  std::lock_guard lock(cache_mutex_);
  issuing_cache_.insert_or_assign(std::string(name), context);
  return context;
}

Result<CertificateRecord> Authority::ca_certificate_record(std::string_view name) {
  SIGNET_ASSIGN_OR_RETURN(CaRecord record, find_ca(name));
  if (record.certificate_der.empty()) {
    return Error(ErrorCode::kInvalidArgument,
                 "CA '" + record.name + "' has no certificate yet (awaiting import)");
  }
  SIGNET_ASSIGN_OR_RETURN(
      auto own, inventory_.find_certificate_by_fingerprint(pki::sha256(record.certificate_der)));
  if (!own) {
    return Error(ErrorCode::kNotFound,
                 "the certificate of CA '" + record.name + "' is not in the inventory");
  }
  return std::move(*own);
}

void Authority::forget_issuing_ca(std::string_view) {
  // Every context goes, not only the named CA's: a context holds its issuers' certificates in
  // its chain, so a renewed parent makes its children's contexts stale too. CAs change rarely.
  std::lock_guard lock(cache_mutex_);
  issuing_cache_.clear();
}

Result<Authority::SignedCertificate> Authority::sign_end_entity(
    const IssueFromCsrRequest& request) {
  SIGNET_ASSIGN_OR_RETURN(auto ca, issuing_ca(request.ca_name));

  auto csr = pki::Csr::parse(request.csr);
  if (!csr) return std::move(csr).error().with_context("reading the certificate request");
  // Proof of possession: the requester holds the private key of the key it asks us to certify.
  SIGNET_TRY(csr->verify_signature());

  PolicyReport report;
  check_subject_key(csr->public_key(), report);
  std::vector<pki::GeneralName> sans;
  if (auto requested = csr->requested_subject_alt_names()) {
    sans = sans_with_common_name(std::move(*requested), csr->common_name());
  } else {
    report.add(requested.error().message());
  }
  if (pki::is_empty_name(csr->subject_der()) && sans.empty()) {
    report.add("the request has neither a subject nor a subject alternative name");
  }
  const int days = request.validity_days.value_or(ca->record.settings.default_validity_days);
  if (days < 1 || days > kMaxValidityDays) {
    report.add("validity of " + std::to_string(days) + " days is out of range (1 to 36500)");
  }
  if (!report.ok()) return report.to_error("certificate request");

  EndEntityPlan plan;
  plan.ca_name = request.ca_name;
  plan.subject_der = csr->subject_der();
  plan.public_key_der = csr->public_key_der();
  plan.validity_days = days;
  plan.key_usage = end_entity_key_usage(csr->public_key());
  plan.extended_key_usage = {pki::kOidServerAuth, pki::kOidClientAuth};
  SIGNET_ASSIGN_OR_RETURN(auto record, sign_with(*ca, plan, sans, csr->subject(),
                                                 csr->common_name(), csr->public_key().name));
  return SignedCertificate{std::move(record)};
}

Result<CertificateRecord> Authority::sign_planned(const EndEntityPlan& plan,
                                                  std::vector<base::Bytes>* chain) {
  SIGNET_ASSIGN_OR_RETURN(auto ca, issuing_ca(plan.ca_name));
  if (chain != nullptr) *chain = ca->chain_der;
  std::vector<pki::GeneralName> sans;
  sans.reserve(plan.subject_alt_names.size());
  for (const auto& text : plan.subject_alt_names) {
    SIGNET_ASSIGN_OR_RETURN(auto name, pki::parse_general_name(text));
    sans.push_back(std::move(name));
  }
  SIGNET_ASSIGN_OR_RETURN(auto subject, pki::format_distinguished_name(plan.subject_der));
  SIGNET_ASSIGN_OR_RETURN(auto common_name, pki::common_name_of(plan.subject_der));
  SIGNET_ASSIGN_OR_RETURN(auto key, pki::inspect_public_key(plan.public_key_der));
  if (plan.validity_days < 1 || plan.validity_days > kMaxValidityDays) {
    return Error(ErrorCode::kPolicyViolation, "validity of " + std::to_string(plan.validity_days) +
                                                  " days is out of range (1 to 36500)");
  }
  if (plan.lifetime && *plan.lifetime < kMinLifetime) {
    return Error(ErrorCode::kPolicyViolation, "a lifetime of " +
                                                  std::to_string(plan.lifetime->count()) +
                                                  " seconds is too short (at least " +
                                                  std::to_string(kMinLifetime.count()) + ")");
  }
  return sign_with(*ca, plan, std::move(sans), std::move(subject), std::move(common_name),
                   key.name);
}

Result<CertificateRecord> Authority::sign_with(const IssuingCa& ca, const EndEntityPlan& plan,
                                               std::vector<pki::GeneralName> sans,
                                               std::string subject_text, std::string common_name,
                                               std::string key_algorithm) {
  const auto now = now_seconds();
  pki::SubjectFields fields;
  SIGNET_ASSIGN_OR_RETURN(fields.serial, pki::SerialNumber::random(rng_));
  fields.subject_name_der = plan.subject_der;
  fields.not_before = now - kBackdate;
  // RFC 5280 §6.1.3: nothing may outlive its issuer; cap rather than refuse, as Vault does.
  auto not_after = now + std::chrono::days(plan.validity_days);
  if (plan.lifetime) not_after = std::min(not_after, now + *plan.lifetime);
  fields.not_after = std::min(not_after, ca.certificate.not_after());
  if (fields.not_after <= now) {
    return Error(ErrorCode::kPolicyViolation,
                 "CA '" + plan.ca_name + "' has expired; renew it before issuing");
  }
  fields.public_key_der = plan.public_key_der;
  fields.is_ca = false;
  fields.key_usage = plan.key_usage;
  fields.extended_key_usage = plan.extended_key_usage;
  fields.ocsp_no_check = plan.ocsp_no_check;
  fields.subject_alt_names = std::move(sans);
  SIGNET_ASSIGN_OR_RETURN(fields.subject_key_identifier,
                          pki::key_identifier(fields.public_key_der));

  SIGNET_ASSIGN_OR_RETURN(base::Bytes tbs, ca.tbs_template.encode(fields));
  auto signature = ca.signer->sign(tbs);
  if (!signature) {
    return std::move(signature).error().with_context("signing with the key of CA '" + plan.ca_name +
                                                     "'");
  }
  base::Bytes der =
      pki::assemble_signed(tbs, ca.tbs_template.signature_algorithm_der(), *signature);
  SIGNET_TRY(check_first_certificate(ca, der));

  // The record is described from what we just encoded (tests prove that encoding equal to
  // OpenSSL's), not by parsing it again: a parse costs more than the token's signature.
  CertificateRecord record;
  record.ca_name = plan.ca_name;
  record.serial = std::move(fields.serial);
  record.fingerprint_sha256 = pki::sha256(der);
  record.der = std::move(der);
  record.subject = std::move(subject_text);
  record.common_name = std::move(common_name);
  record.subject_alt_names.reserve(fields.subject_alt_names.size());
  for (const auto& name : fields.subject_alt_names) {
    record.subject_alt_names.push_back(name.to_string());
  }
  record.issuer = ca.subject_text;
  record.not_before = fields.not_before;
  record.not_after = fields.not_after;
  record.recorded_at = now;
  record.key_algorithm = std::move(key_algorithm);
  record.digest = ca.digest_name;
  record.source = CertificateSource::kManaged;
  record.is_ca = false;
  return record;
}

// The first certificate each issuing context signs is parsed back by OpenSSL and its signature
// verified with the CA certificate's key: a token that signs with another key, or returns a
// malformed signature, is caught before anything is recorded. Later certificates from the same
// template and key are not parsed again (it would cost more than the signature itself).
Result<void> Authority::check_first_certificate(const IssuingCa& ca, base::ByteView der) {
  if (ca.first_certificate_checked.load(std::memory_order_acquire)) return base::ok();
  auto certificate = pki::Certificate::from_der(der);
  if (!certificate) {
    return Error(ErrorCode::kInternal, "the certificate built for CA '" + ca.record.name +
                                           "' does not parse: " + certificate.error().message());
  }
  auto verified = certificate->verify_signed_by(ca.certificate);
  if (!verified) {
    return std::move(verified).error().with_context(
        "checking the first certificate signed with the key of CA '" + ca.record.name + "'");
  }
  ca.first_certificate_checked.store(true, std::memory_order_release);
  return base::ok();
}

Result<CertificateRecord> Authority::issue_from_csr(const IssueFromCsrRequest& request) {
  return issue_from_csr_async(request).get();
}

std::future<Result<CertificateRecord>> Authority::issue_from_csr_async(
    const IssueFromCsrRequest& request) {
  auto signed_cert = sign_end_entity(request);
  if (!signed_cert) {
    std::promise<Result<CertificateRecord>> failed;
    failed.set_value(std::move(signed_cert).error());
    return failed.get_future();
  }
  CertificateRecord record = std::move(signed_cert->record);
  nlohmann::json detail = {{"ca", record.ca_name},
                           {"serial", record.serial.to_hex()},
                           {"subject", record.subject},
                           {"fingerprint_sha256", base::to_hex(record.fingerprint_sha256)}};
  auto event =
      make_event("certificate.issued",
                 "certificate:" + record.ca_name + "/" + record.serial.to_hex(), detail.dump());
  auto committed = inventory_.put_certificate_async(record, std::move(event));
  // Deferred: the commit is awaited on the thread that calls get(), so that one thread can
  // keep many issuances in flight while the store batches their commits.
  return std::async(std::launch::deferred,
                    [this, request, record = std::move(record),
                     committed = std::move(committed)]() mutable -> Result<CertificateRecord> {
                      auto id = committed.get();
                      if (id) {
                        record.id = *id;
                        return std::move(record);
                      }
                      if (id.error().code() != ErrorCode::kAlreadyExists) {
                        return std::move(id).error().with_context(
                            "recording the certificate for CA '" + request.ca_name + "'");
                      }
                      return commit_with_retry(request, SignedCertificate{std::move(record)});
                    });
}

// A serial collision (astronomically rare with 128 random bits) is caught by the store's
// uniqueness check: the certificate is discarded unseen, the discard audited, and the request
// signed again with a fresh serial.
Result<CertificateRecord> Authority::commit_with_retry(const IssueFromCsrRequest& request,
                                                       SignedCertificate discarded) {
  for (int attempt = 0; attempt < kSerialCollisionRetries; ++attempt) {
    nlohmann::json detail = {{"ca", request.ca_name},
                             {"serial", discarded.record.serial.to_hex()},
                             {"reason", "serial number already used by this CA"}};
    SIGNET_TRY(audit_.append_audit(
        make_event("certificate.discarded", "ca:" + request.ca_name, detail.dump())));
    SIGNET_ASSIGN_OR_RETURN(auto again, sign_end_entity(request));
    nlohmann::json issued = {{"ca", again.record.ca_name},
                             {"serial", again.record.serial.to_hex()},
                             {"subject", again.record.subject}};
    auto event = make_event(
        "certificate.issued",
        "certificate:" + again.record.ca_name + "/" + again.record.serial.to_hex(), issued.dump());
    auto id = inventory_.put_certificate(again.record, std::move(event));
    if (id) {
      again.record.id = *id;
      return std::move(again.record);
    }
    if (id.error().code() != ErrorCode::kAlreadyExists) return std::move(id).error();
    discarded = std::move(again);
  }
  return Error(ErrorCode::kInternal,
               "serial numbers collided repeatedly; the random source is "
               "suspect and issuance was stopped");
}

}  // namespace signet::ca
