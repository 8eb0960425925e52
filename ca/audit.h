// The audit log's hash chain: how an entry's hash is computed, and how the whole chain is
// checked.
//
// hash(n) = SHA-256( "signet-audit-v1" || be64(sequence) || be64(time, system_clock ticks)
//                    || lp(actor) || lp(action) || lp(object) || lp(detail) || hash(n-1) )
// where lp(s) = be32(length) || s, and hash(0) is 32 zero bytes. So every entry commits to
// every entry before it: altering, removing or reordering one breaks the chain at that entry.
// (Signed checkpoints of the chain's head, with a key on the token, come with the appliance.)
// Plain functions; thread-safe.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "base/bytes.h"
#include "base/result.h"
#include "ca/records.h"

namespace signet::ca {

inline constexpr std::size_t kAuditHashSize = 32;

// The hash of `event` (its sequence and fields) chained to `previous_hash`.
base::Bytes audit_entry_hash(const AuditEvent& event, base::ByteView previous_hash);

struct AuditChainReport {
  std::uint64_t entries = 0;         // entries read
  std::uint64_t first_sequence = 0;  // 0 when the log is empty
  std::uint64_t last_sequence = 0;
  base::Bytes head;  // the last entry's hash
  // The first entry that breaks the chain, and how: "altered" (its hash does not match its
  // fields), "removed" (a gap in the sequence, or previous_hash not the previous entry's
  // hash), "reordered" (a sequence out of order).
  std::optional<std::uint64_t> first_bad_sequence;
  std::string problem;
  bool ok() const { return !first_bad_sequence; }
};

// Reads the whole log through `audit` in pages and checks every link.
base::Result<AuditChainReport> verify_audit_chain(AuditSink& audit);

}  // namespace signet::ca
