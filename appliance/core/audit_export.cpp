#include "appliance/core/audit_export.h"

#include "appliance/core/views.h"
#include "pki/pem.h"
#include "pki/public_key.h"

namespace signet::appliance {

namespace {

using base::Error;
using base::ErrorCode;
using nlohmann::json;

constexpr std::size_t kPage = 1000;

std::string dump(const json& j) { return j.dump(-1, ' ', false, json::error_handler_t::replace); }

// A field of an export line, or an error naming the line.
template <typename T>
base::Result<T> field(const json& line, const char* name, std::size_t number) {
  if (!line.contains(name)) {
    return Error(ErrorCode::kInvalidArgument,
                 "line " + std::to_string(number) + " has no '" + name + "'");
  }
  try {
    return line.at(name).get<T>();
  } catch (const json::exception&) {
    return Error(ErrorCode::kInvalidArgument,
                 "line " + std::to_string(number) + ": '" + name + "' has the wrong type");
  }
}

base::Result<base::Bytes> hex_field(const json& line, const char* name, std::size_t number) {
  SIGNET_ASSIGN_OR_RETURN(auto text, field<std::string>(line, name, number));
  auto bytes = base::from_hex(text);
  if (!bytes) {
    return Error(ErrorCode::kInvalidArgument,
                 "line " + std::to_string(number) + ": '" + name + "' is not hex");
  }
  return std::move(*bytes);
}

base::Result<base::Bytes> base64_field(const json& line, const char* name, std::size_t number) {
  SIGNET_ASSIGN_OR_RETURN(auto text, field<std::string>(line, name, number));
  auto bytes = base::from_base64(text);
  if (!bytes) {
    return Error(ErrorCode::kInvalidArgument,
                 "line " + std::to_string(number) + ": '" + name + "' is not base64");
  }
  return std::move(*bytes);
}

base::Result<ca::AuditEvent> parse_event(const json& line, std::size_t n) {
  ca::AuditEvent e;
  SIGNET_ASSIGN_OR_RETURN(e.sequence, field<std::uint64_t>(line, "sequence", n));
  SIGNET_ASSIGN_OR_RETURN(auto ticks, field<std::int64_t>(line, "time_ns", n));
  e.time = base::TimePoint(base::TimePoint::duration(ticks));
  SIGNET_ASSIGN_OR_RETURN(e.actor, field<std::string>(line, "actor", n));
  SIGNET_ASSIGN_OR_RETURN(e.action, field<std::string>(line, "action", n));
  SIGNET_ASSIGN_OR_RETURN(e.object, field<std::string>(line, "object", n));
  SIGNET_ASSIGN_OR_RETURN(e.detail, field<std::string>(line, "detail", n));
  SIGNET_ASSIGN_OR_RETURN(e.hash, hex_field(line, "hash", n));
  SIGNET_ASSIGN_OR_RETURN(e.previous_hash, hex_field(line, "previous_hash", n));
  return e;
}

base::Result<ca::AuditCheckpoint> parse_checkpoint(const json& line, std::size_t n) {
  ca::AuditCheckpoint c;
  SIGNET_ASSIGN_OR_RETURN(c.sequence, field<std::uint64_t>(line, "sequence", n));
  SIGNET_ASSIGN_OR_RETURN(c.head, hex_field(line, "head", n));
  SIGNET_ASSIGN_OR_RETURN(auto seconds, field<std::int64_t>(line, "signed_at_unix", n));
  c.signed_at = base::TimePoint(std::chrono::seconds(seconds));
  SIGNET_ASSIGN_OR_RETURN(c.public_key_der, base64_field(line, "public_key", n));
  SIGNET_ASSIGN_OR_RETURN(c.signature, base64_field(line, "signature", n));
  SIGNET_ASSIGN_OR_RETURN(auto algorithm, field<std::string>(line, "algorithm", n));
  auto parsed = base::parse_key_algorithm(algorithm);
  if (!parsed) {
    return Error(ErrorCode::kInvalidArgument,
                 "line " + std::to_string(n) + ": unknown algorithm '" + algorithm + "'");
  }
  c.algorithm = *parsed;
  return c;
}

}  // namespace

json audit_report_json(const ca::AuditChainReport& report) {
  json j = {{"ok", report.ok()},
            {"entries", report.entries},
            {"first_sequence", report.first_sequence},
            {"last_sequence", report.last_sequence},
            {"head", base::to_hex(report.head)},
            {"checkpoints", report.checkpoints},
            {"unprotected_entries", report.unprotected}};
  j["first_bad_sequence"] = report.first_bad_sequence ? json(*report.first_bad_sequence) : nullptr;
  j["last_checkpoint"] = report.last_checkpoint ? json(*report.last_checkpoint) : nullptr;
  j["caught_by_checkpoint"] = report.caught_by ? json(*report.caught_by) : nullptr;
  if (!report.tail.empty()) j["tail"] = report.tail;
  if (!report.ok()) j["problem"] = report.problem;
  return j;
}

std::string audit_report_text(const ca::AuditChainReport& report) {
  if (!report.ok()) return "The audit log does not verify: " + report.problem + ".";
  std::string text =
      "The audit log's hash chain is intact: " + std::to_string(report.entries) + " entries";
  if (report.entries > 0) {
    text += " (" + std::to_string(report.first_sequence) + " to " +
            std::to_string(report.last_sequence) + "), head " + base::to_hex(report.head);
  }
  text += ".";
  if (!report.tail.empty()) {
    text += "\n" + std::to_string(report.checkpoints) +
            " signed checkpoints verify with the audit public key; " + report.tail + ".";
  }
  return text;
}

Error audit_report_error(const ca::AuditChainReport& report) {
  if (report.first_bad_sequence) {
    return Error(ErrorCode::kVerificationFailed, "the audit log's hash chain is broken at entry " +
                                                     std::to_string(*report.first_bad_sequence) +
                                                     ": " + report.problem);
  }
  return Error(ErrorCode::kVerificationFailed, "the audit log does not verify: " + report.problem);
}

json export_event_json(const ca::AuditEvent& e) {
  return {{"type", "event"},
          {"sequence", e.sequence},
          {"time", format_time(e.time)},
          {"time_ns", e.time.time_since_epoch().count()},
          {"actor", e.actor},
          {"action", e.action},
          {"object", e.object},
          {"detail", e.detail},
          {"hash", base::to_hex(e.hash)},
          {"previous_hash", base::to_hex(e.previous_hash)}};
}

json checkpoint_json(const ca::AuditCheckpoint& c) {
  return {{"type", "checkpoint"},
          {"sequence", c.sequence},
          {"head", base::to_hex(c.head)},
          {"signed_at", format_time(c.signed_at)},
          {"signed_at_unix",
           std::chrono::floor<std::chrono::seconds>(c.signed_at.time_since_epoch()).count()},
          {"key", c.key.to_uri()},
          {"public_key", base::to_base64(c.public_key_der)},
          {"algorithm", std::string(base::to_string(c.algorithm))},
          {"signature", base::to_base64(c.signature)}};
}

base::Result<std::string> audit_export(ca::AuditSink& audit, ca::AuditCheckpointLog& checkpoints) {
  std::vector<ca::AuditCheckpoint> all;
  for (std::uint64_t after = 0;;) {
    SIGNET_ASSIGN_OR_RETURN(auto page, checkpoints.list_checkpoints(after, kPage));
    if (page.empty()) break;
    after = page.back().sequence;
    for (auto& c : page) all.push_back(std::move(c));
  }
  std::string out;
  std::size_t next = 0;
  for (std::uint64_t after = 0;;) {
    SIGNET_ASSIGN_OR_RETURN(auto page, audit.list_audit(after, kPage));
    if (page.empty()) break;
    for (const auto& e : page) {
      out += dump(export_event_json(e)) + '\n';
      while (next < all.size() && all[next].sequence <= e.sequence) {
        out += dump(checkpoint_json(all[next++])) + '\n';
      }
    }
    after = page.back().sequence;
  }
  while (next < all.size()) out += dump(checkpoint_json(all[next++])) + '\n';
  return out;
}

base::Result<ca::AuditChainReport> verify_audit_export(std::string_view text,
                                                       base::ByteView trusted_spki) {
  return verify_audit_export(
      text, std::vector<base::Bytes>{base::Bytes(trusted_spki.begin(), trusted_spki.end())});
}

base::Result<ca::AuditChainReport> verify_audit_export(std::string_view text,
                                                       std::vector<base::Bytes> trusted) {
  std::vector<ca::AuditEvent> events;
  std::vector<ca::AuditCheckpoint> checkpoints;
  std::size_t number = 0;
  while (!text.empty()) {
    const auto end = text.find('\n');
    const auto line = text.substr(0, end);
    text = end == std::string_view::npos ? std::string_view() : text.substr(end + 1);
    ++number;
    if (line.find_first_not_of(" \t\r") == std::string_view::npos) continue;
    auto j = json::parse(line, nullptr, false);
    if (j.is_discarded() || !j.is_object()) {
      return Error(ErrorCode::kInvalidArgument,
                   "line " + std::to_string(number) + " is not a JSON object");
    }
    const auto type = j.value("type", std::string());
    if (type == "event") {
      SIGNET_ASSIGN_OR_RETURN(auto event, parse_event(j, number));
      events.push_back(std::move(event));
    } else if (type == "checkpoint") {
      SIGNET_ASSIGN_OR_RETURN(auto checkpoint, parse_checkpoint(j, number));
      checkpoints.push_back(std::move(checkpoint));
    } else {
      return Error(ErrorCode::kInvalidArgument, "line " + std::to_string(number) +
                                                    " is neither an event nor a checkpoint "
                                                    "(its \"type\" is '" +
                                                    type + "')");
    }
  }
  ca::AuditLogVerifier verifier(std::move(checkpoints), std::move(trusted));
  for (const auto& event : events) {
    if (!verifier.add(event)) break;
  }
  return verifier.finish();
}

std::string public_key_pem(base::ByteView spki_der) {
  return pki::pem_encode("PUBLIC KEY", spki_der);
}

base::Result<base::Bytes> parse_public_key(std::string_view text) {
  base::Bytes der;
  if (pki::looks_like_pem(base::as_bytes(text))) {
    SIGNET_ASSIGN_OR_RETURN(auto blocks, pki::pem_decode_all(text, "PUBLIC KEY"));
    der = std::move(blocks.front());
  } else {
    der.assign(text.begin(), text.end());
  }
  auto inspected = pki::inspect_public_key(der);
  if (!inspected) {
    return std::move(inspected).error().with_context("reading the audit public key");
  }
  return der;
}

}  // namespace signet::appliance
