// Authority: CA renewal (same key) and rollover (new key), and choosing the right CA
// certificate for a chain when a CA has had several.
#include <nlohmann/json.hpp>

#include "ca/authority.h"
#include "ca/internal/issuing_ca.h"
#include "pki/csr.h"

namespace signet::ca {

using base::Error;
using base::ErrorCode;
using base::Result;

Result<CaRecord> Authority::renew_ca(const RenewCaRequest& request) {
  SIGNET_ASSIGN_OR_RETURN(CaRecord record, find_ca(request.name));
  if (record.state != CaState::kActive || record.certificate_der.empty()) {
    return Error(ErrorCode::kInvalidArgument,
                 "CA '" + record.name + "' has no certificate yet; import it before renewing");
  }
  SIGNET_ASSIGN_OR_RETURN(auto current, pki::Certificate::from_der(record.certificate_der));
  const bool rollover = request.new_key.has_value();
  const bool root = record.parent.empty() && !record.external_parent;
  const int days = request.validity_days.value_or(root ? kDefaultRootValidityDays
                                                       : kDefaultIntermediateValidityDays);
  if (days < 1 || days > kMaxValidityDays) {
    return Error(ErrorCode::kInvalidArgument,
                 "validity of " + std::to_string(days) + " days is out of range (1 to 36500)");
  }
  if (record.external_parent && rollover) {
    return Error(ErrorCode::kNotSupported,
                 "CA '" + record.name +
                     "' is signed by an external root: a new key needs a new CA (create one "
                     "with --external and have the root sign its CSR)");
  }

  // The key: the CA's own, or a new one on the token.
  std::shared_ptr<base::Signer> key;
  if (rollover) {
    base::KeyGenerationRequest generation;
    generation.token = request.token.empty() ? record.key.token_serial : request.token;
    generation.algorithm = *request.new_key;
    generation.label = "signet-ca-" + record.name;
    auto generated = keys_.generate_key(generation);
    if (!generated) {
      return std::move(generated).error().with_context("generating the new key of CA '" +
                                                       record.name + "'");
    }
    key = std::move(*generated);
  } else {
    auto found = keys_.find_key(record.key);
    if (!found) {
      return std::move(found).error().with_context("finding the key of CA '" + record.name + "'");
    }
    key = std::move(*found);
  }
  auto fail = [&](Error error) -> Error {
    if (rollover) (void)keys_.destroy_key(key->key_ref());
    return error;
  };

  nlohmann::json detail = {{"old_serial", current.serial().to_hex()},
                           {"key", key->key_ref().to_uri()},
                           {"key_algorithm", std::string(base::to_string(key->algorithm()))}};
  if (record.external_parent) {
    // The external root signs again: a fresh CSR from the same key; the CA keeps issuing
    // with its current certificate until the new one is imported.
    auto csr = pki::build_csr(current.subject_der(), {}, *key);
    if (!csr) return std::move(csr).error().with_context("building the renewal CSR");
    record.pending_csr_der = std::move(*csr);
    detail["pending_csr"] = true;
    SIGNET_TRY(cas_.update_ca(
        record, make_event("ca.renewal_requested", "ca:" + record.name, detail.dump())));
    ++record.revision;
    return record;
  }

  NewCaRequest shape;
  shape.name = record.name;
  shape.path_length = current.path_length();
  const auto now = now_seconds();
  auto not_after = now + std::chrono::days(days);
  std::shared_ptr<const IssuingCa> parent;
  if (!root) {
    auto found = issuing_ca(record.parent);
    if (!found) {
      return fail(std::move(found).error().with_context("using parent CA '" + record.parent + "'"));
    }
    parent = *found;
    not_after = std::min(not_after, parent->certificate.not_after());
    if (not_after <= now) {
      return fail(Error(ErrorCode::kPolicyViolation,
                        "parent CA '" + record.parent + "' has expired; renew it first"));
    }
  }
  auto serial = pki::SerialNumber::random(rng_);
  if (!serial) return fail(std::move(serial).error());
  auto der = sign_ca_certificate(parent.get(), *key, parent ? *parent->signer : *key,
                                 current.subject_der(), shape, *serial, now - kBackdate, not_after);
  if (!der) return fail(std::move(der).error());
  SIGNET_ASSIGN_OR_RETURN(auto renewed, pki::Certificate::from_der(*der));

  record.previous_certificates_der.push_back(record.certificate_der);
  record.certificate_der = *der;
  record.key = key->key_ref();
  record.key_algorithm = key->algorithm();
  detail["new_serial"] = renewed.serial().to_hex();
  const char* action = rollover ? "ca.rolled_over" : "ca.renewed";
  if (auto updated = cas_.update_ca(record, make_event(action, "ca:" + record.name, detail.dump()));
      !updated) {
    return fail(std::move(updated).error());
  }
  forget_issuing_ca(record.name);
  ++record.revision;

  SIGNET_TRY(record_ca_certificate(record, renewed, "renewed"));
  return record;
}

Result<std::vector<base::Bytes>> Authority::chain_for(std::string_view ca_name,
                                                      base::ByteView certificate_der) {
  SIGNET_ASSIGN_OR_RETURN(auto subject, pki::Certificate::from_der(certificate_der));
  std::vector<base::Bytes> chain;
  std::string current(ca_name);
  for (int depth = 0; depth < kMaxChainDepth; ++depth) {
    SIGNET_ASSIGN_OR_RETURN(CaRecord record, find_ca(current));
    // The newest of the CA's certificates whose key signed `subject`.
    std::vector<const base::Bytes*> candidates;
    if (!record.certificate_der.empty()) candidates.push_back(&record.certificate_der);
    for (auto it = record.previous_certificates_der.rbegin();
         it != record.previous_certificates_der.rend(); ++it) {
      candidates.push_back(&*it);
    }
    std::optional<pki::Certificate> issuer;
    for (const base::Bytes* der : candidates) {
      auto candidate = pki::Certificate::from_der(*der);
      if (candidate && candidate->subject_der() == subject.issuer_der() &&
          subject.verify_signed_by(*candidate)) {
        issuer = std::move(*candidate);
        break;
      }
    }
    if (!issuer) {
      return Error(ErrorCode::kNotFound, "none of the certificates of CA '" + record.name +
                                             "' signed the certificate " +
                                             subject.serial().to_hex());
    }
    chain.push_back(issuer->der());
    if (record.external_parent) {
      chain.insert(chain.end(), record.external_chain_der.begin(), record.external_chain_der.end());
      return chain;
    }
    if (record.parent.empty()) return chain;  // the root
    subject = std::move(*issuer);
    current = record.parent;
  }
  return Error(ErrorCode::kInternal,
               "the CA chain of '" + std::string(ca_name) + "' is too deep or circular");
}

}  // namespace signet::ca
