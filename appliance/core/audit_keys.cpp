#include "appliance/core/audit_keys.h"

#include "hsm/key_provider.h"

namespace signet::appliance {

base::Result<std::vector<base::Bytes>> trusted_audit_keys(ApplianceContext& context) {
  std::vector<base::Bytes> trusted;
  SIGNET_ASSIGN_OR_RETURN(auto* checkpointer, context.checkpointer());
  auto current = checkpointer->audit_key(false);
  if (current) {
    trusted.push_back((*current)->public_key_der());
  } else if (current.error().code() != base::ErrorCode::kNotFound) {
    return std::move(current).error();
  } else {
    return trusted;
  }
  SIGNET_ASSIGN_OR_RETURN(auto* keys, context.keys());
  SIGNET_ASSIGN_OR_RETURN(auto listed, keys->list_keys(context.options().token));
  for (const auto& key : listed) {
    if (key.ref.object_label.rfind(ca::kRetiredAuditKeyPrefix, 0) != 0) continue;
    SIGNET_ASSIGN_OR_RETURN(auto signer, keys->find_key(key.ref));
    trusted.push_back(signer->public_key_der());
  }
  return trusted;
}

}  // namespace signet::appliance
