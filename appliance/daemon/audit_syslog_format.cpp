#include "appliance/daemon/audit_syslog_format.h"

#include <array>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <utility>

namespace signet::appliance {

namespace {

constexpr int kSeverityWarning = 4;
constexpr int kSeverityNotice = 5;
constexpr std::size_t kMaxMsgId = 32;      // RFC 5424 §6.2.7
constexpr std::size_t kMaxHostname = 255;  // RFC 5424 §6.2.4

int severity_of(const ca::AuditEvent& event) {
  for (const char* failure : {"fail", "denied", "refused", "error", "lost"}) {
    if (event.action.find(failure) != std::string::npos) return kSeverityWarning;
  }
  return kSeverityNotice;
}

// PRINTUSASCII (33..126) only, at most `limit` characters; "-" (the NILVALUE) when empty.
std::string header_field(std::string_view text, std::size_t limit) {
  std::string out;
  for (char c : text) {
    if (out.size() == limit) break;
    out += (c >= 33 && c <= 126) ? c : '_';
  }
  return out.empty() ? "-" : out;
}

std::string rfc3339_micros(base::TimePoint time) {
  using namespace std::chrono;
  const auto since = duration_cast<microseconds>(time.time_since_epoch());
  auto seconds = duration_cast<std::chrono::seconds>(since);
  auto micros = since - seconds;
  if (micros.count() < 0) {
    seconds -= std::chrono::seconds(1);
    micros += std::chrono::seconds(1);
  }
  const std::time_t t = static_cast<std::time_t>(seconds.count());
  std::tm utc{};
  gmtime_r(&t, &utc);
  char text[96];
  std::snprintf(text, sizeof(text), "%04d-%02d-%02dT%02d:%02d:%02d.%06ldZ", utc.tm_year + 1900,
                utc.tm_mon + 1, utc.tm_mday, utc.tm_hour, utc.tm_min, utc.tm_sec,
                static_cast<long>(micros.count()));
  return text;
}

std::string hex(const base::Bytes& bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (auto b : bytes) {
    out += kDigits[b >> 4];
    out += kDigits[b & 15];
  }
  return out;
}

// Bounded so that a message fits a UDP datagram and syslog daemons' line limits with room to
// spare; the structured data (sequence, hash) is never cut.
constexpr std::size_t kMaxMessageText = 16 * 1024;

std::string bounded(std::string text) {
  if (text.size() > kMaxMessageText) {
    text.resize(kMaxMessageText);
    text += "...(truncated)";
  }
  return text;
}

std::string message_text(const ca::AuditEvent& event) {
  return bounded(event.action + " " + event.object + " " + event.detail);
}

void journal_field(std::string& out, std::string_view name, std::string_view value) {
  if (value.find('\n') == std::string_view::npos) {
    out.append(name).append("=").append(value).append("\n");
    return;
  }
  // Binary form: NAME \n <64-bit little-endian length> <value> \n
  out.append(name).append("\n");
  std::uint64_t size = value.size();
  for (int i = 0; i < 8; ++i) out += static_cast<char>((size >> (8 * i)) & 0xff);
  out.append(value).append("\n");
}

}  // namespace

int syslog_facility_code(std::string_view name) {
  static constexpr std::array<std::pair<std::string_view, int>, 11> kCodes = {{
      {"auth", 4},
      {"authpriv", 10},
      {"daemon", 3},
      {"local0", 16},
      {"local1", 17},
      {"local2", 18},
      {"local3", 19},
      {"local4", 20},
      {"local5", 21},
      {"local6", 22},
      {"local7", 23},
  }};
  for (const auto& [text, code] : kCodes) {
    if (text == name) return code;
  }
  return -1;
}

std::string sd_param_escape(std::string_view value) {
  std::string out;
  out.reserve(value.size());
  for (char c : value) {
    if (c == '"' || c == '\\' || c == ']') out += '\\';
    out += c;
  }
  return out;
}

std::string format_rfc5424(const ca::AuditEvent& event, const SyslogIdentity& identity) {
  std::string out = "<" + std::to_string(identity.facility * 8 + severity_of(event)) + ">1 ";
  out += rfc3339_micros(event.time) + " ";
  out += header_field(identity.hostname, kMaxHostname) + " signetd ";
  out += std::to_string(identity.pid) + " ";
  out += header_field(event.action, kMaxMsgId) + " ";
  out += "[signet@" + std::to_string(identity.enterprise_number);
  out += " seq=\"" + std::to_string(event.sequence) + "\"";
  out += " actor=\"" + sd_param_escape(event.actor) + "\"";
  out += " object=\"" + sd_param_escape(event.object) + "\"";
  out += " hash=\"" + hex(event.hash) + "\"";
  out += " prev=\"" + hex(event.previous_hash) + "\"]";
  out += " " + message_text(event);
  return out;
}

std::string format_journald(const ca::AuditEvent& event, const SyslogIdentity& identity) {
  std::string out;
  journal_field(out, "MESSAGE", message_text(event));
  journal_field(out, "PRIORITY", std::to_string(severity_of(event)));
  journal_field(out, "SYSLOG_FACILITY", std::to_string(identity.facility));
  journal_field(out, "SYSLOG_IDENTIFIER", "signetd");
  journal_field(out, "SYSLOG_PID", std::to_string(identity.pid));
  journal_field(out, "SIGNET_SEQ", std::to_string(event.sequence));
  journal_field(out, "SIGNET_ACTION", event.action);
  journal_field(out, "SIGNET_ACTOR", event.actor);
  journal_field(out, "SIGNET_OBJECT", event.object);
  // Bounded like MESSAGE: an event larger than a datagram would be refused (EMSGSIZE) and, the
  // cursor moving on, never forwarded at all.
  journal_field(out, "SIGNET_DETAIL", bounded(event.detail));
  journal_field(out, "SIGNET_HASH", hex(event.hash));
  return out;
}

}  // namespace signet::appliance
