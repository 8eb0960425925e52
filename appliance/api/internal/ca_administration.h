// CA administration routes (registered by register_ca_routes()):
//   PATCH /api/v1/cas/{ca}/settings  every `signet ca set` setting, CRL and OCSP ones included
//   POST  /api/v1/cas/{ca}/revoke    revoke an intermediate's certificate through its parent
//   POST  /api/v1/cas/{ca}/renew     renew a CA certificate, or roll over to a new key
// Each holds ApiServices::admin_lock() around an Authority acting for the operator and tells
// the shared services afterwards (ca_changed, after_revocation).
#pragma once

#include "appliance/api/api.h"

namespace signet::appliance::api_internal {

void register_ca_administration_routes(Router& router, ApiServices& api);

}  // namespace signet::appliance::api_internal
