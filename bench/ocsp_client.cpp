#include "bench/ocsp_client.h"

#include <openssl/ocsp.h>

#include <string>

namespace signet::bench {

using base::Error;
using base::ErrorCode;
using base::Result;

namespace {

using base::OcspBasicPtr;
using base::OcspCertIdPtr;
using base::OcspRequestPtr;
using base::OcspResponsePtr;

struct X509StackFree {
  void operator()(STACK_OF(X509) * stack) const noexcept { sk_X509_free(stack); }
};
using X509StackPtr = std::unique_ptr<STACK_OF(X509), X509StackFree>;

Error failed(std::string what) {
  return base::openssl_error(ErrorCode::kVerificationFailed, std::move(what));
}

Result<OcspCertIdPtr> cert_id(X509* ca, const pki::SerialNumber& serial) {
  const auto& magnitude = serial.magnitude();
  base::BignumPtr number(BN_bin2bn(magnitude.data(), static_cast<int>(magnitude.size()), nullptr));
  base::Asn1IntegerPtr integer(number ? BN_to_ASN1_INTEGER(number.get(), nullptr) : nullptr);
  if (!integer) return base::openssl_error(ErrorCode::kInternal, "encoding a serial");
  OcspCertIdPtr id(OCSP_cert_id_new(EVP_sha1(), X509_get_subject_name(ca),
                                    X509_get0_pubkey_bitstr(ca), integer.get()));
  if (!id) return base::openssl_error(ErrorCode::kInternal, "OCSP_cert_id_new");
  return id;
}

int openssl_status(pki::OcspCertStatus status) {
  switch (status) {
    case pki::OcspCertStatus::kGood:
      return V_OCSP_CERTSTATUS_GOOD;
    case pki::OcspCertStatus::kRevoked:
      return V_OCSP_CERTSTATUS_REVOKED;
    case pki::OcspCertStatus::kUnknown:
      break;
  }
  return V_OCSP_CERTSTATUS_UNKNOWN;
}

}  // namespace

Result<OcspRequestMaker> OcspRequestMaker::create(base::ByteView ca_certificate_der) {
  const unsigned char* p = ca_certificate_der.data();
  base::X509Ptr ca(d2i_X509(nullptr, &p, static_cast<long>(ca_certificate_der.size())));
  if (!ca) return base::openssl_error(ErrorCode::kInvalidArgument, "parsing the CA certificate");
  return OcspRequestMaker(std::move(ca));
}

Result<base::Bytes> OcspRequestMaker::request(const pki::SerialNumber& serial, bool nonce) const {
  SIGNET_ASSIGN_OR_RETURN(auto id, cert_id(ca_.get(), serial));
  OcspRequestPtr request(OCSP_REQUEST_new());
  if (!request || OCSP_request_add0_id(request.get(), id.get()) == nullptr) {
    return base::openssl_error(ErrorCode::kInternal, "building an OCSP request");
  }
  id.release();  // the request owns it now
  if (nonce && OCSP_request_add1_nonce(request.get(), nullptr, -1) != 1) {
    return base::openssl_error(ErrorCode::kInternal, "adding a nonce");
  }
  unsigned char* der = nullptr;
  const int length = i2d_OCSP_REQUEST(request.get(), &der);
  if (length <= 0) return base::openssl_error(ErrorCode::kInternal, "encoding an OCSP request");
  base::Bytes out(der, der + length);
  OPENSSL_free(der);
  return out;
}

Result<void> OcspRequestMaker::check(base::ByteView request_der, base::ByteView response_der,
                                     pki::OcspCertStatus status, std::optional<int> reason) const {
  const unsigned char* p = request_der.data();
  OcspRequestPtr request(d2i_OCSP_REQUEST(nullptr, &p, static_cast<long>(request_der.size())));
  p = response_der.data();
  OcspResponsePtr response(d2i_OCSP_RESPONSE(nullptr, &p, static_cast<long>(response_der.size())));
  if (!request || !response) return failed("OpenSSL cannot parse the request or the response");
  const int response_status = OCSP_response_status(response.get());
  if (response_status != OCSP_RESPONSE_STATUS_SUCCESSFUL) {
    return failed("response status " + std::string(OCSP_response_status_str(response_status)));
  }
  OcspBasicPtr basic(OCSP_response_get1_basic(response.get()));
  if (!basic) return failed("no BasicOCSPResponse");

  base::X509StorePtr trust(X509_STORE_new());
  X509StackPtr signers(sk_X509_new_null());
  if (!trust || !signers || X509_STORE_add_cert(trust.get(), ca_.get()) != 1 ||
      sk_X509_push(signers.get(), ca_.get()) <= 0) {
    return base::openssl_error(ErrorCode::kInternal, "setting up the trust store");
  }
  if (OCSP_basic_verify(basic.get(), signers.get(), trust.get(), 0) != 1) {
    return failed("OCSP_basic_verify refuses the response");
  }
  if (OCSP_request_onereq_count(request.get()) != 1) return failed("not a one-CertID request");
  OCSP_CERTID* id = OCSP_onereq_get0_id(OCSP_request_onereq_get0(request.get(), 0));
  int found_status = -1;
  int found_reason = -1;
  ASN1_GENERALIZEDTIME* revoked_at = nullptr;
  ASN1_GENERALIZEDTIME* this_update = nullptr;
  ASN1_GENERALIZEDTIME* next_update = nullptr;
  if (OCSP_resp_find_status(basic.get(), id, &found_status, &found_reason, &revoked_at,
                            &this_update, &next_update) != 1) {
    return failed("the response does not answer the request's CertID");
  }
  if (OCSP_check_validity(this_update, next_update, 300, -1) != 1) {
    return failed("thisUpdate/nextUpdate are not current");
  }
  if (found_status != openssl_status(status)) {
    return failed("status " + std::string(OCSP_cert_status_str(found_status)) + ", expected " +
                  std::string(OCSP_cert_status_str(openssl_status(status))));
  }
  if (status == pki::OcspCertStatus::kRevoked && reason) {
    // OpenSSL reports -1 when the reasonCode is absent, which is how reason 0 is sent.
    const int expected = *reason == 0 ? -1 : *reason;
    if (found_reason != expected) {
      return failed("reason " + std::to_string(found_reason) + ", expected " +
                    std::to_string(expected));
    }
  }
  // 1: nonces match; 2: neither has one. Anything else is a mismatch.
  const int nonce = OCSP_check_nonce(request.get(), basic.get());
  if (nonce != 1 && nonce != 2) return failed("the nonce is not echoed");
  return base::ok();
}

}  // namespace signet::bench
