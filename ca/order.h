// Orders and alerts: the durable trace of every request an operator (or a protocol client)
// makes, and what an operator must look at.
//
// An order is created `pending` before any work, moves to `processing` when the work starts,
// and ends `complete` (with the certificate it produced or acted on) or `failed` (with the
// error and the original parameters, so that it can be resubmitted). Completion commits in
// the same transaction as the certificate (ca::CertificateCommit), so there is never a
// certificate without its order nor an order pointing at nothing. Plain values; thread-safe.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/bytes.h"
#include "base/clock.h"
#include "base/keys.h"
#include "base/result.h"

namespace signet::ca {

enum class OrderKind { kIssue, kRenew, kRekey, kReissue, kRevoke };
std::string_view to_string(OrderKind kind);  // "issue", "renew", "rekey", "reissue", "revoke"
base::Result<OrderKind> parse_order_kind(std::string_view text);

enum class OrderStatus { kPending, kProcessing, kComplete, kFailed };
std::string_view to_string(OrderStatus status);  // "pending", "processing", "complete", "failed"
base::Result<OrderStatus> parse_order_status(std::string_view text);

// Where the subject's key comes from.
enum class KeySourceKind {
  kNone,        // revoke: no key involved
  kCsr,         // an external PKCS#10 request
  kTokenKey,    // an existing key on a token, named by a PKCS#11 URI
  kKeyOnToken,  // a key pair generated on a token for this order
  kLocalKey,    // a software key, kept wrapped under a token key, delivered as PKCS#12
  kReuse,       // renew: the predecessor's public key (and key location) again
};
std::string_view to_string(KeySourceKind kind);  // "none", "csr", "token-key", "key-on-token",
                                                 // "local-key", "reuse"
base::Result<KeySourceKind> parse_key_source_kind(std::string_view text);

struct Order {
  std::uint64_t id = 0;        // assigned by the store: 1, 2, 3...
  std::uint64_t revision = 0;  // bumped by the store on each update (optimistic locking)
  OrderKind kind = OrderKind::kIssue;
  OrderStatus status = OrderStatus::kPending;
  std::string common_name;
  std::string ca_name;
  std::string profile;  // the profile's name within ca_name
  std::uint64_t profile_version = 0;
  KeySourceKind key_source = KeySourceKind::kNone;
  std::string requested_by;  // the actor
  base::TimePoint created_at{};
  base::TimePoint updated_at{};
  std::optional<base::TimePoint> completed_at;  // complete or failed
  std::uint64_t certificate_id = 0;             // the certificate issued (or, for revoke, revoked)
  std::uint64_t target_certificate_id = 0;      // renew/rekey/reissue/revoke: the one acted on
  std::vector<std::string> warnings;            // soft-fail findings, "rule: message"
  std::string error_code;                       // base::to_string(ErrorCode) of a failure
  std::string error_message;
  // The original request as JSON (ca/certificate_service.h), enough to resubmit it; never a
  // secret (a CSR is public; a PFX password is never part of a request).
  std::string parameters;
  std::optional<base::KeyRef> generated_key;  // a key pair this order made on a token
  std::string worker;                         // who is processing it ("pid:<n>:<start>")
  std::uint64_t resubmitted_from = 0;         // the failed order this one retries

  // Milliseconds from creation to completion, or to `now` while unfinished.
  std::int64_t duration_ms(base::TimePoint now) const;
};

struct Alert {
  std::uint64_t id = 0;  // assigned by the store
  base::TimePoint raised_at{};
  std::string kind;    // "order.failed", "certificate.expiring"
  std::string object;  // "order:12", "certificate:issuing/0a1b..."
  std::string message;
  std::string dedupe_key;  // one open alert per key ("order:12", "expiring:<id>")
  bool acknowledged = false;
  std::optional<base::TimePoint> acknowledged_at;
  std::string acknowledged_by;
};

}  // namespace signet::ca
