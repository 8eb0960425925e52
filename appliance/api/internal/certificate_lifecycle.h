// The lifecycle routes of an existing certificate: POST /api/v1/certificates/{id}/renew,
// /rekey, /reissue and /revoke (registered by register_certificate_routes()).
// Each checks the certificate's RA profile against an API token's scope and goes through the
// per-request CertificateService, so orders and audit events name the operator.
#pragma once

#include "appliance/api/api.h"

namespace signet::appliance::api_internal {

void register_certificate_lifecycle_routes(Router& router, ApiServices& api);

}  // namespace signet::appliance::api_internal
