#include "ca/order.h"

#include <array>
#include <chrono>
#include <utility>

namespace signet::ca {

namespace {

template <typename Enum, std::size_t N>
base::Result<Enum> parse_named(const std::array<std::pair<Enum, std::string_view>, N>& names,
                               std::string_view text, std::string_view what) {
  std::string known;
  for (const auto& [value, name] : names) {
    if (name == text) return value;
    if (!known.empty()) known += ", ";
    known += name;
  }
  return base::Error(
      base::ErrorCode::kInvalidArgument,
      "unknown " + std::string(what) + " '" + std::string(text) + "' (expected " + known + ")");
}

template <typename Enum, std::size_t N>
std::string_view name_of(const std::array<std::pair<Enum, std::string_view>, N>& names,
                         Enum value) {
  for (const auto& [v, name] : names) {
    if (v == value) return name;
  }
  return "unknown";
}

constexpr std::array<std::pair<OrderKind, std::string_view>, 5> kKinds = {{
    {OrderKind::kIssue, "issue"},
    {OrderKind::kRenew, "renew"},
    {OrderKind::kRekey, "rekey"},
    {OrderKind::kReissue, "reissue"},
    {OrderKind::kRevoke, "revoke"},
}};
constexpr std::array<std::pair<OrderStatus, std::string_view>, 4> kStatuses = {{
    {OrderStatus::kPending, "pending"},
    {OrderStatus::kProcessing, "processing"},
    {OrderStatus::kComplete, "complete"},
    {OrderStatus::kFailed, "failed"},
}};
constexpr std::array<std::pair<KeySourceKind, std::string_view>, 6> kKeySources = {{
    {KeySourceKind::kNone, "none"},
    {KeySourceKind::kCsr, "csr"},
    {KeySourceKind::kTokenKey, "token-key"},
    {KeySourceKind::kKeyOnToken, "key-on-token"},
    {KeySourceKind::kLocalKey, "local-key"},
    {KeySourceKind::kReuse, "reuse"},
}};

}  // namespace

std::string_view to_string(OrderKind kind) { return name_of(kKinds, kind); }
base::Result<OrderKind> parse_order_kind(std::string_view text) {
  return parse_named(kKinds, text, "order kind");
}
std::string_view to_string(OrderStatus status) { return name_of(kStatuses, status); }
base::Result<OrderStatus> parse_order_status(std::string_view text) {
  return parse_named(kStatuses, text, "order status");
}
std::string_view to_string(KeySourceKind kind) { return name_of(kKeySources, kind); }
base::Result<KeySourceKind> parse_key_source_kind(std::string_view text) {
  return parse_named(kKeySources, text, "key source");
}

std::int64_t Order::duration_ms(base::TimePoint now) const {
  const base::TimePoint end = completed_at.value_or(now);
  return std::chrono::duration_cast<std::chrono::milliseconds>(end - created_at).count();
}

}  // namespace signet::ca
