// Routes about signetd itself: /healthz (token reachable, store readable, disk not full),
// /metrics (Prometheus text) and /api/openapi.json (the route table as OpenAPI 3).
#pragma once

#include <functional>

#include "appliance/api/api.h"
#include "appliance/daemon/appliance_identity.h"
#include "appliance/daemon/audit_forwarder.h"

namespace signet::appliance {

// `tls_key` names signetd's current TLS key (it changes when the certificate is renewed); the
// health check looks it up on the token. Called from worker threads. `forwarder` (borrowed,
// nullptr when audit forwarding is off) adds the informational check "audit_forwarding"
// (whether every target is connected, with forwarded and dropped counts), which does not make
// the appliance unhealthy, and the metrics signet_audit_forwarded_total,
// signet_audit_forward_dropped_total and signet_audit_forward_connected per target.
void register_system_routes(Router& router, ApiServices& api, std::function<base::KeyRef()> tls_key,
                            const AuditForwarder* forwarder);

}  // namespace signet::appliance
