// Csr: a parsed PKCS#10 certification request (RFC 2986). Created only through parse();
// immutable afterwards. Parsing does not verify the signature: call verify_signature()
// (proof of possession) before trusting anything in it.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "base/bytes.h"
#include "base/keys.h"
#include "base/openssl.h"
#include "base/result.h"
#include "pki/general_name.h"
#include "pki/public_key.h"

namespace signet::pki {

class Csr {
 public:
  // PEM ("CERTIFICATE REQUEST" or "NEW CERTIFICATE REQUEST") or DER, detected from the content.
  // Errors say what is wrong: not PEM or DER, truncated, trailing data, not a PKCS#10 request.
  static base::Result<Csr> parse(base::ByteView data);

  const base::Bytes& der() const { return der_; }
  const base::Bytes& subject_der() const { return subject_der_; }
  std::string subject() const;      // RFC 2253
  std::string common_name() const;  // "" when none
  const base::Bytes& public_key_der() const { return spki_der_; }
  const PublicKeyInfo& public_key() const { return public_key_; }
  // SANs from the extensionRequest attribute; each is syntax-checked (an invalid one is an
  // error naming it). Other requested extensions are ignored: the CA decides them.
  base::Result<std::vector<GeneralName>> requested_subject_alt_names() const;

  // The request's self-signature verifies with its own public key.
  base::Result<void> verify_signature() const;

 private:
  Csr() = default;
  std::shared_ptr<X509_REQ> req_;
  base::Bytes der_;
  base::Bytes subject_der_;
  base::Bytes spki_der_;
  PublicKeyInfo public_key_;
};

// Builds and signs a PKCS#10 request with a Signer (e.g. a CA key on a token, for an
// intermediate signed by an external root). Returns the DER.
base::Result<base::Bytes> build_csr(base::ByteView subject_der,
                                    const std::vector<GeneralName>& subject_alt_names,
                                    const base::Signer& signer);

}  // namespace signet::pki
