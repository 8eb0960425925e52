// Authority: creating root and intermediate CAs, installing externally signed CA
// certificates, CA settings and chains. Issuance is in authority.cpp.
#include <nlohmann/json.hpp>

#include "ca/authority.h"
#include "ca/certificate_record.h"
#include "ca/internal/issuing_ca.h"
#include "ca/policy.h"
#include "pki/csr.h"
#include "pki/digest.h"
#include "pki/name.h"

namespace signet::ca {

using base::Error;
using base::ErrorCode;
using base::Result;

namespace {

// RFC 5280 §4.2.1.3: a CA key signs certificates and CRLs; digitalSignature lets the same key
// sign OCSP responses directly (RFC 6960 §4.2.2.2).
constexpr std::uint16_t kCaKeyUsage = pki::kKeyCertSign | pki::kCrlSign | pki::kDigitalSignature;

Result<std::string> normalise_base_url(std::string url) {
  while (!url.empty() && url.back() == '/') url.pop_back();
  if (url.empty()) return url;
  const bool scheme_ok = url.rfind("http://", 0) == 0 || url.rfind("https://", 0) == 0;
  if (!scheme_ok || url.find_first_of("?# \t\r\n") != std::string::npos ||
      url.size() <= std::string_view("https://").size()) {
    return Error(ErrorCode::kInvalidArgument,
                 "base URL '" + url +
                     "' must be an http:// or https:// URL without query or "
                     "fragment (e.g. http://pki.example.com)");
  }
  return url;
}

// Sets `target` from `value` when given, within [low, high]; records it in the audit detail.
Result<void> set_bounded(const std::optional<int>& value, int& target, int low, int high,
                         const char* name, nlohmann::json& detail) {
  if (!value) return base::ok();
  if (*value < low || *value > high) {
    return Error(ErrorCode::kInvalidArgument, std::string(name) + " " + std::to_string(*value) +
                                                  " is out of range (" + std::to_string(low) +
                                                  " to " + std::to_string(high) + ")");
  }
  target = *value;
  detail[name] = *value;
  return base::ok();
}

Result<void> apply_revocation_settings(const CaSettingsUpdate& u, CaSettings& s,
                                       nlohmann::json& detail) {
  constexpr int kHoursPerYear = 8760, kMinutesPerWeek = 10080;
  SIGNET_TRY(set_bounded(u.crl_validity_hours, s.crl_validity_hours, 1, kHoursPerYear,
                         "crl_validity_hours", detail));
  SIGNET_TRY(set_bounded(u.crl_overlap_minutes, s.crl_overlap_minutes, 0, kHoursPerYear * 60,
                         "crl_overlap_minutes", detail));
  SIGNET_TRY(set_bounded(u.delta_crl_validity_minutes, s.delta_crl_validity_minutes, 5,
                         kMinutesPerWeek, "delta_crl_validity_minutes", detail));
  SIGNET_TRY(set_bounded(u.crl_expired_grace_days, s.crl_expired_grace_days, -1, kMaxValidityDays,
                         "crl_expired_grace_days", detail));
  SIGNET_TRY(set_bounded(u.crl_history, s.crl_history, 1, 1000, "crl_history", detail));
  SIGNET_TRY(set_bounded(u.ocsp_validity_minutes, s.ocsp_validity_minutes, 1, kMinutesPerWeek,
                         "ocsp_validity_minutes", detail));
  SIGNET_TRY(set_bounded(u.ocsp_signer_validity_days, s.ocsp_signer_validity_days, 1, 366,
                         "ocsp_signer_validity_days", detail));
  SIGNET_TRY(set_bounded(u.ocsp_signer_renew_before_days, s.ocsp_signer_renew_before_days, 0, 365,
                         "ocsp_signer_renew_before_days", detail));
  if (u.crl_on_revocation) detail["crl_on_revocation"] = s.crl_on_revocation = *u.crl_on_revocation;
  if (u.delta_crls) detail["delta_crls"] = s.delta_crls = *u.delta_crls;
  if (u.ocsp_signing) {
    s.ocsp_signing = *u.ocsp_signing;
    detail["ocsp_signing"] = to_string(s.ocsp_signing);
  }
  if (s.crl_overlap_minutes >= s.crl_validity_hours * 60) {
    return Error(ErrorCode::kInvalidArgument,
                 "crl_overlap_minutes (" + std::to_string(s.crl_overlap_minutes) +
                     ") must be shorter than the CRL validity (" +
                     std::to_string(s.crl_validity_hours * 60) +
                     " min), or every CRL would be due again as soon as it is made");
  }
  if (s.ocsp_signer_renew_before_days >= s.ocsp_signer_validity_days) {
    return Error(ErrorCode::kInvalidArgument,
                 "ocsp_signer_renew_before_days must be below ocsp_signer_validity_days (" +
                     std::to_string(s.ocsp_signer_validity_days) + ")");
  }
  if (s.delta_crls && s.base_url.empty()) {
    return Error(ErrorCode::kInvalidArgument,
                 "delta CRLs need the CA's base URL: full CRLs point relying parties at the "
                 "deltas (Freshest CRL); set --base-url too");
  }
  return base::ok();
}

Result<int> checked_validity(std::optional<int> requested, int fallback) {
  const int days = requested.value_or(fallback);
  if (days < 1 || days > kMaxValidityDays) {
    return Error(ErrorCode::kInvalidArgument,
                 "validity of " + std::to_string(days) + " days is out of range (1 to 36500)");
  }
  return days;
}

}  // namespace

pki::IssuerFields issuer_fields_for(const CaRecord& record, const pki::Certificate& certificate,
                                    const base::Signer& signer) {
  pki::IssuerFields fields;
  fields.key_algorithm = signer.algorithm();
  fields.digest = signer.digest();
  fields.issuer_name_der = certificate.subject_der();  // byte-for-byte (RFC 5280 §4.1.2.4)
  fields.authority_key_identifier = certificate.subject_key_identifier();
  if (fields.authority_key_identifier.empty()) {
    if (auto ski = pki::key_identifier(certificate.public_key_der())) {
      fields.authority_key_identifier = *ski;
    }
  }
  fields.crl_url = full_crl_url(record);
  fields.ocsp_url = ocsp_url(record);
  fields.ca_issuers_url = ca_issuers_url(record);
  return fields;
}

Result<std::shared_ptr<const Authority::IssuingCa>> Authority::IssuingCa::create(
    CaRecord record, base::KeyProvider& keys, std::vector<base::Bytes> chain_der) {
  if (record.state != CaState::kActive) {
    return Error(ErrorCode::kInvalidArgument,
                 "CA '" + record.name +
                     "' is awaiting its certificate from the external root; "
                     "install it with 'signet ca import-cert'");
  }
  SIGNET_ASSIGN_OR_RETURN(auto certificate, pki::Certificate::from_der(record.certificate_der));
  auto signer = keys.find_key(record.key);
  if (!signer) {
    return std::move(signer).error().with_context("finding the key of CA '" + record.name + "'");
  }
  if ((*signer)->public_key_der() != certificate.public_key_der()) {
    return Error(ErrorCode::kVerificationFailed, "the key found on the token for CA '" +
                                                     record.name +
                                                     "' is not the key of its certificate");
  }
  SIGNET_ASSIGN_OR_RETURN(auto tbs_template, pki::TbsTemplate::create(
                                                 issuer_fields_for(record, certificate, **signer)));
  return std::make_shared<const IssuingCa>(std::move(record), std::move(certificate),
                                           std::move(*signer), std::move(tbs_template),
                                           std::move(chain_der));
}

Result<std::shared_ptr<base::Signer>> Authority::obtain_ca_key(const NewCaRequest& request,
                                                               bool& generated) {
  generated = false;
  if (!request.key_uri.empty()) {
    auto adopted = keys_.find_key_by_uri(request.key_uri);
    if (!adopted) return std::move(adopted).error().with_context("adopting the CA key");
    return adopted;
  }
  base::KeyGenerationRequest generation;
  generation.token = request.token;
  generation.algorithm = request.key_algorithm;
  generation.label = "signet-ca-" + request.name;
  auto key = keys_.generate_key(generation);
  if (!key)
    return std::move(key).error().with_context("generating the key of CA '" + request.name + "'");
  generated = true;
  return key;
}

Result<base::Bytes> Authority::sign_ca_certificate(
    const IssuingCa* parent, const base::Signer& subject_key, const base::Signer& signing_key,
    base::ByteView subject_der, const NewCaRequest& request, pki::SerialNumber serial,
    base::TimePoint not_before, base::TimePoint not_after) {
  pki::SubjectFields fields;
  fields.serial = std::move(serial);
  fields.subject_name_der.assign(subject_der.begin(), subject_der.end());
  fields.not_before = not_before;
  fields.not_after = not_after;
  fields.public_key_der = subject_key.public_key_der();
  fields.is_ca = true;
  fields.path_length = request.path_length;
  fields.key_usage = kCaKeyUsage;
  SIGNET_ASSIGN_OR_RETURN(fields.subject_key_identifier,
                          pki::key_identifier(fields.public_key_der));

  std::optional<pki::TbsTemplate> self_template;
  const pki::TbsTemplate* tbs_template = nullptr;
  if (parent != nullptr) {
    tbs_template = &parent->tbs_template;
  } else {
    pki::IssuerFields issuer;  // self-signed: issuer = subject, AKI = own SKI, no CDP/AIA
    issuer.key_algorithm = signing_key.algorithm();
    issuer.digest = signing_key.digest();
    issuer.issuer_name_der = fields.subject_name_der;
    issuer.authority_key_identifier = fields.subject_key_identifier;
    SIGNET_ASSIGN_OR_RETURN(self_template, pki::TbsTemplate::create(issuer));
    tbs_template = &*self_template;
  }
  SIGNET_ASSIGN_OR_RETURN(base::Bytes tbs, tbs_template->encode(fields));
  auto signature = signing_key.sign(tbs);
  if (!signature) return std::move(signature).error().with_context("signing the CA certificate");
  base::Bytes der = pki::assemble_signed(tbs, tbs_template->signature_algorithm_der(), *signature);
  SIGNET_TRY(pki::Certificate::from_der(der));  // OpenSSL must parse what we built
  return der;
}

Result<CaRecord> Authority::finish_new_ca(const NewCaRequest& request, CaRecord record,
                                          const std::shared_ptr<base::Signer>& signer,
                                          bool generated) {
  record.name = request.name;
  record.key = signer->key_ref();
  record.key_algorithm = signer->algorithm();
  record.created_at = clock_.now();
  nlohmann::json detail = {{"subject", record.subject},
                           {"key", record.key.to_uri()},
                           {"key_algorithm", std::string(base::to_string(record.key_algorithm))},
                           {"parent", record.parent},
                           {"external_parent", record.external_parent},
                           {"state", std::string(to_string(record.state))}};
  auto created =
      cas_.create_ca(record, make_event("ca.created", "ca:" + record.name, detail.dump()));
  if (!created) {
    // Do not leave a key behind for a CA that does not exist.
    if (generated) (void)keys_.destroy_key(signer->key_ref());
    return std::move(created).error();
  }
  if (!record.certificate_der.empty()) {
    SIGNET_ASSIGN_OR_RETURN(auto certificate, pki::Certificate::from_der(record.certificate_der));
    SIGNET_TRY(record_ca_certificate(record, certificate, "created"));
  }
  return record;
}

// Records a CA's certificate in the inventory, under the CA that signed it (a root under
// itself), with the audit event certificate.issued.
Result<void> Authority::record_ca_certificate(const CaRecord& record,
                                              const pki::Certificate& certificate,
                                              std::string_view what) {
  CertificateRecord entry = describe_certificate(certificate, now_seconds());
  entry.ca_name = record.parent.empty() ? record.name : record.parent;
  entry.key_location = record.key;
  nlohmann::json issued = {{"ca", entry.ca_name},
                           {"serial", entry.serial.to_hex()},
                           {"subject", entry.subject},
                           {"ca_certificate_of", record.name}};
  auto put = inventory_.put_certificate(
      entry,
      make_event("certificate.issued", "certificate:" + entry.ca_name + "/" + entry.serial.to_hex(),
                 issued.dump()));
  if (!put) {
    return std::move(put).error().with_context("CA '" + record.name + "' was " + std::string(what) +
                                               " but its certificate could not be added to the "
                                               "inventory");
  }
  return base::ok();
}

Result<CaRecord> Authority::create_root(const NewCaRequest& request) {
  SIGNET_TRY(validate_ca_name(request.name));
  SIGNET_ASSIGN_OR_RETURN(auto existing, cas_.find_ca(request.name));
  if (existing) {
    return Error(ErrorCode::kAlreadyExists, "a CA named '" + request.name + "' already exists");
  }
  SIGNET_ASSIGN_OR_RETURN(base::Bytes subject_der, pki::parse_distinguished_name(request.subject));
  SIGNET_ASSIGN_OR_RETURN(int days,
                          checked_validity(request.validity_days, kDefaultRootValidityDays));
  bool generated = false;
  SIGNET_ASSIGN_OR_RETURN(auto signer, obtain_ca_key(request, generated));

  const auto now = now_seconds();
  SIGNET_ASSIGN_OR_RETURN(auto serial, pki::SerialNumber::random(rng_));
  auto der = sign_ca_certificate(nullptr, *signer, *signer, subject_der, request, serial,
                                 now - kBackdate, now + std::chrono::days(days));
  if (!der) {
    if (generated) (void)keys_.destroy_key(signer->key_ref());
    return std::move(der).error();
  }
  CaRecord record;
  record.state = CaState::kActive;
  SIGNET_ASSIGN_OR_RETURN(record.subject, pki::format_distinguished_name(subject_der));
  record.certificate_der = std::move(*der);
  return finish_new_ca(request, std::move(record), signer, generated);
}

Result<CaRecord> Authority::create_intermediate(const NewCaRequest& request) {
  SIGNET_TRY(validate_ca_name(request.name));
  if (request.external_parent == !request.parent.empty()) {
    return Error(ErrorCode::kInvalidArgument,
                 "an intermediate CA needs either a parent CA here or an external root, not both");
  }
  SIGNET_ASSIGN_OR_RETURN(auto existing, cas_.find_ca(request.name));
  if (existing) {
    return Error(ErrorCode::kAlreadyExists, "a CA named '" + request.name + "' already exists");
  }
  SIGNET_ASSIGN_OR_RETURN(base::Bytes subject_der, pki::parse_distinguished_name(request.subject));
  SIGNET_ASSIGN_OR_RETURN(
      int days, checked_validity(request.validity_days, kDefaultIntermediateValidityDays));
  std::shared_ptr<const IssuingCa> parent;
  if (!request.external_parent) {
    auto found = issuing_ca(request.parent);
    if (!found)
      return std::move(found).error().with_context("using parent CA '" + request.parent + "'");
    parent = *found;
  }
  bool generated = false;
  SIGNET_ASSIGN_OR_RETURN(auto signer, obtain_ca_key(request, generated));
  auto destroy_on_failure = [&](Error error) {
    if (generated) (void)keys_.destroy_key(signer->key_ref());
    return error;
  };

  CaRecord record;
  auto subject_text = pki::format_distinguished_name(subject_der);
  if (!subject_text) return destroy_on_failure(std::move(subject_text).error());
  record.subject = *subject_text;
  if (request.external_parent) {
    auto csr = pki::build_csr(subject_der, {}, *signer);
    if (!csr)
      return destroy_on_failure(std::move(csr).error().with_context("building the CA's CSR"));
    record.state = CaState::kAwaitingCertificate;
    record.external_parent = true;
    record.pending_csr_der = std::move(*csr);
    record.settings.default_validity_days = 365;
    return finish_new_ca(request, std::move(record), signer, generated);
  }

  const auto now = now_seconds();
  const auto not_after = std::min(now + std::chrono::days(days), parent->certificate.not_after());
  if (not_after <= now) {
    return destroy_on_failure(
        Error(ErrorCode::kPolicyViolation, "parent CA '" + request.parent + "' has expired"));
  }
  auto serial = pki::SerialNumber::random(rng_);
  if (!serial) return destroy_on_failure(std::move(serial).error());
  auto der = sign_ca_certificate(parent.get(), *signer, *parent->signer, subject_der, request,
                                 *serial, now - kBackdate, not_after);
  if (!der) return destroy_on_failure(std::move(der).error());
  record.state = CaState::kActive;
  record.parent = request.parent;
  record.certificate_der = std::move(*der);
  return finish_new_ca(request, std::move(record), signer, generated);
}

Result<CaRecord> Authority::import_ca_certificate(std::string_view name, base::ByteView bundle) {
  SIGNET_ASSIGN_OR_RETURN(CaRecord record, find_ca(name));
  if (!record.external_parent) {
    return Error(ErrorCode::kInvalidArgument,
                 "CA '" + record.name + "' is signed by CA '" + record.parent +
                     "' here; only a CA created with --external takes an imported certificate");
  }
  auto certificates = pki::Certificate::parse_bundle(bundle);
  if (!certificates)
    return std::move(certificates).error().with_context("reading the CA certificate");
  const pki::Certificate& leaf = certificates->front();
  auto signer = keys_.find_key(record.key);
  if (!signer)
    return std::move(signer).error().with_context("finding the key of CA '" + record.name + "'");
  if (leaf.public_key_der() != (*signer)->public_key_der()) {
    return Error(ErrorCode::kVerificationFailed,
                 "the certificate's public key is not the key of CA '" + record.name +
                     "' (was it issued for the CSR this CA wrote?)");
  }
  if (!leaf.is_ca()) {
    return Error(ErrorCode::kPolicyViolation,
                 "the certificate is not a CA certificate (basicConstraints cA is not set)");
  }
  if (leaf.not_after() <= clock_.now()) {
    return Error(ErrorCode::kPolicyViolation, "the certificate has already expired");
  }
  for (std::size_t i = 0; i + 1 < certificates->size(); ++i) {
    auto verified = (*certificates)[i].verify_signed_by((*certificates)[i + 1]);
    if (!verified) {
      return std::move(verified).error().with_context(
          "checking certificate " + std::to_string(i + 1) + " of the bundle against the next one");
    }
  }
  if (!record.certificate_der.empty()) {
    record.previous_certificates_der.push_back(record.certificate_der);
  }
  record.certificate_der = leaf.der();
  record.external_chain_der.clear();
  for (std::size_t i = 1; i < certificates->size(); ++i) {
    record.external_chain_der.push_back((*certificates)[i].der());
  }
  record.pending_csr_der.clear();
  record.state = CaState::kActive;
  record.subject = leaf.subject();
  nlohmann::json detail = {{"serial", leaf.serial().to_hex()},
                           {"issuer", leaf.issuer()},
                           {"chain_length", certificates->size()}};
  SIGNET_TRY(cas_.update_ca(
      record, make_event("ca.certificate_imported", "ca:" + record.name, detail.dump())));
  forget_issuing_ca(record.name);
  ++record.revision;
  return record;
}

bool CaSettingsUpdate::empty() const {
  return !base_url && !default_validity_days && !crl_validity_hours && !crl_overlap_minutes &&
         !crl_on_revocation && !delta_crls && !delta_crl_validity_minutes &&
         !crl_expired_grace_days && !crl_history && !ocsp_signing && !ocsp_validity_minutes &&
         !ocsp_signer_validity_days && !ocsp_signer_renew_before_days;
}

Result<CaRecord> Authority::update_settings(std::string_view name, const CaSettingsUpdate& update) {
  SIGNET_ASSIGN_OR_RETURN(CaRecord record, find_ca(name));
  nlohmann::json detail = nlohmann::json::object();
  if (update.base_url) {
    SIGNET_ASSIGN_OR_RETURN(record.settings.base_url, normalise_base_url(*update.base_url));
    detail["base_url"] = record.settings.base_url;
  }
  if (update.default_validity_days) {
    SIGNET_ASSIGN_OR_RETURN(record.settings.default_validity_days,
                            checked_validity(update.default_validity_days, 0));
    detail["default_validity_days"] = record.settings.default_validity_days;
  }
  SIGNET_TRY(apply_revocation_settings(update, record.settings, detail));
  SIGNET_TRY(cas_.update_ca(record, make_event("ca.updated", "ca:" + record.name, detail.dump())));
  forget_issuing_ca(record.name);
  ++record.revision;
  return record;
}

Result<std::vector<base::Bytes>> Authority::ca_chain(std::string_view name) {
  std::vector<base::Bytes> chain;
  std::string current(name);
  for (int depth = 0; depth < kMaxChainDepth; ++depth) {
    SIGNET_ASSIGN_OR_RETURN(CaRecord record, find_ca(current));
    if (record.certificate_der.empty()) {
      return Error(ErrorCode::kInvalidArgument,
                   "CA '" + record.name + "' has no certificate yet (awaiting import)");
    }
    chain.push_back(record.certificate_der);
    if (record.external_parent) {
      chain.insert(chain.end(), record.external_chain_der.begin(), record.external_chain_der.end());
      return chain;
    }
    if (record.parent.empty()) return chain;
    current = record.parent;
  }
  return Error(ErrorCode::kInternal,
               "the CA chain of '" + std::string(name) + "' is too deep or circular");
}

}  // namespace signet::ca
