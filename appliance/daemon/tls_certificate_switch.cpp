#include "appliance/daemon/tls_certificate_switch.h"

#include <openssl/x509.h>

#include "base/openssl.h"

namespace signet::appliance {

using base::Error;
using base::ErrorCode;
using base::Result;

namespace {

struct X509StackDeleter {
  void operator()(STACK_OF(X509) * stack) const { sk_X509_pop_free(stack, X509_free); }
};
using X509StackPtr = std::unique_ptr<STACK_OF(X509), X509StackDeleter>;

Error tls_error(const std::string& what) {
  return Error(ErrorCode::kCryptoError, what + ": " + base::drain_openssl_errors());
}

Result<base::X509Ptr> parse_der(const base::Bytes& der) {
  const unsigned char* p = der.data();
  base::X509Ptr cert(d2i_X509(nullptr, &p, static_cast<long>(der.size())));
  if (!cert) return tls_error("parsing a certificate for TLS");
  return cert;
}

}  // namespace

struct TlsCertificateSwitch::Credentials {
  TlsIdentity identity;
  base::X509Ptr leaf;
  X509StackPtr chain;
  base::EvpPkeyPtr key;
};

TlsCertificateSwitch::TlsCertificateSwitch(hsm::OpensslBridge& bridge, SSL_CTX* ctx)
    : bridge_(bridge), ctx_(ctx) {}

TlsCertificateSwitch::~TlsCertificateSwitch() { SSL_CTX_set_cert_cb(ctx_, nullptr, nullptr); }

Result<std::unique_ptr<TlsCertificateSwitch>> TlsCertificateSwitch::create(
    hsm::OpensslBridge& bridge, SSL_CTX* ctx, const TlsIdentity& identity) {
  std::unique_ptr<TlsCertificateSwitch> self(new TlsCertificateSwitch(bridge, ctx));
  SIGNET_ASSIGN_OR_RETURN(self->current_, self->prepare(identity));
  SSL_CTX_set_cert_cb(ctx, &TlsCertificateSwitch::on_certificate, self.get());
  return self;
}

Result<std::shared_ptr<const TlsCertificateSwitch::Credentials>> TlsCertificateSwitch::prepare(
    const TlsIdentity& identity) {
  auto made = std::make_shared<Credentials>();
  made->identity = identity;
  SIGNET_ASSIGN_OR_RETURN(made->leaf, parse_der(identity.certificate.der));
  SIGNET_ASSIGN_OR_RETURN(auto issuer, parse_der(identity.appliance_ca.certificate_der));
  made->chain.reset(sk_X509_new_null());
  if (!made->chain || sk_X509_push(made->chain.get(), issuer.get()) == 0) {
    return tls_error("building the certificate chain");
  }
  issuer.release();  // owned by the stack now
  SIGNET_ASSIGN_OR_RETURN(made->key, bridge_.make_key(identity.key));
  if (X509_check_private_key(made->leaf.get(), made->key.get()) != 1) {
    return tls_error("the token key does not match signetd's new certificate");
  }
  return std::shared_ptr<const Credentials>(std::move(made));
}

Result<void> TlsCertificateSwitch::swap(const TlsIdentity& identity) {
  SIGNET_ASSIGN_OR_RETURN(auto next, prepare(identity));
  std::lock_guard lock(mutex_);
  current_ = std::move(next);
  return base::ok();
}

TlsIdentity TlsCertificateSwitch::current() const {
  std::lock_guard lock(mutex_);
  return current_->identity;
}

// libssl calls this on the server before it chooses the certificate of each handshake.
// SSL_use_cert_and_key up-references the leaf and key and copies the chain into the SSL, so
// they stay valid for this connection whatever swap() does afterwards.
int TlsCertificateSwitch::on_certificate(SSL* ssl, void* arg) {
  auto* self = static_cast<TlsCertificateSwitch*>(arg);
  std::shared_ptr<const Credentials> credentials;
  {
    std::lock_guard lock(self->mutex_);
    credentials = self->current_;
  }
  return SSL_use_cert_and_key(ssl, credentials->leaf.get(), credentials->key.get(),
                              credentials->chain.get(), /*override=*/1) == 1
             ? 1
             : 0;
}

}  // namespace signet::appliance
