#include "ca/audit.h"

#include <algorithm>
#include <string_view>

#include "pki/digest.h"

namespace signet::ca {

namespace {

constexpr std::string_view kDomain = "signet-audit-v1";
constexpr std::size_t kPageSize = 1000;

void append_be(base::Bytes& out, std::uint64_t value, int bytes) {
  for (int i = bytes - 1; i >= 0; --i) out.push_back(static_cast<std::uint8_t>(value >> (8 * i)));
}

void append_lp(base::Bytes& out, std::string_view text) {
  append_be(out, text.size(), 4);
  out.insert(out.end(), text.begin(), text.end());
}

}  // namespace

base::Bytes audit_entry_hash(const AuditEvent& event, base::ByteView previous_hash) {
  // Starting from the domain string (rather than inserting it into an empty vector) also
  // keeps g++ 12 -O2 -fsanitize=thread from a false -Wstringop-overflow.
  base::Bytes input(kDomain.begin(), kDomain.end());
  input.reserve(kDomain.size() + 16 + 16 + event.actor.size() + event.action.size() +
                event.object.size() + event.detail.size() + previous_hash.size());
  append_be(input, event.sequence, 8);
  append_be(input, static_cast<std::uint64_t>(event.time.time_since_epoch().count()), 8);
  append_lp(input, event.actor);
  append_lp(input, event.action);
  append_lp(input, event.object);
  append_lp(input, event.detail);
  input.insert(input.end(), previous_hash.begin(), previous_hash.end());
  return pki::sha256(input);
}

base::Result<AuditChainReport> verify_audit_chain(AuditSink& audit) {
  AuditChainReport report;
  base::Bytes previous(kAuditHashSize, 0);  // the hash the next entry must chain to
  std::uint64_t expected = 1;               // the sequence the next entry must have
  std::uint64_t after = 0;
  auto fail = [&](std::uint64_t sequence, std::string problem) {
    report.first_bad_sequence = sequence;
    report.problem = std::move(problem);
  };
  while (true) {
    SIGNET_ASSIGN_OR_RETURN(auto page, audit.list_audit(after, kPageSize));
    if (page.empty()) break;
    for (const auto& event : page) {
      ++report.entries;
      if (report.first_sequence == 0) report.first_sequence = event.sequence;
      report.last_sequence = event.sequence;
      const std::string at = "audit entry " + std::to_string(event.sequence);
      if (event.sequence < expected) {
        fail(event.sequence,
             "reordered: " + at + " comes after entry " + std::to_string(expected - 1));
        return report;
      }
      if (event.sequence > expected) {
        fail(event.sequence, "removed: " + at + " follows entry " + std::to_string(expected - 1) +
                                 " (entries " + std::to_string(expected) + " to " +
                                 std::to_string(event.sequence - 1) + " are missing)");
        return report;
      }
      if (!std::ranges::equal(event.previous_hash, previous)) {
        // An entry that is consistent in itself but chains to another predecessor follows a
        // removed entry (the rest renumbered); one whose own hash no longer matches its
        // position was moved here from elsewhere.
        const bool consistent =
            std::ranges::equal(event.hash, audit_entry_hash(event, event.previous_hash));
        fail(event.sequence, std::string(consistent ? "removed: " : "reordered: ") + at +
                                 " does not chain to the entry before it (its previous_hash "
                                 "is not that entry's hash)");
        return report;
      }
      const auto recomputed = audit_entry_hash(event, previous);
      if (!std::ranges::equal(event.hash, recomputed)) {
        fail(event.sequence, "altered: " + at + "'s hash does not match its fields");
        return report;
      }
      previous = event.hash;
      ++expected;
    }
    after = page.back().sequence;
  }
  report.head = previous;
  if (report.entries == 0) report.head.clear();
  return report;
}

}  // namespace signet::ca
