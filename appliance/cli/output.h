// How the CLI shows things: human-readable text by default, JSON with --json. One function
// per kind of object, so that `show` and `list` describe a certificate the same way.
#pragma once

#include <cstdio>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "appliance/core/views.h"
#include "base/clock.h"
#include "base/result.h"
#include "ca/order.h"
#include "ca/records.h"

namespace signet::appliance {

void print_certificate(const ca::CertificateRecord& record, base::TimePoint now,
                       std::FILE* out = stdout);
// Of certificate_json(), with "predecessor"/"successor" added when known.
void print_certificate_json(const nlohmann::json& certificate, std::FILE* out = stdout);
void print_ca(const ca::CaRecord& record, base::TimePoint now);
// Of ca_json().
void print_ca_json(const nlohmann::json& ca);
void print_order(const ca::Order& order, base::TimePoint now, std::FILE* out = stdout);
// Of order_json(): its fields, the error's message and one line per warning.
void print_order_json(const nlohmann::json& order, std::FILE* out = stdout);
// Of a CRL as `signet crl show --json` describes it.
void print_crl_json(const nlohmann::json& crl);
// "Label:                 value" lines for the given keys of a JSON object, skipping absent,
// null and empty values; arrays print comma-separated.
void print_fields(const nlohmann::json& j,
                  const std::vector<std::pair<std::string, std::string>>& fields,
                  std::FILE* out = stdout);

// A fixed-width table: the header row, then the rows.
void print_table(const std::vector<std::string>& header,
                 const std::vector<std::vector<std::string>>& rows);

void print_json(const nlohmann::json& value);

// Writes to a file (`mode`, default 0644, replacing it) or to stdout when path is empty or "-".
base::Result<void> write_output(const std::string& path, base::ByteView data, int mode = 0644);
// Key material (a PFX): a file only, mode 0600; refuses stdout.
base::Result<void> write_private_output(const std::string& path, base::ByteView data);
base::Result<base::Bytes> read_input_file(const std::string& path);

// The outcome of `signet audit rotate-key` (rotate_audit_key()'s JSON, locally or from the
// API): printed, and the retired public key written to `retired_out` when given.
base::Result<void> show_audit_key_rotation(bool json, const nlohmann::json& rotation,
                                           const std::string& retired_out);

}  // namespace signet::appliance
