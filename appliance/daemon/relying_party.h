// The plain-HTTP listener's handler: what relying parties fetch, and nothing else.
//   GET  /crl/<ca>.crl            the CA's latest full CRL (application/pkix-crl, DER)
//   GET  /crl/<ca>-delta.crl      its latest delta CRL
//   GET  /ca/<ca>.crt             the CA certificate (application/pkix-cert, DER)
//   POST /ocsp/<ca>               OCSP (application/ocsp-request, RFC 6960 Appendix A.1)
//   GET  /ocsp/<ca>/<base64 req>  OCSP by GET (RFC 6960 A.1, RFC 5019 §5, cacheable)
// These are the URLs ca::full_crl_url() & co. put into certificates (CDP, AIA). CRL DER is
// cached in memory by CRL number; the responder caches OCSP answers itself.
// Thread-safe.
#pragma once

#include <map>
#include <mutex>
#include <string>

#include "appliance/api/metrics.h"
#include "appliance/server/http.h"
#include "ca/records.h"
#include "crl/ocsp_responder.h"

namespace signet::appliance {

class RelyingPartyEndpoints {
 public:
  RelyingPartyEndpoints(ca::CaDirectory& cas, ca::CrlLog& crls, crl::OcspResponder& responder,
                        Metrics& metrics);

  http::Response handle(http::Request& request);

 private:
  http::Response crl(const std::string& ca_name, ca::CrlKind kind);
  http::Response ca_certificate(const std::string& ca_name);
  http::Response ocsp(const std::string& ca_name, std::string_view der, bool cacheable);
  http::Response route(http::Request& request, std::string& route_name);

  ca::CaDirectory& cas_;
  ca::CrlLog& crls_;
  crl::OcspResponder& responder_;
  Metrics& metrics_;

  struct CachedCrl {
    std::uint64_t number = 0;
    std::string der;
    base::TimePoint next_update{};
  };
  std::mutex mutex_;  // guards cache_
  std::map<std::pair<std::string, int>, CachedCrl> cache_;
};

}  // namespace signet::appliance
