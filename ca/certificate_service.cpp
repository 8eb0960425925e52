// CertificateService: profiles, and the issuance orders (issue, renew, rekey, reissue) from
// the key source to the commit. Revocation, views, exports, import and alerts are in
// certificate_service_views.cpp.
#include "ca/certificate_service.h"

#include <algorithm>
#include <nlohmann/json.hpp>

#include "ca/internal/order_parameters.h"
#include "pki/certificate.h"
#include "pki/csr.h"
#include "pki/general_name.h"
#include "pki/name.h"
#include "pki/software_key.h"

namespace signet::ca {

using base::Error;
using base::ErrorCode;
using base::Result;
using nlohmann::json;

namespace {

constexpr int kSerialCollisionRetries = 3;
const base::Bytes kEmptyName = {0x30, 0x00};

std::string_view issued_action(OrderKind kind) {
  switch (kind) {
    case OrderKind::kRenew:
      return "certificate.renewed";
    case OrderKind::kRekey:
      return "certificate.rekeyed";
    case OrderKind::kReissue:
      return "certificate.reissued";
    default:
      return "certificate.issued";
  }
}

// The CKA_LABEL of a key pair generated for an order: how a key whose order was interrupted
// before it recorded the key is found again.
std::string generated_key_label(std::uint64_t order_id) {
  return "signet-order-" + std::to_string(order_id);
}

// kTokenKey certifies a key that is already on the token: never one the appliance itself signs
// with. A CA's key (any CA, the internal appliance CA included) is found by its KeyRef and by
// its certificate's public key; the appliance's other keys (audit, OCSP signer, TLS, key-
// encryption) by their reserved "signet-" labels. Keys generated for orders ("signet-order-")
// belong to certificates and may be certified again.
Result<void> refuse_appliance_key(CaDirectory& directory, const base::Signer& signer) {
  SIGNET_ASSIGN_OR_RETURN(auto cas, directory.list_cas());
  for (const auto& ca : cas) {
    bool same = ca.key == signer.key_ref();
    if (!same && !ca.certificate_der.empty()) {
      auto certificate = pki::Certificate::from_der(ca.certificate_der);
      same = certificate && certificate->public_key_der() == signer.public_key_der();
    }
    if (same) {
      return Error(ErrorCode::kPolicyViolation,
                   "the key is the signing key of CA '" + ca.name + "'; it is not certified");
    }
  }
  const auto& label = signer.key_ref().object_label;
  if (label.starts_with("signet-") && !label.starts_with("signet-order-")) {
    return Error(ErrorCode::kPolicyViolation,
                 "the key '" + label + "' is one of the appliance's own keys; it is not certified");
  }
  return base::ok();
}

std::string certificate_object(const CertificateRecord& record) {
  return "certificate:" + record.ca_name + "/" + record.serial.to_hex();
}

json findings_json(const std::vector<PolicyFinding>& findings) {
  json out = json::array();
  for (const auto& f : findings) out.push_back({{"rule", f.rule}, {"message", f.message}});
  return out;
}

Result<std::vector<pki::GeneralName>> parse_sans(const std::vector<std::string>& texts) {
  std::vector<pki::GeneralName> out;
  for (const auto& text : texts) {
    SIGNET_ASSIGN_OR_RETURN(auto name, pki::parse_general_name(text));
    out.push_back(std::move(name));
  }
  return out;
}

}  // namespace

struct CertificateService::SubjectKey {
  base::Bytes public_key_der;
  base::Bytes subject_der;
  std::vector<std::string> subject_alt_names;
  std::optional<base::KeyRef> key_location;
  std::optional<base::WrappedSecret> wrapped_key;
  std::optional<base::SecureBuffer> local_pkcs8;  // the local key, for its PFX
};

struct CertificateService::Work {
  Order order;
  const IssueRequest& request;
  Profile profile;
  const CertificateRecord* predecessor = nullptr;
  bool revoke_previous = false;
  EndEntityPlan plan;
  std::vector<base::Bytes> chain;          // of the CA context that signed
  std::vector<AuditEvent> failure_events;  // written with the failed order
};

CertificateService::CertificateService(Authority& authority, RecordStores stores,
                                       base::KeyProvider& keys, const base::Clock& clock,
                                       base::Rng& rng, std::string actor, std::string worker)
    : authority_(authority),
      stores_(stores),
      keys_(keys),
      clock_(clock),
      rng_(rng),
      actor_(std::move(actor)),
      worker_(std::move(worker)) {}

base::TimePoint CertificateService::now() const {
  return std::chrono::time_point_cast<std::chrono::seconds>(clock_.now());
}

AuditEvent CertificateService::make_event(std::string action, std::string object,
                                          std::string detail) const {
  return make_audit_event(clock_.now(), actor_, std::move(action), std::move(object),
                          std::move(detail));
}

// ---- profiles ----

Result<Profile> CertificateService::resolve_profile(const ProfileSelector& selector) {
  std::string ca_name = selector.ca_name;
  std::string name = selector.profile;
  if (auto slash = name.find('/'); slash != std::string::npos) {
    if (!ca_name.empty() && ca_name != name.substr(0, slash)) {
      return Error(ErrorCode::kInvalidArgument,
                   "profile '" + name + "' does not belong to CA '" + ca_name + "'");
    }
    ca_name = name.substr(0, slash);
    name = name.substr(slash + 1);
  }
  if (name.empty()) {
    if (ca_name.empty()) {
      return Error(ErrorCode::kInvalidArgument,
                   "name an RA profile or a CA (whose default profile "
                   "is then used)");
    }
    return ensure_default_profile(ca_name);
  }
  if (!ca_name.empty()) {
    SIGNET_ASSIGN_OR_RETURN(auto found, stores_.profiles.find_profile(ca_name, name));
    if (found) return std::move(*found);
    if (name == "default") return ensure_default_profile(ca_name);
    return Error(ErrorCode::kNotFound,
                 "CA '" + ca_name + "' has no RA profile named '" + name + "'");
  }
  SIGNET_ASSIGN_OR_RETURN(auto matches, stores_.profiles.find_profiles_by_name(name));
  if (matches.empty()) {
    return Error(ErrorCode::kNotFound, "there is no RA profile named '" + name + "'");
  }
  if (matches.size() > 1) {
    std::string names;
    for (const auto& p : matches) names += (names.empty() ? "" : ", ") + p.qualified_name();
    return Error(ErrorCode::kInvalidArgument, "the profile name '" + name +
                                                  "' is used by several CAs (" + names +
                                                  "); name it as CA/PROFILE");
  }
  return std::move(matches.front());
}

Result<Profile> CertificateService::ensure_default_profile(std::string_view ca_name) {
  SIGNET_ASSIGN_OR_RETURN(auto found, stores_.profiles.find_profile(ca_name, "default"));
  if (found) return std::move(*found);
  SIGNET_ASSIGN_OR_RETURN(auto ca, authority_.find_ca(ca_name));
  // The CA's own default validity (ca set --default-validity-days) stays what --ca means.
  Profile profile = default_profile(std::string(ca_name));
  profile.validity.default_days = ca.settings.default_validity_days;
  profile.validity.max_days = std::max(profile.validity.max_days, profile.validity.default_days);
  auto created = create_profile(std::move(profile));
  if (!created && created.error().code() == ErrorCode::kAlreadyExists) {
    SIGNET_ASSIGN_OR_RETURN(found, stores_.profiles.find_profile(ca_name, "default"));
    if (found) return std::move(*found);
  }
  return created;
}

Result<Profile> CertificateService::create_profile(Profile profile) {
  SIGNET_TRY(validate_profile(profile));
  SIGNET_TRY(authority_.find_ca(profile.ca_name));
  profile.version = 0;
  profile.created_at = profile.updated_at = now();
  profile.updated_by = actor_;
  SIGNET_TRY(stores_.profiles.create_profile(
      profile, make_event("profile.created", "profile:" + profile.qualified_name(),
                          profile_to_json(profile, false))));
  SIGNET_ASSIGN_OR_RETURN(auto stored,
                          stores_.profiles.find_profile(profile.ca_name, profile.name));
  if (!stored) return Error(ErrorCode::kInternal, "the new profile is not in the store");
  return std::move(*stored);
}

Result<Profile> CertificateService::update_profile(Profile profile) {
  SIGNET_TRY(validate_profile(profile));
  SIGNET_ASSIGN_OR_RETURN(auto existing,
                          stores_.profiles.find_profile(profile.ca_name, profile.name));
  if (!existing) {
    return Error(ErrorCode::kNotFound,
                 "CA '" + profile.ca_name + "' has no RA profile named '" + profile.name + "'");
  }
  if (profile.version == 0) profile.version = existing->version;  // "the one I just read"
  profile.created_at = existing->created_at;
  profile.updated_at = now();
  profile.updated_by = actor_;
  const char* action = "profile.updated";
  if (existing->enabled != profile.enabled) {
    action = profile.enabled ? "profile.enabled" : "profile.disabled";
  }
  return stores_.profiles.update_profile(
      profile,
      make_event(action, "profile:" + profile.qualified_name(), profile_to_json(profile, false)));
}

Result<Profile> CertificateService::disable_profile(std::string_view ca_name,
                                                    std::string_view name) {
  SIGNET_ASSIGN_OR_RETURN(auto profile, resolve_profile({std::string(name), std::string(ca_name)}));
  if (!profile.enabled) return profile;
  profile.enabled = false;
  return update_profile(std::move(profile));
}

Result<Profile> CertificateService::enable_profile(std::string_view ca_name,
                                                   std::string_view name) {
  SIGNET_ASSIGN_OR_RETURN(auto found, stores_.profiles.find_profile(ca_name, name));
  if (!found) {
    return Error(ErrorCode::kNotFound, "CA '" + std::string(ca_name) +
                                           "' has no RA profile named '" + std::string(name) + "'");
  }
  if (found->enabled) return std::move(*found);
  found->enabled = true;
  return update_profile(std::move(*found));
}

// ---- issuance orders ----

Result<OrderResult> CertificateService::issue(const IssueRequest& request) {
  return issue(request, 0);
}
Result<OrderResult> CertificateService::renew(const RenewRequest& request) {
  return renew(request, 0);
}
Result<OrderResult> CertificateService::rekey(const RekeyRequest& request) {
  return rekey(request, 0);
}
Result<OrderResult> CertificateService::revoke(const RevokeRequest& request) {
  return revoke(request, 0);
}

Result<OrderResult> CertificateService::issue(const IssueRequest& request,
                                              std::uint64_t resubmitted_from) {
  SIGNET_ASSIGN_OR_RETURN(auto profile, resolve_profile(request.profile));
  IssueRequest normalised = request;
  normalised.profile = {profile.name, profile.ca_name};
  if (request.key.kind == KeySourceKind::kNone || request.key.kind == KeySourceKind::kReuse) {
    return Error(ErrorCode::kInvalidArgument,
                 "a new certificate needs a key source: a CSR, a key on a token, a key generated "
                 "on a token, or a local key");
  }
  std::string common_name;  // for the order list; the issuance reads the request again
  if (request.key.kind == KeySourceKind::kCsr) {
    if (auto csr = pki::Csr::parse(request.key.csr)) common_name = csr->common_name();
  } else if (!request.subject.empty()) {
    if (auto der = pki::parse_distinguished_name(request.subject)) {
      common_name = pki::common_name_of(*der).value_or("");
    }
  }
  if (common_name.empty() && !request.subject_alt_names.empty()) {
    common_name = request.subject_alt_names.front();
  }
  internal::OrderParameters parameters;
  parameters.kind = OrderKind::kIssue;
  parameters.issue = normalised;
  Order order =
      internal::make_order(parameters, profile, std::move(common_name), 0, resubmitted_from);
  return issue_order(std::move(order), normalised, nullptr, false);
}

Result<CertificateRecord> CertificateService::certificate_by_id(std::uint64_t id) {
  SIGNET_ASSIGN_OR_RETURN(auto found, stores_.inventory.find_certificate_by_id(id));
  if (!found) {
    return Error(ErrorCode::kNotFound, "there is no certificate with id " + std::to_string(id));
  }
  return std::move(*found);
}

namespace {

// What renew and rekey need of the certificate they replace.
Result<void> check_replaceable(const CertificateRecord& record, std::string_view what) {
  const std::string name = "certificate " + record.serial.to_hex();
  if (record.source != CertificateSource::kManaged || record.ca_name.empty()) {
    return Error(ErrorCode::kInvalidArgument,
                 name + " was imported, not issued here: only managed certificates can be " +
                     std::string(what));
  }
  if (record.is_ca) {
    return Error(ErrorCode::kInvalidArgument,
                 name + " is a CA certificate: use 'signet ca renew' for CAs");
  }
  if (record.profile.empty()) {
    return Error(ErrorCode::kInvalidArgument,
                 name + " is not bound to an RA profile and cannot be " + std::string(what));
  }
  if (record.successor_id != 0) {
    return Error(ErrorCode::kConflict, name + " was already replaced (by certificate id " +
                                           std::to_string(record.successor_id) +
                                           "); only the newest certificate of a line can be " +
                                           std::string(what));
  }
  return base::ok();
}

}  // namespace

Result<OrderResult> CertificateService::renew(const RenewRequest& request,
                                              std::uint64_t resubmitted_from) {
  SIGNET_ASSIGN_OR_RETURN(auto previous, certificate_by_id(request.certificate_id));
  SIGNET_TRY(check_replaceable(previous, "renewed"));
  if (previous.revocation) {
    return Error(ErrorCode::kInvalidArgument,
                 "certificate " + previous.serial.to_hex() + " is revoked and cannot be renewed");
  }
  SIGNET_ASSIGN_OR_RETURN(auto profile, resolve_profile({previous.profile, previous.ca_name}));
  IssueRequest issue;
  issue.profile = {profile.name, profile.ca_name};
  issue.validity_days = request.validity_days;
  if (request.csr) {
    issue.key.kind = KeySourceKind::kCsr;
    issue.key.csr = *request.csr;
  } else {
    issue.key.kind = KeySourceKind::kReuse;
  }
  internal::OrderParameters parameters;
  parameters.kind = OrderKind::kRenew;
  parameters.issue = issue;
  parameters.certificate_id = previous.id;
  Order order = internal::make_order(parameters, profile, previous.common_name, previous.id,
                                     resubmitted_from);
  return issue_order(std::move(order), issue, &previous, false);
}

Result<OrderResult> CertificateService::rekey(const RekeyRequest& request,
                                              std::uint64_t resubmitted_from) {
  SIGNET_ASSIGN_OR_RETURN(auto previous, certificate_by_id(request.certificate_id));
  const char* verb = request.as_reissue ? "reissued" : "rekeyed";
  SIGNET_TRY(check_replaceable(previous, verb));
  if (request.revoke_previous && previous.revocation) {
    return Error(ErrorCode::kConflict, "certificate " + previous.serial.to_hex() +
                                           " is already revoked; rekey without --revoke-previous");
  }
  if (request.key.kind == KeySourceKind::kReuse || request.key.kind == KeySourceKind::kNone) {
    return Error(ErrorCode::kInvalidArgument,
                 std::string("a certificate is ") + verb +
                     " with a different key: give a CSR, a key on a token, a key generated on a "
                     "token, or a local key (to keep the key, renew instead)");
  }
  SIGNET_ASSIGN_OR_RETURN(auto profile, resolve_profile({previous.profile, previous.ca_name}));
  IssueRequest issue;
  issue.profile = {profile.name, profile.ca_name};
  issue.key = request.key;
  issue.validity_days = request.validity_days;
  issue.lifetime = request.lifetime;
  issue.pfx_profile = request.pfx_profile;
  internal::OrderParameters parameters;
  parameters.kind = request.as_reissue ? OrderKind::kReissue : OrderKind::kRekey;
  parameters.issue = issue;
  parameters.certificate_id = previous.id;
  parameters.revoke_previous = request.revoke_previous;
  Order order = internal::make_order(parameters, profile, previous.common_name, previous.id,
                                     resubmitted_from);
  return issue_order(std::move(order), issue, &previous, request.revoke_previous);
}

Result<Order> CertificateService::begin_order(Order order, std::string submitted_action) {
  // Recorded as `processing` at once: this call executes the order right away, so it never
  // waits in `pending` (the state of an order queued for later, e.g. until a card is
  // inserted). One durable commit fewer per issuance than recording both states.
  order.status = OrderStatus::kProcessing;
  order.created_at = order.updated_at = clock_.now();
  order.requested_by = actor_;
  order.worker = worker_;
  json detail = {{"kind", std::string(to_string(order.kind))},
                 {"ca", order.ca_name},
                 {"profile", order.profile},
                 {"common_name", order.common_name},
                 {"key_source", std::string(to_string(order.key_source))}};
  if (order.target_certificate_id != 0) detail["certificate_id"] = order.target_certificate_id;
  if (order.resubmitted_from != 0) detail["resubmitted_from"] = order.resubmitted_from;
  std::vector<AuditEvent> events;
  events.push_back(make_event(std::move(submitted_action),
                              "profile:" + order.ca_name + "/" + order.profile, detail.dump()));
  SIGNET_ASSIGN_OR_RETURN(order.id, stores_.orders.create_order(order, std::move(events)));
  order.revision = 1;
  return order;
}

Error CertificateService::fail_order(Order& order, Error error, std::vector<AuditEvent> events) {
  json detail = {{"kind", std::string(to_string(order.kind))},
                 {"common_name", order.common_name},
                 {"error", error.describe()}};
  if (!order.generated_key && order.key_source == KeySourceKind::kKeyOnToken && order.id != 0) {
    // A process killed between C_GenerateKeyPair and recording the key left it unrecorded:
    // find it by the label it was given (unique per store: the order id is in it).
    if (auto found = keys_.find_key_by_uri("pkcs11:object=" + generated_key_label(order.id) +
                                           ";type=private")) {
      order.generated_key = (*found)->key_ref();
    }
  }
  if (order.generated_key) {
    // The key pair this order made on a token would otherwise stay there, referenced by
    // nothing.
    auto destroyed = keys_.destroy_key(*order.generated_key);
    detail["generated_key"] = order.generated_key->to_uri();
    detail["generated_key_deleted"] = static_cast<bool>(destroyed);
  }
  order.status = OrderStatus::kFailed;
  order.error_code = std::string(base::to_string(error.code()));
  order.error_message = error.describe();
  order.completed_at = order.updated_at = clock_.now();
  const std::string object = "order:" + std::to_string(order.id);
  events.push_back(make_event("order.failed", object, detail.dump()));
  Alert alert;
  alert.raised_at = clock_.now();
  alert.kind = "order.failed";
  alert.object = object;
  alert.dedupe_key = object;
  alert.message = "order " + std::to_string(order.id) + " (" + std::string(to_string(order.kind)) +
                  (order.common_name.empty() ? "" : " " + order.common_name) +
                  ") failed: " + error.describe();
  if (auto updated = stores_.orders.update_order(order, std::move(events), std::move(alert));
      updated) {
    order.revision = *updated;
  } else {
    error.with_context("(recording the failure also failed: " + updated.error().describe() + ")");
  }
  return std::move(error).with_context("order " + std::to_string(order.id));
}

Result<OrderResult> CertificateService::issue_order(Order order, const IssueRequest& request,
                                                    const CertificateRecord* predecessor,
                                                    bool revoke_previous) {
  SIGNET_ASSIGN_OR_RETURN(auto profile, resolve_profile(request.profile));
  const bool from_csr = request.key.kind == KeySourceKind::kCsr;
  SIGNET_ASSIGN_OR_RETURN(
      order, begin_order(std::move(order), from_csr ? "certificate.request_csr.submitted"
                                                    : "certificate.request_automated.submitted"));
  Work work{
      std::move(order), request, std::move(profile), predecessor, revoke_previous, {}, {}, {}};
  auto result = execute(work);
  if (!result) {
    return fail_order(work.order, std::move(result).error(), std::move(work.failure_events));
  }
  return result;
}

Result<CertificateService::SubjectKey> CertificateService::obtain_subject_key(Work& work) {
  const IssueRequest& request = work.request;
  const CertificateRecord* previous = work.predecessor;
  SubjectKey out;

  // The subject data: the replaced certificate's, or the request's.
  auto take_subject = [&]() -> Result<void> {
    if (previous != nullptr) {
      SIGNET_ASSIGN_OR_RETURN(auto certificate, pki::Certificate::from_der(previous->der));
      out.subject_der = certificate.subject_der();
      out.subject_alt_names = previous->subject_alt_names;
      return base::ok();
    }
    if (request.subject.empty() && request.subject_alt_names.empty()) {
      return Error(ErrorCode::kInvalidArgument,
                   "give the certificate's subject (a DN) and/or subject alternative names");
    }
    if (request.subject.empty()) {
      out.subject_der = kEmptyName;
    } else {
      SIGNET_ASSIGN_OR_RETURN(out.subject_der, pki::parse_distinguished_name(request.subject));
    }
    out.subject_alt_names = request.subject_alt_names;
    return base::ok();
  };
  // Proof of possession for a key we reach but do not hold: a CSR signed with it on the token.
  auto sign_request_with = [&](const base::Signer& signer) -> Result<void> {
    SIGNET_TRY(take_subject());
    SIGNET_ASSIGN_OR_RETURN(auto sans, parse_sans(out.subject_alt_names));
    SIGNET_ASSIGN_OR_RETURN(auto csr_der, pki::build_csr(out.subject_der, sans, signer));
    SIGNET_ASSIGN_OR_RETURN(auto csr, pki::Csr::parse(csr_der));
    if (auto verified = csr.verify_signature(); !verified) {
      return std::move(verified).error().with_context(
          "the request signed with the key on the token does not verify");
    }
    out.public_key_der = signer.public_key_der();
    out.key_location = signer.key_ref();
    return base::ok();
  };
  auto choose_algorithm = [&]() -> Result<base::KeyAlgorithm> {
    const auto& allowed = work.profile.key_algorithms.allowed;
    const base::KeyAlgorithm algorithm =
        request.key.algorithm.value_or(allowed.empty() ? base::KeyAlgorithm::kEcP256 : allowed[0]);
    // Refuse before a key is made, when the profile would refuse it anyway.
    if (!allowed.empty() && work.profile.key_algorithms.mode == RuleMode::kHardFail &&
        std::find(allowed.begin(), allowed.end(), algorithm) == allowed.end()) {
      std::string names;
      for (auto a : allowed) names += (names.empty() ? "" : ", ") + std::string(base::to_string(a));
      PolicyFinding finding{"key_algorithms",
                            std::string(base::to_string(algorithm)) +
                                " is not allowed by profile " + work.profile.qualified_name() +
                                " (allowed: " + names + ")",
                            RuleMode::kHardFail};
      ProfileDecision refused;
      refused.hard_failures.push_back(finding);
      json detail = {{"profile", work.profile.qualified_name()},
                     {"order", work.order.id},
                     {"findings", findings_json(refused.hard_failures)}};
      work.failure_events.push_back(make_event(
          "certificate.policy_hard_fail", "order:" + std::to_string(work.order.id), detail.dump()));
      return refused.to_error(work.profile);
    }
    return algorithm;
  };

  switch (request.key.kind) {
    case KeySourceKind::kCsr: {
      auto csr = pki::Csr::parse(request.key.csr);
      if (!csr) return std::move(csr).error().with_context("reading the certificate request");
      // Proof of possession: the requester holds the key it asks us to certify.
      SIGNET_TRY(csr->verify_signature());
      out.public_key_der = csr->public_key_der();
      if (previous != nullptr) {  // a renewal with a new key: the subject stays
        SIGNET_TRY(take_subject());
        return out;
      }
      out.subject_der = csr->subject_der();
      SIGNET_ASSIGN_OR_RETURN(auto sans, csr->requested_subject_alt_names());
      for (const auto& name : sans) out.subject_alt_names.push_back(name.to_string());
      return out;
    }
    case KeySourceKind::kReuse: {
      if (previous == nullptr) {
        return Error(ErrorCode::kInvalidArgument, "only a renewal reuses a certificate's key");
      }
      SIGNET_ASSIGN_OR_RETURN(auto certificate, pki::Certificate::from_der(previous->der));
      out.public_key_der = certificate.public_key_der();
      out.key_location = previous->key_location;
      out.wrapped_key = previous->wrapped_key;
      SIGNET_TRY(take_subject());
      return out;
    }
    case KeySourceKind::kTokenKey: {
      auto signer = keys_.find_key_by_uri(request.key.key_uri);
      if (!signer) return std::move(signer).error().with_context("finding the key to certify");
      SIGNET_TRY(refuse_appliance_key(stores_.cas, **signer));
      SIGNET_TRY(sign_request_with(**signer));
      return out;
    }
    case KeySourceKind::kKeyOnToken: {
      SIGNET_ASSIGN_OR_RETURN(auto algorithm, choose_algorithm());
      SIGNET_TRY(take_subject());  // a bad subject is refused before a key is made
      SIGNET_TRY(keys_.check_room(request.key.token));
      base::KeyGenerationRequest generation;
      generation.token = request.key.token;
      generation.algorithm = algorithm;
      generation.label = generated_key_label(work.order.id);
      auto signer = keys_.generate_key(generation);
      if (!signer) return std::move(signer).error().with_context("generating the key on the token");
      // Recorded at once, so that a process killed from here on leaves a trace to clean up.
      work.order.generated_key = (*signer)->key_ref();
      SIGNET_ASSIGN_OR_RETURN(work.order.revision,
                              stores_.orders.update_order(work.order, {}, std::nullopt));
      SIGNET_TRY(sign_request_with(**signer));
      return out;
    }
    case KeySourceKind::kLocalKey: {
      SIGNET_ASSIGN_OR_RETURN(auto algorithm, choose_algorithm());
      SIGNET_TRY(take_subject());
      SIGNET_ASSIGN_OR_RETURN(auto key, pki::SoftwareKey::generate(algorithm));
      SIGNET_ASSIGN_OR_RETURN(auto pkcs8, key->to_pkcs8());
      auto wrapped = keys_.wrap_secret(request.key.token, pkcs8.view());
      if (!wrapped) {
        return std::move(wrapped).error().with_context(
            "wrapping the local key under the token's key-encryption key");
      }
      out.public_key_der = key->public_key_der();
      out.wrapped_key = std::move(*wrapped);
      out.local_pkcs8 = std::move(pkcs8);
      return out;
    }
    case KeySourceKind::kNone:
      break;
  }
  return Error(ErrorCode::kInvalidArgument, "the request names no key source");
}

Result<OrderResult> CertificateService::execute(Work& work) {
  SIGNET_ASSIGN_OR_RETURN(auto key, obtain_subject_key(work));
  const bool new_key =
      work.order.kind == OrderKind::kRekey || work.order.kind == OrderKind::kReissue;
  if (new_key && work.predecessor != nullptr) {
    SIGNET_ASSIGN_OR_RETURN(auto previous, pki::Certificate::from_der(work.predecessor->der));
    if (previous.public_key_der() == key.public_key_der) {
      return Error(ErrorCode::kInvalidArgument,
                   "the new key is the key of certificate " + work.predecessor->serial.to_hex() +
                       ": a rekey needs a different key (to keep the key, renew instead)");
    }
  }

  ProfileRequest profile_request{key.public_key_der, key.subject_der, key.subject_alt_names,
                                 work.request.validity_days};
  SIGNET_ASSIGN_OR_RETURN(auto decision, apply_profile(work.profile, profile_request));
  const std::string order_object = "order:" + std::to_string(work.order.id);
  std::vector<AuditEvent> events;
  if (!decision.soft_failures.empty()) {
    for (const auto& f : decision.soft_failures) {
      work.order.warnings.push_back(f.rule + ": " + f.message);
    }
    json detail = {{"profile", work.profile.qualified_name()},
                   {"order", work.order.id},
                   {"findings", findings_json(decision.soft_failures)}};
    auto event = make_event("certificate.policy_soft_fail", order_object, detail.dump());
    events.push_back(event);
    work.failure_events.push_back(std::move(event));  // the warning stands if the order fails
  }
  if (decision.refused()) {
    json detail = {{"profile", work.profile.qualified_name()},
                   {"order", work.order.id},
                   {"findings", findings_json(decision.hard_failures)}};
    work.failure_events.push_back(
        make_event("certificate.policy_hard_fail", order_object, detail.dump()));
    return decision.to_error(work.profile);
  }

  work.plan.ca_name = work.profile.ca_name;
  work.plan.subject_der = decision.subject_der;
  work.plan.public_key_der = key.public_key_der;
  work.plan.subject_alt_names = decision.subject_alt_names;
  work.plan.validity_days = decision.validity_days;
  work.plan.lifetime = work.request.lifetime;
  work.plan.key_usage = decision.key_usage;
  work.plan.extended_key_usage = decision.extended_key_usage;
  SIGNET_ASSIGN_OR_RETURN(auto record, authority_.sign_planned(work.plan, &work.chain));
  record.key_location = key.key_location;
  record.wrapped_key = key.wrapped_key;

  OrderResult result;
  if (key.local_pkcs8) {
    // The one delivery of the local key: built before the commit, so that a failure leaves
    // nothing behind; the password exists only in this result.
    SIGNET_ASSIGN_OR_RETURN(auto password, pki::random_pfx_password());
    SIGNET_ASSIGN_OR_RETURN(
        auto pfx, pki::build_pfx(record.der, work.chain, key.local_pkcs8->view(), password.view(),
                                 work.request.pfx_profile, record.common_name));
    result.local_key =
        LocalKeyDelivery{std::move(pfx), std::move(password), work.request.pfx_profile};
    json detail = {{"order", work.order.id},
                   {"pfx_profile", std::string(pki::to_string(work.request.pfx_profile))}};
    events.push_back(make_event("certificate.download_pfx.success",
                                "order:" + std::to_string(work.order.id), detail.dump()));
  }
  if (before_commit_) SIGNET_TRY(before_commit_(record, work.chain));
  SIGNET_TRY(commit_issuance(work, record, std::move(events)));
  result.order = work.order;
  result.certificate = std::move(record);
  result.chain = std::move(work.chain);
  return result;
}

Result<std::uint64_t> CertificateService::commit_issuance(Work& work, CertificateRecord& record,
                                                          std::vector<AuditEvent> events) {
  for (int attempt = 0;; ++attempt) {
    record.profile = work.profile.name;
    record.profile_version = work.profile.version;
    record.order_id = work.order.id;
    record.predecessor_id = work.predecessor ? work.predecessor->id : 0;

    CertificateCommit commit;
    json detail = {{"ca", record.ca_name},
                   {"serial", record.serial.to_hex()},
                   {"subject", record.subject},
                   {"profile", work.profile.qualified_name()},
                   {"order", work.order.id},
                   {"fingerprint_sha256", base::to_hex(record.fingerprint_sha256)}};
    if (work.predecessor) detail["predecessor_serial"] = work.predecessor->serial.to_hex();
    if (record.key_location) detail["key"] = record.key_location->to_uri();
    commit.events = events;
    commit.events.push_back(make_event(std::string(issued_action(work.order.kind)),
                                       certificate_object(record), detail.dump()));
    if (work.predecessor && work.revoke_previous) {
      Revocation revocation;
      revocation.revoked_at = now();
      revocation.reason = static_cast<int>(RevocationReason::kSuperseded);
      commit.revoke_predecessor = revocation;
      json revoked = {{"reason", "superseded"},
                      {"order", work.order.id},
                      {"successor_serial", record.serial.to_hex()}};
      commit.events.push_back(
          make_event("certificate.revoked", certificate_object(*work.predecessor), revoked.dump()));
    }
    // Renewal keeps a revoked certificate from coming back; a rekey may replace a revoked one
    // (the usual answer to a compromised key) unless it revokes it too.
    commit.predecessor_must_be_unrevoked =
        work.order.kind == OrderKind::kRenew || work.revoke_previous;
    Order done = work.order;
    done.status = OrderStatus::kComplete;
    done.completed_at = done.updated_at = clock_.now();
    commit.order = done;
    commit.record = record;

    auto id = stores_.inventory.commit_certificate_async(std::move(commit)).get();
    if (id) {
      record.id = *id;
      work.order = std::move(done);
      work.order.certificate_id = *id;
      ++work.order.revision;
      return id;
    }
    const bool collision = id.error().code() == ErrorCode::kAlreadyExists &&
                           id.error().message().find("serial") != std::string::npos;
    if (!collision) return std::move(id).error().with_context("recording the certificate");
    if (attempt + 1 >= kSerialCollisionRetries) {
      return Error(ErrorCode::kInternal,
                   "serial numbers collided repeatedly; the random source is suspect and "
                   "issuance was stopped");
    }
    // A serial collision (astronomically rare with 128 random bits): the certificate is
    // discarded unseen, the discard audited, and the plan signed again with a fresh serial.
    json discarded = {{"ca", record.ca_name},
                      {"serial", record.serial.to_hex()},
                      {"reason", "serial number already used by this CA"}};
    SIGNET_TRY(stores_.audit.append_audit(
        make_event("certificate.discarded", "ca:" + record.ca_name, discarded.dump())));
    auto location = record.key_location;
    auto wrapped = record.wrapped_key;
    SIGNET_ASSIGN_OR_RETURN(record, authority_.sign_planned(work.plan, &work.chain));
    record.key_location = std::move(location);
    record.wrapped_key = std::move(wrapped);
  }
}

}  // namespace signet::ca
