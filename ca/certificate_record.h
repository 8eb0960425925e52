// Building inventory records from parsed certificates: one place that decides how a
// certificate is described (subject text, SAN strings, algorithm name, fingerprint).
#pragma once

#include <string>

#include "base/clock.h"
#include "ca/records.h"
#include "pki/certificate.h"

namespace signet::ca {

// Every field that can be read from the certificate itself; the caller sets ca_name, source,
// key_location and profile.
CertificateRecord describe_certificate(const pki::Certificate& certificate,
                                       base::TimePoint recorded_at);

}  // namespace signet::ca
