// The audit public keys a verification trusts online: the audit key on the default token and
// every key an audit-key rotation retired there (ca::kRetiredAuditKeyPrefix), so that the
// checkpoints signed before a rotation still verify. Used by `signet audit verify` and
// GET /api/v1/audit/verify. Thread-safe as the key provider is.
#pragma once

#include <vector>

#include "appliance/core/context.h"
#include "base/bytes.h"
#include "base/result.h"

namespace signet::appliance {

// SPKI DER of each trusted key; empty when the token holds no audit key yet (any stored
// checkpoint then fails to verify rather than being trusted on its own word).
base::Result<std::vector<base::Bytes>> trusted_audit_keys(ApplianceContext& context);

}  // namespace signet::appliance
