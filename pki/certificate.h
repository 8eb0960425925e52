// Certificate: a parsed X.509 certificate (owns an OpenSSL X509 and its DER). Created only
// through the parse factories; immutable afterwards, so safe to share between threads.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/bytes.h"
#include "base/clock.h"
#include "base/openssl.h"
#include "base/result.h"
#include "pki/general_name.h"
#include "pki/public_key.h"
#include "pki/serial_number.h"

namespace signet::pki {

class Certificate {
 public:
  static base::Result<Certificate> from_der(base::ByteView der);
  static base::Result<Certificate> from_pem(std::string_view pem);  // the first CERTIFICATE block
  // PEM (one or many blocks) or a single DER certificate, detected from the content.
  static base::Result<std::vector<Certificate>> parse_bundle(base::ByteView data);

  const base::Bytes& der() const { return der_; }
  std::string pem() const;
  const SerialNumber& serial() const { return serial_; }
  const base::Bytes& subject_der() const { return subject_der_; }
  const base::Bytes& issuer_der() const { return issuer_der_; }
  std::string subject() const;  // RFC 2253, as openssl prints it
  std::string issuer() const;
  std::string common_name() const;  // "" when none
  std::vector<GeneralName> subject_alt_names() const;
  base::TimePoint not_before() const { return not_before_; }
  base::TimePoint not_after() const { return not_after_; }
  const base::Bytes& public_key_der() const { return spki_der_; }  // SPKI
  const PublicKeyInfo& public_key() const { return public_key_; }
  std::string signature_digest() const;  // "sha256", "sha384", "none" (Ed25519)
  base::Bytes sha256_fingerprint() const;
  bool is_ca() const;
  std::optional<int> path_length() const;
  base::Bytes subject_key_identifier() const;    // empty when absent
  base::Bytes authority_key_identifier() const;  // keyIdentifier; empty when absent
  bool is_self_signed() const;  // subject == issuer and the signature verifies with own key

  // Checks that `issuer`'s key signed this certificate and the names chain.
  base::Result<void> verify_signed_by(const Certificate& issuer) const;

  X509* native() const { return x509_.get(); }

 private:
  Certificate() = default;
  std::shared_ptr<X509> x509_;
  base::Bytes der_;
  SerialNumber serial_;
  base::Bytes subject_der_;
  base::Bytes issuer_der_;
  base::Bytes spki_der_;
  PublicKeyInfo public_key_;
  base::TimePoint not_before_{};
  base::TimePoint not_after_{};
};

}  // namespace signet::pki
