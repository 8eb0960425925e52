// The audit public keys a verification trusts online: the audit key on the default token and
// every key an audit-key rotation retired there (ca::kRetiredAuditKeyPrefix), so that the
// checkpoints signed before a rotation still verify. Used by `signet audit verify` and
// GET /api/v1/audit/verify. Also the audit-key rotation that `signet audit rotate-key` and
// POST /api/v1/audit/key-rotations run. Thread-safe as the key provider and the checkpointer
// are.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "appliance/core/context.h"
#include "base/bytes.h"
#include "base/result.h"

namespace signet::appliance {

// SPKI DER of each trusted key; empty when the token holds no audit key yet (any stored
// checkpoint then fails to verify rather than being trusted on its own word).
base::Result<std::vector<base::Bytes>> trusted_audit_keys(ApplianceContext& context);

// Rotates the audit key, acting as `actor`: the current key signs a last checkpoint (when
// anything was logged since the previous one), is retired (relabelled, kept on the token, still
// trusted) and a new key is generated, which signs a checkpoint at once. Audited by the
// checkpointer (audit.key_rotated, audit.checkpointed). Returns what `signet audit rotate-key
// --json` prints: retired, retired_label, retired_public_key_pem, key, public_key_pem,
// checkpoint_sequence.
base::Result<nlohmann::json> rotate_audit_key(ApplianceContext& context, const std::string& actor);

}  // namespace signet::appliance
