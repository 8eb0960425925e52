// Renewal of operators' client certificates from the internal appliance CA (profile
// "operator"), for the mTLS login (POST /api/v1/session {"method":"certificate"}). An
// administrator issues and binds one with POST /api/v1/operators/{name}/certificate
// (api/api_operators.cpp); here:
//   GET /api/v1/session/certificate  (the logged-in operator; not API tokens)
//     the operator's newest certificate: when the renewal schedule renewed the bound one, the
//     binding moves to the renewal now (audited as "operator.certificate_rebound"), so the
//     operator installs what this returns; the old certificate no longer logs in.
// renew_operator_certificates() is called by the TLS renewal schedule (tls_renewal_loop.h):
// a bound certificate, or its newest renewal, with less than `renew_before` validity left is
// renewed with the same key and the same validity length ("operator.certificate_renewed");
// the operator keeps logging in with the bound one until fetching the renewal.
// Handlers run on worker threads; the services they use are thread-safe.
#pragma once

#include <chrono>
#include <functional>
#include <string>

#include "appliance/api/api.h"
#include "appliance/api/router.h"

namespace signet::appliance {

void register_operator_certificate_routes(Router& router, ApiServices& api);

// The newest certificate of the line that starts at `record`, following the successors that
// renewals and rekeys recorded (read again from the store: `record` itself may be stale).
base::Result<ca::CertificateRecord> newest_of(ApiServices& api, ca::CertificateRecord record);

// Renews what is due; failures are logged through `log` (the next round retries).
void renew_operator_certificates(ApiServices& api, std::chrono::seconds renew_before,
                                 const std::function<void(const std::string&)>& log);

}  // namespace signet::appliance
