#include "ca/audit_checkpoint.h"

#include <cctype>
#include <chrono>
#include <nlohmann/json.hpp>

#include "ca/audit.h"
#include "pki/signature.h"

namespace signet::ca {

namespace {

using base::Error;
using base::ErrorCode;

void append_be64(base::Bytes& out, std::uint64_t value) {
  for (int i = 7; i >= 0; --i) out.push_back(static_cast<std::uint8_t>(value >> (8 * i)));
}

std::int64_t unix_seconds(base::TimePoint t) {
  return std::chrono::floor<std::chrono::seconds>(t.time_since_epoch()).count();
}

// RFC 7512 §2.3: a path attribute value, percent-encoded outside the unreserved set.
std::string uri_value(std::string_view text) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : text) {
    if (std::isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~') {
      out.push_back(static_cast<char>(c));
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 0x0f];
    }
  }
  return out;
}

}  // namespace

base::Bytes checkpoint_message(std::uint64_t sequence, base::ByteView head,
                               base::TimePoint signed_at) {
  base::Bytes message(kCheckpointDomain.begin(), kCheckpointDomain.end());
  message.reserve(kCheckpointDomain.size() + 8 + head.size() + 8);
  append_be64(message, sequence);
  message.insert(message.end(), head.begin(), head.end());
  append_be64(message, static_cast<std::uint64_t>(unix_seconds(signed_at)));
  return message;
}

base::Result<void> verify_checkpoint_signature(const AuditCheckpoint& checkpoint,
                                               base::ByteView trusted_spki) {
  if (checkpoint.head.size() != kAuditHashSize) {
    return Error(ErrorCode::kVerificationFailed,
                 "the checkpoint at sequence " + std::to_string(checkpoint.sequence) +
                     " has a head of " + std::to_string(checkpoint.head.size()) + " bytes, not 32");
  }
  const auto message =
      checkpoint_message(checkpoint.sequence, checkpoint.head, checkpoint.signed_at);
  return pki::verify_signature(trusted_spki, base::default_digest(checkpoint.algorithm), message,
                               checkpoint.signature);
}

AuditCheckpointer::AuditCheckpointer(base::KeyProvider& keys, AuditSink& audit,
                                     AuditCheckpointLog& checkpoints, const base::Clock& clock,
                                     Options options)
    : keys_(keys),
      audit_(audit),
      checkpoints_(checkpoints),
      clock_(clock),
      options_(std::move(options)) {}

base::Result<std::shared_ptr<base::Signer>> AuditCheckpointer::audit_key(bool create) {
  std::lock_guard lock(mutex_);
  if (signer_) return signer_;
  const std::string object = "object=" + uri_value(kAuditKeyLabel) + ";type=private";
  // The token is named by label or by serial.
  auto found = keys_.find_key_by_uri(
      options_.token.empty() ? "pkcs11:" + object
                             : "pkcs11:token=" + uri_value(options_.token) + ";" + object);
  if (!found && found.error().code() == ErrorCode::kNotFound && !options_.token.empty()) {
    found = keys_.find_key_by_uri("pkcs11:serial=" + uri_value(options_.token) + ";" + object);
  }
  if (found) {
    signer_ = std::move(*found);
    return signer_;
  }
  if (found.error().code() != ErrorCode::kNotFound || !create) {
    return std::move(found).error().with_context("finding the audit key '" +
                                                 std::string(kAuditKeyLabel) + "'");
  }
  base::KeyGenerationRequest request;
  request.token = options_.token;
  request.algorithm = options_.algorithm;
  request.label = std::string(kAuditKeyLabel);
  auto generated = keys_.generate_key(request);
  if (!generated) {
    return std::move(generated).error().with_context("generating the audit key");
  }
  signer_ = std::move(*generated);
  return signer_;
}

base::Result<AuditKeyRotation> AuditCheckpointer::rotate_key(const std::string& actor,
                                                             const Relabel& relabel) {
  SIGNET_ASSIGN_OR_RETURN(auto old, audit_key(false));
  std::lock_guard lock(mutex_);
  AuditKeyRotation rotation;
  rotation.retired = old->key_ref();
  rotation.retired_public_key = old->public_key_der();
  rotation.retired_label =
      std::string(kRetiredAuditKeyPrefix) + std::to_string(unix_seconds(clock_.now()));
  SIGNET_TRY(relabel(rotation.retired, rotation.retired_label));
  base::KeyGenerationRequest request;
  request.token = options_.token;
  request.algorithm = old->algorithm();
  request.label = std::string(kAuditKeyLabel);
  auto generated = keys_.generate_key(request);
  if (!generated) {
    // Put the old key back, so that the appliance keeps an audit key.
    (void)relabel(rotation.retired, kAuditKeyLabel);
    return std::move(generated).error().with_context("generating the new audit key");
  }
  signer_ = std::move(*generated);
  rotation.current = signer_;
  rotation.retired.object_label = rotation.retired_label;
  const nlohmann::json detail = {
      {"retired", rotation.retired.to_uri()},
      {"retired_label", rotation.retired_label},
      {"retired_public_key", base::to_base64(rotation.retired_public_key)},
      {"key", signer_->key_ref().to_uri()},
      {"public_key", base::to_base64(signer_->public_key_der())}};
  SIGNET_TRY(audit_.append_audit(
      make_audit_event(clock_.now(), actor, std::string(kKeyRotatedAction), "audit:key",
                       detail.dump())));
  return rotation;
}

base::Result<std::optional<AuditCheckpoint>> AuditCheckpointer::checkpoint(const std::string& actor,
                                                                           bool only_if_new) {
  SIGNET_ASSIGN_OR_RETURN(auto signer, audit_key(true));
  std::lock_guard lock(mutex_);
  SIGNET_ASSIGN_OR_RETURN(auto head, checkpoints_.last_audit_event());
  if (!head) {
    return Error(ErrorCode::kInvalidArgument, "the audit log is empty: there is nothing to sign");
  }
  if (only_if_new) {
    SIGNET_ASSIGN_OR_RETURN(auto latest, checkpoints_.latest_checkpoint());
    if (latest && (head->sequence == latest->sequence ||
                   (head->sequence == latest->sequence + 1 && head->action == kCheckpointAction))) {
      return std::optional<AuditCheckpoint>();
    }
  }
  AuditCheckpoint checkpoint;
  checkpoint.sequence = head->sequence;
  checkpoint.head = head->hash;
  checkpoint.signed_at = std::chrono::floor<std::chrono::seconds>(clock_.now());
  checkpoint.key = signer->key_ref();
  checkpoint.public_key_der = signer->public_key_der();
  checkpoint.algorithm = signer->algorithm();
  const auto message =
      checkpoint_message(checkpoint.sequence, checkpoint.head, checkpoint.signed_at);
  SIGNET_ASSIGN_OR_RETURN(checkpoint.signature, signer->sign(message));
  // A token that returns a wrong signature must not leave it in the log.
  auto verified = verify_checkpoint_signature(checkpoint, checkpoint.public_key_der);
  if (!verified) return std::move(verified).error().with_context("checking the new checkpoint");
  const nlohmann::json detail = {{"sequence", checkpoint.sequence},
                                 {"head", base::to_hex(checkpoint.head)},
                                 {"key", checkpoint.key.to_uri()}};
  auto event =
      make_audit_event(clock_.now(), actor, std::string(kCheckpointAction),
                       "audit:checkpoint:" + std::to_string(checkpoint.sequence), detail.dump());
  SIGNET_TRY(checkpoints_.append_checkpoint(checkpoint, std::move(event)));
  return std::optional<AuditCheckpoint>(std::move(checkpoint));
}

}  // namespace signet::ca
