// Routes about signetd itself: /healthz (token reachable, store readable, disk not full),
// /metrics (Prometheus text) and /api/openapi.json (the route table as OpenAPI 3).
#pragma once

#include "appliance/api/api.h"
#include "appliance/daemon/appliance_identity.h"

namespace signet::appliance {

void register_system_routes(Router& router, ApiServices& api, const base::KeyRef& tls_key);

}  // namespace signet::appliance
