#include "ca/audit.h"

#include <algorithm>
#include <nlohmann/json.hpp>
#include <string_view>

#include "ca/audit_checkpoint.h"
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

std::string entry_name(std::uint64_t sequence) { return "audit entry " + std::to_string(sequence); }

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

AuditLogVerifier::AuditLogVerifier(std::vector<AuditCheckpoint> checkpoints,
                                   base::Bytes trusted_spki)
    : AuditLogVerifier(std::move(checkpoints), std::vector<base::Bytes>{std::move(trusted_spki)}) {}

AuditLogVerifier::AuditLogVerifier(std::vector<AuditCheckpoint> checkpoints,
                                   std::vector<base::Bytes> trusted)
    : with_checkpoints_(true), checkpoints_(std::move(checkpoints)), trusted_(std::move(trusted)) {
  std::stable_sort(checkpoints_.begin(), checkpoints_.end(),
                   [](const auto& a, const auto& b) { return a.sequence < b.sequence; });
}

bool AuditLogVerifier::fail(std::optional<std::uint64_t> sequence, std::string problem) {
  if (!report_.problem.empty()) return false;
  report_.first_bad_sequence = sequence;
  if (sequence && with_checkpoints_ && !report_.caught_by) {
    report_.caught_by = covering_checkpoint(*sequence);
    problem += report_.caught_by ? " (the signed checkpoint at sequence " +
                                       std::to_string(*report_.caught_by) + " covers it)"
                                 : " (no signed checkpoint covers it)";
  }
  report_.problem = std::move(problem);
  return false;
}

std::optional<std::uint64_t> AuditLogVerifier::covering_checkpoint(std::uint64_t sequence) const {
  for (const auto& c : checkpoints_) {
    if (c.sequence >= sequence) return c.sequence;
  }
  return std::nullopt;
}

bool AuditLogVerifier::check_checkpoint(const AuditCheckpoint& checkpoint) {
  std::optional<std::uint64_t> retired_at;
  for (const auto& key : trusted_) {
    if (!verify_checkpoint_signature(checkpoint, key)) continue;
    const auto retired = std::find_if(retired_.begin(), retired_.end(), [&](const auto& r) {
      return r.first == key && r.second <= checkpoint.sequence;
    });
    if (retired == retired_.end()) return true;
    retired_at = retired->second;
  }
  if (retired_at) {
    report_.caught_by = checkpoint.sequence;
    return fail(std::nullopt, "forged checkpoint: the checkpoint at sequence " +
                                  std::to_string(checkpoint.sequence) +
                                  " is signed with the audit key retired at entry " +
                                  std::to_string(*retired_at) +
                                  " (a retired key signs nothing after its rotation)");
  }
  report_.caught_by = checkpoint.sequence;
  const bool other_key =
      std::find(trusted_.begin(), trusted_.end(), checkpoint.public_key_der) == trusted_.end();
  return fail(std::nullopt,
              "forged checkpoint: the checkpoint at sequence " +
                  std::to_string(checkpoint.sequence) + "'s signature does not verify with " +
                  (trusted_.size() == 1 ? std::string("the trusted audit public key")
                                        : "any of the " + std::to_string(trusted_.size()) +
                                              " trusted audit public keys") +
                  (other_key ? " (it names another key, " + checkpoint.key.to_uri() + ")" : ""));
}

// An "audit.checkpointed" entry names the checkpoint it recorded; remember it, to find a
// checkpoint that was deleted from beside the log.
void AuditLogVerifier::note_checkpoint_event(const AuditEvent& event) {
  if (event.action == kKeyRotatedAction) {
    auto detail = nlohmann::json::parse(event.detail, nullptr, false);
    if (detail.is_object() && detail.contains("retired_public_key") &&
        detail["retired_public_key"].is_string()) {
      if (auto spki = base::from_base64(detail["retired_public_key"].get<std::string>())) {
        retired_.emplace_back(std::move(*spki), event.sequence);
      }
    }
    return;
  }
  if (event.action != kCheckpointAction) return;
  auto detail = nlohmann::json::parse(event.detail, nullptr, false);
  if (detail.is_object() && detail.contains("sequence") &&
      detail["sequence"].is_number_unsigned()) {
    recorded_.emplace_back(event.sequence, detail["sequence"].get<std::uint64_t>());
  }
}

bool AuditLogVerifier::add(const AuditEvent& event) {
  if (!report_.problem.empty()) return false;
  ++report_.entries;
  if (report_.first_sequence == 0) report_.first_sequence = event.sequence;
  report_.last_sequence = event.sequence;
  const std::string at = entry_name(event.sequence);
  if (event.sequence < expected_) {
    return fail(event.sequence,
                "reordered: " + at + " comes after entry " + std::to_string(expected_ - 1));
  }
  if (event.sequence > expected_) {
    return fail(event.sequence, "removed: " + at + " follows entry " +
                                    std::to_string(expected_ - 1) + " (entries " +
                                    std::to_string(expected_) + " to " +
                                    std::to_string(event.sequence - 1) + " are missing)");
  }
  if (!std::ranges::equal(event.previous_hash, previous_)) {
    // An entry that is consistent in itself but chains to another predecessor follows a
    // removed entry (the rest renumbered); one whose own hash no longer matches its position
    // was moved here from elsewhere.
    const bool consistent =
        std::ranges::equal(event.hash, audit_entry_hash(event, event.previous_hash));
    return fail(event.sequence, std::string(consistent ? "removed: " : "reordered: ") + at +
                                    " does not chain to the entry before it (its previous_hash "
                                    "is not that entry's hash)");
  }
  if (!std::ranges::equal(event.hash, audit_entry_hash(event, previous_))) {
    return fail(event.sequence, "altered: " + at + "'s hash does not match its fields");
  }
  previous_ = event.hash;
  ++expected_;
  if (!with_checkpoints_) return true;
  note_checkpoint_event(event);
  std::uint64_t protected_from = 1;  // the first entry the next checkpoint alone protects
  if (next_checkpoint_ > 0) protected_from = checkpoints_[next_checkpoint_ - 1].sequence + 1;
  while (next_checkpoint_ < checkpoints_.size() &&
         checkpoints_[next_checkpoint_].sequence == event.sequence) {
    const auto& checkpoint = checkpoints_[next_checkpoint_++];
    if (!check_checkpoint(checkpoint)) return false;
    if (!std::ranges::equal(checkpoint.head, event.hash)) {
      report_.caught_by = checkpoint.sequence;
      return fail(std::nullopt,
                  "altered: the chain up to " + at + " is not the one the checkpoint at sequence " +
                      std::to_string(checkpoint.sequence) + " signed: an entry from " +
                      std::to_string(protected_from) + " to " + std::to_string(event.sequence) +
                      " was altered, removed or reordered and the chain after it recomputed");
    }
    ++report_.checkpoints;
    report_.last_checkpoint = checkpoint.sequence;
  }
  return true;
}

AuditChainReport AuditLogVerifier::finish() {
  report_.head = report_.entries == 0 ? base::Bytes() : previous_;
  if (!with_checkpoints_ || !report_.problem.empty()) return std::move(report_);
  if (next_checkpoint_ < checkpoints_.size()) {
    // Checkpoints past the log's end: a genuine one means the log was cut short.
    const auto& checkpoint = checkpoints_.back();
    if (check_checkpoint(checkpoint)) {
      report_.caught_by = checkpoint.sequence;
      const std::uint64_t first_missing = report_.last_sequence + 1;
      fail(first_missing,
           "truncated: the log ends at entry " + std::to_string(report_.last_sequence) +
               " but the signed checkpoint at sequence " + std::to_string(checkpoint.sequence) +
               " covers entries up to " + std::to_string(checkpoint.sequence) + ": entries " +
               std::to_string(first_missing) + " to " + std::to_string(checkpoint.sequence) +
               " were removed");
    }
    return std::move(report_);
  }
  for (const auto& [entry, sequence] : recorded_) {
    const bool present = std::ranges::any_of(
        checkpoints_, [sequence = sequence](const auto& c) { return c.sequence == sequence; });
    if (!present) {
      fail(std::nullopt, "missing checkpoint: " + entry_name(entry) +
                             " records a checkpoint at sequence " + std::to_string(sequence) +
                             ", which is not among the checkpoints (it was deleted)");
      return std::move(report_);
    }
  }
  const std::uint64_t last = report_.last_checkpoint.value_or(0);
  report_.unprotected = report_.entries == 0 ? 0 : report_.last_sequence - last;
  report_.tail = report_.last_checkpoint
                     ? std::to_string(report_.unprotected) +
                           " entries after the last checkpoint at sequence " + std::to_string(last)
                     : "no checkpoint: " + std::to_string(report_.unprotected) +
                           " entries are protected by the hash chain alone";
  return std::move(report_);
}

namespace {

base::Result<AuditChainReport> walk(AuditSink& audit, AuditLogVerifier& verifier) {
  std::uint64_t after = 0;
  while (true) {
    SIGNET_ASSIGN_OR_RETURN(auto page, audit.list_audit(after, kPageSize));
    if (page.empty()) break;
    for (const auto& event : page) {
      if (!verifier.add(event)) return verifier.finish();
    }
    after = page.back().sequence;
  }
  return verifier.finish();
}

}  // namespace

base::Result<AuditChainReport> verify_audit_chain(AuditSink& audit) {
  AuditLogVerifier verifier;
  return walk(audit, verifier);
}

base::Result<AuditChainReport> verify_audit_log(AuditSink& audit, AuditCheckpointLog& checkpoints,
                                                base::ByteView trusted_spki) {
  return verify_audit_log_with_keys(
      audit, checkpoints,
      std::vector<base::Bytes>{base::Bytes(trusted_spki.begin(), trusted_spki.end())});
}

base::Result<AuditChainReport> verify_audit_log_with_keys(AuditSink& audit,
                                                          AuditCheckpointLog& checkpoints,
                                                          std::vector<base::Bytes> trusted) {
  std::vector<AuditCheckpoint> all;
  std::uint64_t after = 0;
  while (true) {
    SIGNET_ASSIGN_OR_RETURN(auto page, checkpoints.list_checkpoints(after, kPageSize));
    if (page.empty()) break;
    after = page.back().sequence;
    for (auto& c : page) all.push_back(std::move(c));
  }
  AuditLogVerifier verifier(std::move(all), std::move(trusted));
  return walk(audit, verifier);
}

}  // namespace signet::ca
