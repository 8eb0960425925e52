// How an audit event looks outside the appliance: an RFC 5424 syslog message with the event in
// structured data, and a journald native-protocol datagram. Pure functions (no I/O); the
// forwarder (audit_forwarder.h) sends what they make.
//
// RFC 5424 (§6): <PRI>1 TIMESTAMP HOSTNAME APP-NAME PROCID MSGID [SD-ELEMENT] MSG, with
//   PRI = facility * 8 + severity (notice, or warning for actions that record a failure),
//   TIMESTAMP the event's time in RFC 3339 UTC with microseconds, APP-NAME "signetd",
//   MSGID the event's action ("certificate.issued"), and the SD-ELEMENT
//   [signet@<enterprise number> seq="…" actor="…" object="…" hash="…" prev="…"]
//   whose PARAM-VALUEs escape '"', '\' and ']' with a backslash (§6.3.3); MSG is the action,
//   object and detail JSON in plain text, cut after 16 KiB ("...(truncated)").
// Thread-safe (no state).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "ca/records.h"

namespace signet::appliance {

struct SyslogIdentity {
  int facility = 10;  // authpriv
  std::uint32_t enterprise_number = 32473;
  std::string hostname;  // "-" when empty
  long pid = 0;
};

// The facility code of "auth", "authpriv", "daemon", "local0".."local7"; -1 otherwise.
int syslog_facility_code(std::string_view name);

// `value` as an RFC 5424 PARAM-VALUE (without the quotes): '"', '\' and ']' backslash-escaped.
std::string sd_param_escape(std::string_view value);

// The RFC 5424 message for `event` (no framing, no trailing newline).
std::string format_rfc5424(const ca::AuditEvent& event, const SyslogIdentity& identity);

// The journald native-protocol datagram for `event` (systemd's "Native Journal Protocol"):
// MESSAGE, PRIORITY, SYSLOG_FACILITY, SYSLOG_IDENTIFIER, SYSLOG_PID and SIGNET_* fields; a
// value with a newline uses the protocol's length-prefixed binary form.
std::string format_journald(const ca::AuditEvent& event, const SyslogIdentity& identity);

}  // namespace signet::appliance
