#include "firmware-config/internal/audit_section.h"

#include <algorithm>
#include <array>

namespace signet::firmware_config::internal {

namespace {

constexpr std::array<std::string_view, 11> kFacilities = {"auth",   "authpriv", "daemon", "local0",
                                                          "local1", "local2",   "local3", "local4",
                                                          "local5", "local6",   "local7"};

}  // namespace

std::string syslog_address_problem(const std::string& address) {
  std::string_view rest = address;
  if (rest.rfind("unix:", 0) == 0) rest.remove_prefix(5);
  if (!rest.empty() && rest.front() == '/') {
    // sockaddr_un.sun_path holds 108 bytes with the terminating NUL.
    return rest.size() < 108 ? "" : "the socket path is longer than 107 bytes";
  }
  if (rest.rfind("udp:", 0) == 0 || rest.rfind("tcp:", 0) == 0) {
    auto parsed = parse_listen_address(rest.substr(4));
    if (!parsed) return parsed.error().message();
    if (parsed->port == 0) return "the port must not be 0";
    return "";
  }
  return "'" + address +
         "' is not a syslog address (\"/dev/log\", \"unix:/path\", \"udp:127.0.0.1:514\" or "
         "\"tcp:127.0.0.1:601\")";
}

void read_audit(TableReader& t, AuditSettings& out) {
  std::vector<std::string> forward;
  if (t.string_or_strings("forward", forward)) {
    for (std::size_t i = 0; i < forward.size(); ++i) {
      if (forward[i] != "syslog" && forward[i] != "journald") {
        t.issue("forward", t.line_of("forward"),
                "must name \"syslog\" and/or \"journald\", not \"" + forward[i] + "\"");
      } else if (std::count(forward.begin(), forward.begin() + long(i), forward[i]) != 0) {
        t.issue("forward", t.line_of("forward"), "names \"" + forward[i] + "\" twice");
      }
    }
    out.forward = std::move(forward);
  }
  if (t.string("syslog_address", out.syslog_address)) {
    if (auto problem = syslog_address_problem(out.syslog_address); !problem.empty()) {
      t.issue("syslog_address", t.line_of("syslog_address"), problem);
    }
  }
  if (t.string("syslog_facility", out.syslog_facility) &&
      std::find(kFacilities.begin(), kFacilities.end(), out.syslog_facility) == kFacilities.end()) {
    t.issue(
        "syslog_facility", t.line_of("syslog_facility"),
        "must be auth, authpriv, daemon or local0..local7, not \"" + out.syslog_facility + "\"");
  }
  t.integer_into("enterprise_number", 1, 4294967295LL, out.enterprise_number);
  if (t.string("journald_socket", out.journald_socket) &&
      (out.journald_socket.empty() || out.journald_socket.front() != '/' ||
       out.journald_socket.size() >= 108)) {
    t.issue("journald_socket", t.line_of("journald_socket"),
            "must be an absolute socket path shorter than 108 bytes");
  }
  t.integer_into("queue_size", 1, 1000000, out.queue_size);
  t.finish();
}

}  // namespace signet::firmware_config::internal
