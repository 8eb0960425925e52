// The audit log's hash chain and its signed checkpoints: how an entry's hash is computed, and
// how the whole log is checked.
//
// hash(n) = SHA-256( "signet-audit-v1" || be64(sequence) || be64(time, system_clock ticks)
//                    || lp(actor) || lp(action) || lp(object) || lp(detail) || hash(n-1) )
// where lp(s) = be32(length) || s, and hash(0) is 32 zero bytes. So every entry commits to
// every entry before it: altering, removing or reordering one breaks the chain at that entry.
//
// The chain alone does not stop someone who can write the store from rewriting an entry and
// recomputing every hash after it, nor from cutting the log short. Signed checkpoints do
// (ca/audit_checkpoint.h): a checkpoint signs, with the audit key on the token,
//   "signet-audit-checkpoint-v1" || be64(sequence) || head (32 bytes) || be64(signed_at, Unix s)
// where head is hash(sequence). Verification (AuditLogVerifier) walks the log in order and
//  - checks every link as above, naming the first entry that was altered, removed or reordered
//    (and the checkpoint whose range holds it, if any);
//  - checks every checkpoint's signature with the TRUSTED audit public key (the key on the
//    token, or the exported public key offline; never the key stored beside the checkpoint);
//  - compares the chain's hash at each checkpoint's sequence with the signed head: a
//    difference means an entry after the previous checkpoint, up to this one, was changed and
//    the chain recomputed (the chain itself cannot say which);
//  - names a log that ends before the last checkpoint's sequence (truncated), and an
//    "audit.checkpointed" entry whose checkpoint is missing;
//  - reports the entries after the last checkpoint as an unprotected tail.
// Plain functions and a single-threaded value class; thread-safe as values are.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "base/bytes.h"
#include "base/result.h"
#include "ca/records.h"

namespace signet::ca {

inline constexpr std::size_t kAuditHashSize = 32;
// The action of the audit event that records a checkpoint; its detail is
// {"sequence": S, "head": "<hex>", "key": "<pkcs11 URI>"}.
inline constexpr std::string_view kCheckpointAction = "audit.checkpointed";
// Written when the audit key is replaced; its detail's "retired_public_key" (base64 SPKI) names
// the key that from this entry on signs no valid checkpoint.
inline constexpr std::string_view kKeyRotatedAction = "audit.key_rotated";

// The hash of `event` (its sequence and fields) chained to `previous_hash`.
base::Bytes audit_entry_hash(const AuditEvent& event, base::ByteView previous_hash);

struct AuditChainReport {
  std::uint64_t entries = 0;         // entries read
  std::uint64_t first_sequence = 0;  // 0 when the log is empty
  std::uint64_t last_sequence = 0;
  base::Bytes head;  // the last entry's hash
  // The first entry that breaks the chain, and how: "altered" (its hash does not match its
  // fields), "removed" (a gap in the sequence, or previous_hash not the previous entry's
  // hash), "reordered" (a sequence out of order), "truncated" (the log ends before a
  // checkpoint's sequence). Unset when the problem is a checkpoint's alone (a bad signature,
  // a head that differs after a recomputed chain): `problem` then says so.
  std::optional<std::uint64_t> first_bad_sequence;
  std::string problem;  // empty when everything verified
  // Checkpoints (only when verified with a trusted key).
  std::uint64_t checkpoints = 0;                 // checkpoints whose signature and head verified
  std::optional<std::uint64_t> last_checkpoint;  // the last checkpoint's sequence
  std::optional<std::uint64_t> caught_by;  // the checkpoint that caught (or covers) the problem
  std::uint64_t unprotected = 0;  // entries after the last checkpoint (every entry when none)
  std::string tail;               // "N entries after the last checkpoint at sequence S"
  bool ok() const { return problem.empty(); }
};

// Verifies a log fed entry by entry in log order, against checkpoints known up front.
class AuditLogVerifier {
 public:
  // Chain only: no checkpoints are checked and the tail is not reported.
  AuditLogVerifier() = default;
  // With checkpoints (in any order) and the trusted audit public key (SPKI DER).
  AuditLogVerifier(std::vector<AuditCheckpoint> checkpoints, base::Bytes trusted_spki);
  // With several trusted keys (the audit key and the ones it replaced): a checkpoint is good
  // when one of them verifies it, and a key the log says was retired (kKeyRotatedAction at
  // entry R) verifies only checkpoints before R: a retired key that still exists somewhere
  // cannot vouch for anything written after its rotation.
  AuditLogVerifier(std::vector<AuditCheckpoint> checkpoints, std::vector<base::Bytes> trusted);

  // The next entry of the log. Returns false once a problem was found (stop feeding).
  bool add(const AuditEvent& event);
  // Checks what remains (checkpoints past the end) and returns the report.
  AuditChainReport finish();

 private:
  bool fail(std::optional<std::uint64_t> sequence, std::string problem);
  bool check_checkpoint(const AuditCheckpoint& checkpoint);  // its signature
  void note_checkpoint_event(const AuditEvent& event);
  std::optional<std::uint64_t> covering_checkpoint(std::uint64_t sequence) const;

  bool with_checkpoints_ = false;
  std::vector<AuditCheckpoint> checkpoints_;  // by sequence
  std::vector<base::Bytes> trusted_;
  std::size_t next_checkpoint_ = 0;  // index of the first checkpoint not reached yet
  std::vector<std::pair<std::uint64_t, std::uint64_t>> recorded_;  // (entry, checkpoint seq)
  std::vector<std::pair<base::Bytes, std::uint64_t>> retired_;     // (SPKI, rotation entry)
  AuditChainReport report_;
  base::Bytes previous_ = base::Bytes(kAuditHashSize, 0);
  std::uint64_t expected_ = 1;
};

// Reads the whole log through `audit` in pages and checks every link.
base::Result<AuditChainReport> verify_audit_chain(AuditSink& audit);
// The same, and every checkpoint of `checkpoints` against `trusted_spki` (see above).
base::Result<AuditChainReport> verify_audit_log(AuditSink& audit, AuditCheckpointLog& checkpoints,
                                                base::ByteView trusted_spki);
// With several trusted keys (see AuditLogVerifier): the audit key and those it replaced.
base::Result<AuditChainReport> verify_audit_log_with_keys(AuditSink& audit,
                                                          AuditCheckpointLog& checkpoints,
                                                          std::vector<base::Bytes> trusted);

}  // namespace signet::ca
