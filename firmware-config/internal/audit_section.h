// Reads the [audit] table (audit forwarding to syslog and journald) into AuditSettings,
// collecting every problem with its key path and line. Not thread-safe; lives for one parse.
#pragma once

#include "firmware-config/configuration.h"
#include "firmware-config/internal/table_reader.h"

namespace signet::firmware_config::internal {

void read_audit(TableReader& t, AuditSettings& out);

// Whether `address` is a syslog target signetd can reach: "/path" or "unix:/path", or
// "udp:" / "tcp:" followed by an IP literal and a port ("udp:127.0.0.1:514", "tcp:[::1]:601").
// Returns the reason when it is not, empty when it is.
std::string syslog_address_problem(const std::string& address);

}  // namespace signet::firmware_config::internal
