// CrlService: turns a CA's revocation records into signed CRLs (RFC 5280 §5) and stores them.
//
// A full CRL streams the CA's revoked table from the store in serial order straight into the
// DER encoder (pki::CrlEncoder): one read transaction, one buffer, no per-entry objects. A
// delta CRL (§5.2.4) holds the revocations whose sequence is above its base CRL's, so that
// "what changed since the base" is an exact store query, not a timestamp comparison. Both
// take their number from the store's per-CA sequence, reserved durably before signing, so a
// number is never reused, even when the process dies between reserving and storing. The CA
// key signs on its token; the signature is verified before the CRL is stored (a token that
// returned garbage must not publish it). Entries of certificates expired longer than the CA's
// grace are left off (§3.3).
//
// The service owns nothing; all references must outlive it. Thread-safe: generations of
// different CAs run concurrently; two generations of one CA each get their own number.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "base/clock.h"
#include "base/keys.h"
#include "base/result.h"
#include "ca/records.h"

namespace signet::crl {

struct CrlStores {
  ca::Inventory& inventory;
  ca::CaDirectory& cas;
  ca::CrlLog& crls;
  ca::AuditSink& audit;
};

class CrlService {
 public:
  CrlService(CrlStores stores, base::KeyProvider& keys, const base::Clock& clock,
             std::string actor);

  // Generates, signs, verifies and stores a full CRL (audit: crl.generated).
  base::Result<ca::CrlRecord> generate_full(std::string_view ca_name);
  // A delta CRL over the latest full CRL: kPolicyViolation when the CA has delta CRLs
  // disabled, kNotFound when it has no full CRL yet.
  base::Result<ca::CrlRecord> generate_delta(std::string_view ca_name);

  // The newest stored CRL of that kind (kNotFound naming the CA when there is none).
  base::Result<ca::CrlRecord> latest(std::string_view ca_name, ca::CrlKind kind);
  // A stored CRL by number (kNotFound when it is not, or no longer, kept).
  base::Result<ca::CrlRecord> find(std::string_view ca_name, std::uint64_t number);

 private:
  base::Result<ca::CrlRecord> generate(std::string_view ca_name, ca::CrlKind kind);

  CrlStores stores_;
  base::KeyProvider& keys_;
  const base::Clock& clock_;
  std::string actor_;
};

}  // namespace signet::crl
