// Csr: a parsed PKCS#10 certification request (RFC 2986). Created only through parse();
// immutable afterwards. Parsing does not verify the signature: call verify_signature()
// (proof of possession) before trusting anything in it.
// The request is split with our DER reader rather than d2i_X509_REQ, whose eager public-key
// decoding (OpenSSL 3.0) cost more than the token's signature on the issuance path; the
// signature is verified with EVP_DigestVerify over the exact CertificationRequestInfo bytes,
// and unusual signature algorithms (RSA-PSS, SHA-1) go through X509_REQ_verify.
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
  // A part of der_, by position, so that copies of a Csr stay valid.
  struct Slice {
    std::size_t offset = 0;
    std::size_t size = 0;
  };
  base::ByteView part(Slice slice) const {
    return base::ByteView(der_).subspan(slice.offset, slice.size);
  }
  Slice slice_of(base::ByteView view) const {
    return {static_cast<std::size_t>(view.data() - der_.data()), view.size()};
  }

  base::Bytes der_;
  Slice info_;                 // CertificationRequestInfo TLV
  Slice attributes_;           // content of the [0] attributes
  Slice signature_algorithm_;  // AlgorithmIdentifier TLV
  Slice signature_;            // the signature's bits
  base::Bytes subject_der_;
  std::string subject_text_;
  base::Bytes spki_der_;
  PublicKeyInfo public_key_;
};

// Builds and signs a PKCS#10 request with a Signer (e.g. a CA key on a token, for an
// intermediate signed by an external root). Returns the DER.
base::Result<base::Bytes> build_csr(base::ByteView subject_der,
                                    const std::vector<GeneralName>& subject_alt_names,
                                    const base::Signer& signer);

}  // namespace signet::pki
