// TlsCertificateSwitch: the certificate and key signetd's HTTPS listener presents, replaceable
// while it serves. It installs a certificate callback (SSL_CTX_set_cert_cb) on the listener's
// SSL_CTX: every new handshake takes the credentials current at that moment, so after swap()
// new connections get the new certificate while established connections (and handshakes
// already past certificate selection) keep theirs. The SSL_CTX itself, its client-certificate
// trust and its app data stay as made by make_server_tls_context().
//
// Ownership: the switch holds the current credentials (leaf, chain, bridged key) through a
// shared_ptr, so a handshake that read them keeps them alive while it uses them; it must
// outlive every handshake on the SSL_CTX (destroy the server first). Thread-safe: swap() and
// current() from any thread, concurrently with handshakes on the I/O threads.
#pragma once

#include <openssl/ssl.h>

#include <memory>
#include <mutex>

#include "appliance/daemon/appliance_identity.h"
#include "base/result.h"
#include "hsm/openssl_provider.h"

namespace signet::appliance {

// What the renewal loop (tls_renewal_loop.h) needs of the listener's credentials:
// TlsCertificateSwitch, or a test's stand-in that fails a swap on purpose.
class ServedTlsIdentity {
 public:
  virtual ~ServedTlsIdentity() = default;
  // Makes `identity` the one new handshakes present; on any error the current one stays.
  virtual base::Result<void> swap(const TlsIdentity& identity) = 0;
  // The identity new handshakes present now.
  virtual TlsIdentity current() const = 0;
};

class TlsCertificateSwitch final : public ServedTlsIdentity {
 public:
  // `ctx` (borrowed) already presents `identity` (make_server_tls_context); `bridge` (borrowed)
  // makes the EVP_PKEYs of later identities and must outlive the switch.
  static base::Result<std::unique_ptr<TlsCertificateSwitch>> create(hsm::OpensslBridge& bridge,
                                                                    SSL_CTX* ctx,
                                                                    const TlsIdentity& identity);
  ~TlsCertificateSwitch() override;
  TlsCertificateSwitch(const TlsCertificateSwitch&) = delete;
  TlsCertificateSwitch& operator=(const TlsCertificateSwitch&) = delete;

  // Makes `identity` the one new handshakes present. Checks first that its key matches its
  // certificate; on any error the current credentials stay.
  base::Result<void> swap(const TlsIdentity& identity) override;

  // The identity new handshakes present now.
  TlsIdentity current() const override;

 private:
  struct Credentials;
  TlsCertificateSwitch(hsm::OpensslBridge& bridge, SSL_CTX* ctx);
  base::Result<std::shared_ptr<const Credentials>> prepare(const TlsIdentity& identity);
  static int on_certificate(SSL* ssl, void* self);

  hsm::OpensslBridge& bridge_;
  SSL_CTX* ctx_;
  mutable std::mutex mutex_;
  std::shared_ptr<const Credentials> current_;  // guarded by mutex_
};

}  // namespace signet::appliance
