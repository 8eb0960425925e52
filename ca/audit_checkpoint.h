// Signed checkpoints of the audit log (ca/audit.h describes the chain and the verification).
//
// The signed message (what `openssl dgst -sha256 -verify pub.pem -signature sig.der msg.bin`
// checks for the default EC P-256 key):
//   "signet-audit-checkpoint-v1" (26 ASCII bytes, no terminator) || be64(sequence)
//   || head (32 bytes) || be64(signed_at as Unix seconds)
// signed as base::Signer::sign does: hashed with the key's digest (SHA-256 for P-256), ECDSA
// signatures DER-encoded.
//
// AuditCheckpointer signs the log's current head with the audit key: the key pair labelled
// "signet-audit" on the token, generated there on first use (CKA_SENSITIVE, not extractable,
// EC P-256 unless told otherwise) and found by that label afterwards. It writes the checkpoint
// and an "audit.checkpointed" event in one transaction. Thread-safe: checkpoints are made one
// at a time (a mutex); the provider and store are thread-safe.
#pragma once

#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "base/clock.h"
#include "base/keys.h"
#include "base/result.h"
#include "ca/records.h"

namespace signet::ca {

inline constexpr std::string_view kCheckpointDomain = "signet-audit-checkpoint-v1";
inline constexpr std::string_view kAuditKeyLabel = "signet-audit";
// A rotated-out audit key keeps its place on the token under this label plus the Unix time of
// the rotation, so that the checkpoints it signed still verify.
inline constexpr std::string_view kRetiredAuditKeyPrefix = "signet-audit-retired-";

// What AuditCheckpointer::rotate_key did.
struct AuditKeyRotation {
  base::KeyRef retired;  // the old key, now labelled retired_label
  std::string retired_label;
  base::Bytes retired_public_key;         // SPKI DER
  std::shared_ptr<base::Signer> current;  // the new audit key
};

// The message a checkpoint's signature covers (see above). signed_at is taken in whole seconds.
base::Bytes checkpoint_message(std::uint64_t sequence, base::ByteView head,
                               base::TimePoint signed_at);
// kVerificationFailed unless checkpoint.signature is a signature of its message by
// `trusted_spki` with the digest of checkpoint.algorithm.
base::Result<void> verify_checkpoint_signature(const AuditCheckpoint& checkpoint,
                                               base::ByteView trusted_spki);

class AuditCheckpointer {
 public:
  struct Options {
    std::string token;  // label or serial of the audit key's token; "" = the provider's default
    base::KeyAlgorithm algorithm = base::KeyAlgorithm::kEcP256;  // for a new audit key
  };
  // Everything passed must outlive the checkpointer.
  AuditCheckpointer(base::KeyProvider& keys, AuditSink& audit, AuditCheckpointLog& checkpoints,
                    const base::Clock& clock, Options options);

  // The audit key; generated on the token when it does not exist and `create` is true
  // (kNotFound otherwise).
  base::Result<std::shared_ptr<base::Signer>> audit_key(bool create);

  // Retires the audit key (relabelled kRetiredAuditKeyPrefix + Unix seconds, kept on the
  // token) and generates a new one labelled kAuditKeyLabel, which signs from then on; audited
  // as audit.key_rotated with both public keys. kNotFound when there is no audit key yet.
  // Callers sign a checkpoint with the new key next.
  // `relabel` gives a key pair a new label on its token (hsm::Pkcs11KeyProvider::relabel_key).
  using Relabel = std::function<base::Result<void>(const base::KeyRef&, std::string_view label)>;
  base::Result<AuditKeyRotation> rotate_key(const std::string& actor, const Relabel& relabel);

  // Signs the current head and stores the checkpoint with its audit event (acting as
  // `actor`). With only_if_new, does nothing (nullopt) when nothing but the last checkpoint's
  // own event was logged since it. kInvalidArgument on an empty log (nothing to sign).
  base::Result<std::optional<AuditCheckpoint>> checkpoint(const std::string& actor,
                                                          bool only_if_new);

 private:
  base::KeyProvider& keys_;
  AuditSink& audit_;
  AuditCheckpointLog& checkpoints_;
  const base::Clock& clock_;
  const Options options_;
  std::mutex mutex_;                      // one checkpoint (and key generation) at a time
  std::shared_ptr<base::Signer> signer_;  // guarded by mutex_
};

}  // namespace signet::ca
