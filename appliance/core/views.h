// How the appliance describes its objects as JSON, the same way in `signet --json` and in the
// REST API: one function per kind of object, and the time and fingerprint formats they use.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>

#include "base/clock.h"
#include "base/result.h"
#include "ca/order.h"
#include "ca/records.h"

namespace signet::appliance {

std::string format_time(base::TimePoint t);  // RFC 3339, UTC ("2026-11-23T03:12:20Z")
base::Result<base::TimePoint> parse_time(std::string_view text);
std::string colon_hex(base::ByteView bytes);  // "AB:CD:..."

nlohmann::json certificate_json(const ca::CertificateRecord& record, base::TimePoint now);
// `own_certificate`: the CA's current certificate as the inventory holds it (see
// ca_own_certificate). When it is revoked, "state" is "revoked" and "certificate_revocation"
// says when and why; without it the state is the record's.
nlohmann::json ca_json(const ca::CaRecord& record, base::TimePoint now,
                       const ca::CertificateRecord* own_certificate = nullptr);
// The inventory's record of the CA's current certificate; nullopt when the CA has no
// certificate yet or the inventory does not hold it.
base::Result<std::optional<ca::CertificateRecord>> ca_own_certificate(ca::Inventory& inventory,
                                                                      const ca::CaRecord& record);
nlohmann::json order_json(const ca::Order& order, base::TimePoint now);
nlohmann::json alert_json(const ca::Alert& alert);

}  // namespace signet::appliance
