// signetd's TLS server context: TLS 1.2 (unless tls.min_version is "1.3") and 1.3 only,
// forward-secret AEAD suites, the server key on the token (through hsm::OpensslBridge), and
// optional client certificates verified against the appliance CA alone (operators' mTLS login; a
// client without one still connects).
#pragma once

#include <openssl/ssl.h>

#include <memory>

#include "appliance/daemon/appliance_identity.h"
#include "base/result.h"
#include "firmware-config/configuration.h"
#include "hsm/openssl_provider.h"

namespace signet::appliance {

struct SslCtxDeleter {
  void operator()(SSL_CTX* ctx) const { SSL_CTX_free(ctx); }
};
using SslCtxPtr = std::unique_ptr<SSL_CTX, SslCtxDeleter>;

base::Result<SslCtxPtr> make_server_tls_context(hsm::OpensslBridge& bridge,
                                                const TlsIdentity& identity,
                                                firmware_config::TlsVersion min_version);

}  // namespace signet::appliance
