// Names a profile uses and what they stand for: key usage bits, extended key usage OIDs,
// subject attribute types. Shared by profile.cpp (validation) and profile_rules.cpp.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace signet::ca::internal {

inline constexpr int kMaxProfileDays = 36500;

// RFC 5280 §4.2.1.3 names ("digitalSignature", "keyEncipherment"...; "contentCommitment" and
// "nonRepudiation" are the same bit) to pki::KeyUsageBit.
std::optional<std::uint16_t> key_usage_bit(std::string_view name);
std::string key_usage_names();  // for messages
// "serverAuth"... (RFC 5280 §4.2.1.12) or a dotted OID, to the dotted OID.
std::optional<std::string> extended_key_usage_oid(std::string_view name);
// Whether pki::encode_name knows the attribute type ("CN", "O", "emailAddress"...).
bool is_name_attribute_type(std::string_view type);

}  // namespace signet::ca::internal
