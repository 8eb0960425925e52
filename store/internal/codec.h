// The binary encoding of stored records: a leading format-version byte, then fields as
// tag-length-value (tag: one byte; length: LEB128 varint; value: the bytes). New fields get
// new tags and old readers skip tags they do not know, so adding a field needs no migration;
// changing the meaning of a field needs a new tag (or a new format version and a migration).
//
// Integers are fixed-width big-endian (8 bytes), time points are their system_clock tick count
// as a signed 64-bit integer, enums are one byte with an explicit mapping, nested structures
// (Revocation, KeyRef, CaSettings) are TLV inside a field, and repeated fields repeat the tag.
// A stored CRL's metadata is encoded here; its DER is stored raw, apart (schema.h: crl_der).
// Operators and API tokens (ca/operators.h) are encoded here too.
//
// Record, order and alert ids and audit sequence numbers are the table keys and are not inside
// the value, so a record can be encoded before the store's writer assigns its id.
//
// Decoding validates every length and value and reports a corrupt record as kStorageError
// naming the table and key. Plain functions; thread-safe.
#pragma once

#include <cstdint>
#include <string_view>

#include "base/bytes.h"
#include "base/result.h"
#include "ca/operators.h"
#include "ca/records.h"

namespace signet::store::codec {

inline constexpr std::uint8_t kFormatVersion = 1;

// Appends the encoding to `out` (which is cleared first; its capacity is reused).
void encode(const ca::CertificateRecord& record, base::Bytes& out);
void encode(const ca::CaRecord& record, base::Bytes& out);
void encode(const ca::AuditEvent& event, base::Bytes& out);  // with previous_hash and hash
// store/internal/codec_lifecycle.cpp:
void encode(const ca::Profile& profile, base::Bytes& out);
void encode(const ca::Order& order, base::Bytes& out);  // id is the key, not encoded
void encode(const ca::Alert& alert, base::Bytes& out);  // id is the key, not encoded
// store/internal/codec_crl.cpp: everything but the DER (der_size is encoded instead).
void encode(const ca::CrlRecord& crl, base::Bytes& out);
// store/internal/codec_operators.cpp: every field (the name and id are also the keys).
void encode(const ca::OperatorRecord& record, base::Bytes& out);
void encode(const ca::ApiTokenRecord& record, base::Bytes& out);
// store/internal/codec_checkpoint.cpp:
void encode(const ca::AuditCheckpoint& checkpoint, base::Bytes& out);

// `table` and `key` only name the record in an error message.
base::Result<ca::CertificateRecord> decode_certificate(base::ByteView data, std::string_view table,
                                                       base::ByteView key);
base::Result<ca::CaRecord> decode_ca(base::ByteView data, std::string_view table,
                                     base::ByteView key);
base::Result<ca::AuditEvent> decode_audit(base::ByteView data, std::string_view table,
                                          base::ByteView key);
base::Result<ca::Profile> decode_profile(base::ByteView data, std::string_view table,
                                         base::ByteView key);
base::Result<ca::Order> decode_order(base::ByteView data, std::string_view table,
                                     base::ByteView key);
base::Result<ca::Alert> decode_alert(base::ByteView data, std::string_view table,
                                     base::ByteView key);
// The CRL's metadata; der is left empty.
base::Result<ca::CrlRecord> decode_crl(base::ByteView data, std::string_view table,
                                       base::ByteView key);
// Also check what the store guarantees of them: a name or id, a certificate fingerprint that
// is empty or 32 bytes, a 32-byte secret hash, counters that fit their fields.
base::Result<ca::OperatorRecord> decode_operator(base::ByteView data, std::string_view table,
                                                 base::ByteView key);
base::Result<ca::ApiTokenRecord> decode_api_token(base::ByteView data, std::string_view table,
                                                  base::ByteView key);

base::Result<ca::AuditCheckpoint> decode_checkpoint(base::ByteView data, std::string_view table,
                                                    base::ByteView key);

// The fields of an encoded certificate record that the revocation paths need, read without
// decoding (or copying) the rest: views into the encoded data.
struct CertificateGlance {
  std::string_view ca_name;
  base::ByteView serial;  // the stored magnitude
  base::TimePoint not_after{};
};
base::Result<CertificateGlance> glance_certificate(base::ByteView data, std::string_view table,
                                                   base::ByteView key);

}  // namespace signet::store::codec
