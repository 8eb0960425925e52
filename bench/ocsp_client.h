// The OCSP client side of signet-crl-bench, written with OpenSSL's OCSP API (an implementation
// independent of pki/ocsp.h): requests as `openssl ocsp` sends them (one SHA-1 CertID, with or
// without a nonce), and a check that a response is what a relying party would accept, so that
// the bench never measures the speed of producing garbage.
// Thread-safe: the maker is immutable after create().
#pragma once

#include <memory>
#include <optional>

#include "base/bytes.h"
#include "base/openssl.h"
#include "base/result.h"
#include "pki/ocsp.h"
#include "pki/serial_number.h"

namespace signet::bench {

class OcspRequestMaker {
 public:
  // For certificates issued by the CA whose certificate this is.
  static base::Result<OcspRequestMaker> create(base::ByteView ca_certificate_der);

  // One CertID (SHA-1 hashes of the CA's name and key, `serial`); with a fresh 16-byte
  // nonce when asked.
  base::Result<base::Bytes> request(const pki::SerialNumber& serial, bool nonce) const;

  // OpenSSL's verdict on `response` to `request`: successful, OCSP_basic_verify with the CA
  // certificate as the only trust anchor, the CertID's status `status` (and `reason` when
  // revoked and given), the nonce echoed when the request had one. An error says what failed.
  base::Result<void> check(base::ByteView request, base::ByteView response,
                           pki::OcspCertStatus status, std::optional<int> reason = {}) const;

 private:
  explicit OcspRequestMaker(base::X509Ptr ca) : ca_(std::move(ca)) {}
  std::shared_ptr<X509> ca_;
};

}  // namespace signet::bench
