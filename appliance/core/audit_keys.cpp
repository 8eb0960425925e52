#include "appliance/core/audit_keys.h"

#include "appliance/core/audit_export.h"
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

base::Result<nlohmann::json> rotate_audit_key(ApplianceContext& context, const std::string& actor) {
  SIGNET_ASSIGN_OR_RETURN(auto* checkpointer, context.checkpointer());
  // The old key signs the head first, so that every entry up to the rotation is covered by it.
  SIGNET_TRY(checkpointer->checkpoint(actor, true));
  SIGNET_ASSIGN_OR_RETURN(auto* keys, context.keys());
  SIGNET_ASSIGN_OR_RETURN(
      auto rotation,
      checkpointer->rotate_key(actor, [keys](const base::KeyRef& ref, std::string_view label) {
        return keys->relabel_key(ref, label);
      }));
  SIGNET_ASSIGN_OR_RETURN(auto made, checkpointer->checkpoint(actor, false));
  return nlohmann::json{{"retired", rotation.retired.to_uri()},
                        {"retired_label", rotation.retired_label},
                        {"retired_public_key_pem", public_key_pem(rotation.retired_public_key)},
                        {"key", rotation.current->key_ref().to_uri()},
                        {"public_key_pem", public_key_pem(rotation.current->public_key_der())},
                        {"checkpoint_sequence", made->sequence}};
}

}  // namespace signet::appliance
