#include "crl/crl_service.h"

#include <chrono>
#include <nlohmann/json.hpp>
#include <utility>

#include "pki/certificate.h"
#include "pki/crl.h"
#include "pki/digest.h"
#include "pki/signature.h"

namespace signet::crl {

using base::Error;
using base::ErrorCode;
using base::Result;

namespace {

// Streams revoked entries into the encoder, leaving off certificates expired longer than the
// grace. The encoder is made in begin(), when the store has said how many entries may come.
class EncodingVisitor final : public ca::RevokedVisitor {
 public:
  EncodingVisitor(const pki::CrlIssuer& issuer, const pki::CrlHeader& header,
                  std::optional<base::TimePoint> drop_expired_before)
      : issuer_(issuer), header_(header), drop_expired_before_(drop_expired_before) {}

  void begin(std::uint64_t at_most) override {
    auto encoder = pki::CrlEncoder::begin(issuer_, header_, at_most);
    if (encoder) {
      encoder_.emplace(std::move(*encoder));
    } else {
      failure_ = std::move(encoder).error();
    }
  }

  Result<void> visit(const ca::RevokedEntry& entry) override {
    if (!encoder_) return failure();
    if (drop_expired_before_ && entry.not_after < *drop_expired_before_) {
      ++dropped_;
      return base::ok();
    }
    return encoder_->add({entry.serial, entry.revoked_at, entry.reason, entry.invalidity_date});
  }

  // The encoder; made now when the store visited nothing and so never called begin().
  Result<pki::CrlEncoder*> encoder() {
    if (!encoder_ && !failure_) begin(0);
    if (!encoder_) return failure();
    return &*encoder_;
  }
  std::uint64_t dropped() const { return dropped_; }

 private:
  Error failure() const {
    return failure_ ? *failure_ : Error(ErrorCode::kInternal, "the CRL encoder was not started");
  }

  pki::CrlIssuer issuer_;
  pki::CrlHeader header_;
  std::optional<base::TimePoint> drop_expired_before_;
  std::optional<pki::CrlEncoder> encoder_;
  std::optional<Error> failure_;
  std::uint64_t dropped_ = 0;
};

}  // namespace

CrlService::CrlService(CrlStores stores, base::KeyProvider& keys, const base::Clock& clock,
                       std::string actor)
    : stores_(stores), keys_(keys), clock_(clock), actor_(std::move(actor)) {}

Result<ca::CrlRecord> CrlService::generate_full(std::string_view ca_name) {
  return generate(ca_name, ca::CrlKind::kFull);
}

Result<ca::CrlRecord> CrlService::generate_delta(std::string_view ca_name) {
  return generate(ca_name, ca::CrlKind::kDelta);
}

Result<ca::CrlRecord> CrlService::latest(std::string_view ca_name, ca::CrlKind kind) {
  SIGNET_ASSIGN_OR_RETURN(auto crl, stores_.crls.latest_crl(ca_name, kind));
  if (!crl) {
    return Error(ErrorCode::kNotFound, "CA '" + std::string(ca_name) + "' has no " +
                                           std::string(ca::to_string(kind)) +
                                           " CRL yet; generate one with 'signet crl generate'");
  }
  return std::move(*crl);
}

Result<ca::CrlRecord> CrlService::find(std::string_view ca_name, std::uint64_t number) {
  SIGNET_ASSIGN_OR_RETURN(auto crl, stores_.crls.find_crl(ca_name, number));
  if (!crl) {
    return Error(ErrorCode::kNotFound, "CA '" + std::string(ca_name) + "' has no CRL number " +
                                           std::to_string(number) +
                                           " (never issued, or pruned from the history)");
  }
  return std::move(*crl);
}

Result<ca::CrlRecord> CrlService::generate(std::string_view ca_name, ca::CrlKind kind) {
  const std::string name(ca_name);
  SIGNET_ASSIGN_OR_RETURN(auto found, stores_.cas.find_ca(name));
  if (!found) return Error(ErrorCode::kNotFound, "no CA named '" + name + "'");
  const ca::CaRecord& ca = *found;
  if (ca.certificate_der.empty()) {
    return Error(ErrorCode::kInvalidArgument,
                 "CA '" + name + "' has no certificate yet, so it cannot sign a CRL");
  }
  const auto& settings = ca.settings;
  std::optional<ca::CrlRecord> base;
  if (kind == ca::CrlKind::kDelta) {
    if (!settings.delta_crls) {
      return Error(ErrorCode::kPolicyViolation,
                   "CA '" + name +
                       "' does not publish delta CRLs; enable them with "
                       "'signet ca set " +
                       name + " --delta-crls on'");
    }
    SIGNET_ASSIGN_OR_RETURN(base, stores_.crls.latest_crl_info(name, ca::CrlKind::kFull));
    if (!base) {
      return Error(ErrorCode::kNotFound, "CA '" + name +
                                             "' has no full CRL for a delta to build on; "
                                             "generate one first");
    }
  }

  SIGNET_ASSIGN_OR_RETURN(auto certificate, pki::Certificate::from_der(ca.certificate_der));
  auto signer = keys_.find_key(ca.key);
  if (!signer) {
    return std::move(signer).error().with_context("the key of CA '" + name + "'");
  }
  pki::CrlIssuer issuer;
  issuer.key_algorithm = (*signer)->algorithm();
  issuer.digest = (*signer)->digest();
  issuer.issuer_name_der = certificate.subject_der();
  issuer.authority_key_identifier = certificate.subject_key_identifier();
  if (issuer.authority_key_identifier.empty()) {
    SIGNET_ASSIGN_OR_RETURN(issuer.authority_key_identifier,
                            pki::key_identifier(certificate.public_key_der()));
  }

  const auto now = std::chrono::time_point_cast<std::chrono::seconds>(clock_.now());
  pki::CrlHeader header;
  header.this_update = now;
  header.next_update = kind == ca::CrlKind::kFull
                           ? now + std::chrono::hours(settings.crl_validity_hours)
                           : now + std::chrono::minutes(settings.delta_crl_validity_minutes);
  if (kind == ca::CrlKind::kDelta) {
    header.delta_base = base->number;
  } else if (settings.delta_crls) {
    header.freshest_crl_url = ca::delta_crl_url(ca);
  }
  std::optional<base::TimePoint> drop_expired_before;
  if (settings.crl_expired_grace_days >= 0) {
    drop_expired_before = now - std::chrono::days(settings.crl_expired_grace_days);
  }
  // Reserved (durably) before anything is signed: a CRL that dies with the process leaves a
  // gap in the numbers, never a number used twice.
  SIGNET_ASSIGN_OR_RETURN(header.number, stores_.crls.reserve_crl_number(name));

  EncodingVisitor visitor(issuer, header, drop_expired_before);
  auto scan = kind == ca::CrlKind::kFull
                  ? stores_.inventory.scan_revoked(name, visitor)
                  : stores_.inventory.scan_revoked_since(name, base->revocation_sequence, visitor);
  if (!scan) {
    return std::move(scan).error().with_context("reading the revocations of CA '" + name + "'");
  }
  SIGNET_ASSIGN_OR_RETURN(auto* encoder, visitor.encoder());
  const std::uint64_t entries = encoder->entries();
  SIGNET_ASSIGN_OR_RETURN(base::ByteView tbs, encoder->tbs());
  auto signature = (*signer)->sign(tbs);
  if (!signature) {
    return std::move(signature).error().with_context(
        "signing CRL " + std::to_string(header.number) + " of CA '" + name + "' on its token");
  }
  auto verified =
      pki::verify_signature(certificate.public_key_der(), issuer.digest, tbs, *signature);
  if (!verified) {
    return std::move(verified).error().with_context(
        "the token's signature on CRL " + std::to_string(header.number) + " of CA '" + name +
        "' does not verify with the CA certificate; the CRL was not stored");
  }

  ca::CrlRecord record;
  record.ca_name = name;
  record.number = header.number;
  record.kind = kind;
  record.base_number = base ? base->number : 0;
  record.this_update = header.this_update;
  record.next_update = header.next_update;
  record.revocation_sequence = scan->revocation_sequence;
  record.entries = entries;
  SIGNET_ASSIGN_OR_RETURN(record.der, encoder->finish(*signature));
  record.der_size = record.der.size();

  nlohmann::json detail = {{"ca", name},
                           {"number", record.number},
                           {"kind", ca::to_string(kind)},
                           {"entries", entries},
                           {"expired_entries_left_off", visitor.dropped()},
                           {"this_update", base::to_unix_seconds(record.this_update)},
                           {"next_update", base::to_unix_seconds(record.next_update)},
                           {"revocation_sequence", record.revocation_sequence},
                           {"size", record.der_size}};
  if (base) detail["base_number"] = base->number;
  auto event =
      ca::make_audit_event(clock_.now(), actor_, "crl.generated",
                           "crl:" + name + "/" + std::to_string(record.number), detail.dump());
  const auto keep = static_cast<std::size_t>(std::max(1, settings.crl_history));
  SIGNET_TRY(stores_.crls.store_crl(record, std::move(event), keep));
  return record;
}

}  // namespace signet::crl
