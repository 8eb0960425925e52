// Certificate revocation lists (RFC 5280 §5), encoded by streaming.
//
// CrlEncoder writes a CertificateList into one buffer as the entries arrive: nothing is held
// per entry beyond its DER, entries are written in the order given (the store gives them in
// serial order), and the signature is appended to the same buffer. A million entries make
// about 48 MB of DER and no other copy of them. OpenSSL's X509_CRL API is not used on this
// path: it keeps every entry as a heap object and sorts them.
//
// inspect_crl() parses a CRL with OpenSSL (an independent implementation) for display and
// checks. Not thread-safe per encoder; the functions are.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "base/bytes.h"
#include "base/clock.h"
#include "base/keys.h"
#include "base/result.h"

namespace signet::pki {

// What is fixed per issuing CA.
struct CrlIssuer {
  base::KeyAlgorithm key_algorithm = base::KeyAlgorithm::kEcP256;
  base::DigestAlgorithm digest = base::DigestAlgorithm::kSha256;
  base::Bytes issuer_name_der;           // the CA certificate's subject, byte-for-byte
  base::Bytes authority_key_identifier;  // the CA's SKI (AKI extension, RFC 5280 §5.2.1)
};

struct CrlHeader {
  base::TimePoint this_update{};
  base::TimePoint next_update{};
  std::uint64_t number = 0;  // cRLNumber (§5.2.3), > 0
  // Delta CRL Indicator (§5.2.4, critical): the base CRL's number. nullopt: a full CRL.
  std::optional<std::uint64_t> delta_base;
  // Freshest CRL (§5.2.6): where the delta CRLs are. Empty: no extension.
  std::string freshest_crl_url;
};

struct CrlEntry {
  // Big-endian magnitude (as SerialNumber::magnitude()); leading zero octets are dropped.
  base::ByteView serial;
  base::TimePoint revoked_at{};
  // CRLReason 0..10 but 7; 0 (unspecified) leaves the reasonCode extension out (§5.3.1).
  int reason = 0;
  std::optional<base::TimePoint> invalidity_date;  // GeneralizedTime (§5.3.2)
};

class CrlEncoder {
 public:
  // Starts a version 2 CRL. `expected_entries` sizes the buffer: room for the largest entry
  // (82 octets) per expected entry, so that the buffer never moves while entries arrive (an
  // upper bound is fine: untouched reserved memory costs address space, not RAM; beyond 16M
  // entries the buffer grows as needed). kInvalidArgument for an inconsistent header (number 0,
  // nextUpdate before thisUpdate, a delta whose base is not below its number, a bad URL, an
  // empty issuer), kResourceExhausted when the reservation fails.
  static base::Result<CrlEncoder> begin(const CrlIssuer& issuer, const CrlHeader& header,
                                        std::uint64_t expected_entries);
  CrlEncoder(CrlEncoder&&) noexcept;
  CrlEncoder& operator=(CrlEncoder&&) noexcept;
  ~CrlEncoder();

  // Appends one revokedCertificates entry (no allocation while within expected_entries).
  // Refuses a zero or over-long serial, an unknown reason and a date outside what the
  // encoding can hold; nothing is appended then.
  base::Result<void> add(const CrlEntry& entry);
  std::uint64_t entries() const;

  // Ends the TBSCertList (no revokedCertificates at all when there are no entries,
  // §5.1.2.6) and returns it for signing; the view stays valid until finish(). No add()
  // afterwards; a second call returns the same view.
  base::Result<base::ByteView> tbs();
  // Appends the signature algorithm and the signature and returns the CertificateList DER
  // (the same buffer, moved out; its unused front room is dropped with one memmove). The
  // encoder is spent afterwards. An error when tbs() was not called first.
  base::Result<base::Bytes> finish(base::ByteView signature);

 private:
  struct State;
  explicit CrlEncoder(std::unique_ptr<State> state);
  std::unique_ptr<State> state_;
};

// A CRL as OpenSSL reads it.
struct CrlInfo {
  std::string issuer;  // RFC 2253
  std::uint64_t number = 0;
  std::optional<std::uint64_t> delta_base;
  base::TimePoint this_update{};
  std::optional<base::TimePoint> next_update;
  std::uint64_t entries = 0;
  std::string signature_algorithm;  // OpenSSL's long name, e.g. "ecdsa-with-SHA384"
  std::string freshest_crl_url;
};
// kInvalidArgument naming what is wrong when `der` is not a CRL.
base::Result<CrlInfo> inspect_crl(base::ByteView der);
// Whether the CRL's signature verifies with this SubjectPublicKeyInfo.
base::Result<bool> crl_signature_verifies(base::ByteView crl_der, base::ByteView issuer_spki_der);

}  // namespace signet::pki
