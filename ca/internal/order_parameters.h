// What an order keeps of its request (Order::parameters): enough to run it again, never a
// secret. One JSON shape for every kind of order.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "base/result.h"
#include "ca/certificate_service.h"
#include "ca/order.h"

namespace signet::ca::internal {

struct OrderParameters {
  OrderKind kind = OrderKind::kIssue;
  IssueRequest issue;  // issue; and the key source, validity and PFX profile of renew/rekey
  std::uint64_t certificate_id = 0;                          // renew, rekey, reissue, revoke
  bool revoke_previous = false;                              // rekey, reissue
  RevocationReason reason = RevocationReason::kUnspecified;  // revoke
  std::optional<base::TimePoint> invalidity_date;            // revoke
  bool ca_certificate = false;                               // revoke: a CA's certificate
};

std::string to_json(const OrderParameters& parameters);

// A new order for `parameters` under `profile`, not yet stored: kind, CA, profile and its
// version, key source, parameters; `target` is the certificate acted on (0: none).
Order make_order(const OrderParameters& parameters, const Profile& profile, std::string common_name,
                 std::uint64_t target, std::uint64_t resubmitted_from);
base::Result<OrderParameters> order_parameters_from_json(std::string_view text);

}  // namespace signet::ca::internal
