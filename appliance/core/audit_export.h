// The audit log as JSON: the verification report, and the export (JSON lines) that
// `signet audit export` and GET /api/v1/audit/export write and `signet audit verify --offline`
// reads back, with the audit public key alone.
//
// An export is one JSON object per line, in log order:
//   {"type":"event","sequence":N,"time":"<RFC 3339>","time_ns":<system_clock ticks, the
//    hashed value>,"actor":...,"action":...,"object":...,"detail":"<the exact stored string>",
//    "hash":"<hex>","previous_hash":"<hex>"}
//   {"type":"checkpoint","sequence":S,"head":"<hex>","signed_at":"<RFC 3339>",
//    "signed_at_unix":<seconds>,"key":"<pkcs11 URI>","public_key":"<base64 SPKI DER>",
//    "algorithm":"ec-p256","signature":"<base64>"}
// A checkpoint line follows the event it signs. Plain functions; thread-safe.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "base/bytes.h"
#include "base/result.h"
#include "ca/audit.h"
#include "ca/records.h"

namespace signet::appliance {

// The report as `signet audit verify --json` and GET /api/v1/audit/verify give it.
nlohmann::json audit_report_json(const ca::AuditChainReport& report);
// The report as one sentence or two, for people.
std::string audit_report_text(const ca::AuditChainReport& report);
// The error `signet audit verify` exits with when the report is not ok.
base::Error audit_report_error(const ca::AuditChainReport& report);

nlohmann::json export_event_json(const ca::AuditEvent& event);
nlohmann::json checkpoint_json(const ca::AuditCheckpoint& checkpoint);

// The whole log and its checkpoints as export lines.
base::Result<std::string> audit_export(ca::AuditSink& audit, ca::AuditCheckpointLog& checkpoints);

// Verifies an export with the audit public key (SPKI DER): the chain recomputed from the
// lines, every checkpoint's signature, the tail. kInvalidArgument naming the line when a line
// is not an export line.
base::Result<ca::AuditChainReport> verify_audit_export(std::string_view text,
                                                       base::ByteView trusted_spki);
// The same with several trusted keys: the audit key and the ones it replaced.
base::Result<ca::AuditChainReport> verify_audit_export(std::string_view text,
                                                       std::vector<base::Bytes> trusted);

// The audit public key as PEM ("PUBLIC KEY"), and back (PEM or DER).
std::string public_key_pem(base::ByteView spki_der);
base::Result<base::Bytes> parse_public_key(std::string_view text);

}  // namespace signet::appliance
