// A small DER writer and reader for the structures pki/ builds by hand (TBSCertificate,
// CertificationRequestInfo, extensions) and the few it inspects without OpenSSL.
//
// The writer appends to one vector reserved up front. Constructed elements are opened with a
// one-byte length slot and closed by back-patching the definite, minimal length
// (X.690 §10.1); a long length shifts only the element's own content. No other allocation.
// Not thread-safe; one writer per encoding.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

#include "base/bytes.h"
#include "base/clock.h"
#include "base/result.h"

namespace signet::pki::internal {

// Universal and context-specific tags used by pki/ (X.690 §8.1.2).
inline constexpr std::uint8_t kTagBoolean = 0x01;
inline constexpr std::uint8_t kTagInteger = 0x02;
inline constexpr std::uint8_t kTagBitString = 0x03;
inline constexpr std::uint8_t kTagOctetString = 0x04;
inline constexpr std::uint8_t kTagNull = 0x05;
inline constexpr std::uint8_t kTagOid = 0x06;
inline constexpr std::uint8_t kTagUtf8String = 0x0c;
inline constexpr std::uint8_t kTagPrintableString = 0x13;
inline constexpr std::uint8_t kTagIa5String = 0x16;
inline constexpr std::uint8_t kTagUtcTime = 0x17;
inline constexpr std::uint8_t kTagGeneralizedTime = 0x18;
inline constexpr std::uint8_t kTagSequence = 0x30;
inline constexpr std::uint8_t kTagSet = 0x31;
inline constexpr std::uint8_t kTagEnumerated = 0x0a;
inline constexpr std::uint8_t kTagContext0 = 0xa0;  // [0] constructed
inline constexpr std::uint8_t kTagContext1 = 0xa1;  // [1] constructed
inline constexpr std::uint8_t kTagContext2 = 0xa2;  // [2] constructed
inline constexpr std::uint8_t kTagContext3 = 0xa3;  // [3] constructed

// Which time type encode_time_tlv() writes.
enum class TimeForm {
  kRfc5280,      // RFC 5280 §4.1.2.5 / §5.1.2.4: UTCTime for 1950-2049, GeneralizedTime otherwise
  kGeneralized,  // always GeneralizedTime (invalidityDate, every OCSP time)
};
// The most octets encode_time_tlv() writes: tag, length and "YYYYMMDDHHMMSSZ".
inline constexpr std::size_t kMaxTimeTlvSize = 17;
// Writes the whole time TLV (seconds, 'Z', X.690 §11.7/§11.8) to `out`, which has room for
// kMaxTimeTlvSize octets; returns the octets written, 0 when the year is outside 0..9999.
// Plain arithmetic (no locale, no tm): the CRL encoder calls it once or twice per entry.
std::size_t encode_time_tlv(base::TimePoint time, TimeForm form, std::uint8_t* out);

// The number of octets a DER length field takes for `length` content octets.
std::size_t der_length_size(std::size_t length);

class DerWriter {
 public:
  explicit DerWriter(std::size_t reserve) { out_.reserve(reserve); }

  // Opens a constructed element; pass the returned marker to close().
  std::size_t open(std::uint8_t tag) {
    out_.push_back(tag);
    out_.push_back(0);
    return out_.size();
  }
  // Closes the element opened at `marker`, patching its length.
  void close(std::size_t marker);

  void write_tlv(std::uint8_t tag, base::ByteView content);
  void write_raw(base::ByteView der) { out_.insert(out_.end(), der.begin(), der.end()); }
  void write_boolean_true() { write_raw(kTrue); }
  void write_null() { write_raw(kNull); }
  void write_oid(base::ByteView content) { write_tlv(kTagOid, content); }
  // A non-negative INTEGER, minimal two's complement.
  void write_small_integer(std::uint64_t value);
  // A positive INTEGER from its big-endian magnitude without leading zeros (a 0x00 octet is
  // prefixed when the top bit is set, X.690 §8.3.2).
  void write_positive_integer(base::ByteView magnitude);
  // An OBJECT IDENTIFIER from its dotted text; fails (writing nothing useful) when malformed.
  base::Result<void> write_oid_text(std::string_view dotted);
  // A BIT STRING of whole octets (0 unused bits) or with `unused_bits` in the last octet.
  void write_bit_string(base::ByteView bits, std::uint8_t unused_bits = 0);
  // RFC 5280 §4.1.2.5: UTCTime for 1950-2049, GeneralizedTime otherwise; seconds, 'Z'.
  base::Result<void> write_time(base::TimePoint time) {
    return write_time(time, TimeForm::kRfc5280);
  }
  base::Result<void> write_time(base::TimePoint time, TimeForm form);

  const base::Bytes& bytes() const { return out_; }
  base::Bytes take() { return std::move(out_); }

 private:
  static constexpr std::uint8_t kTrue[] = {kTagBoolean, 0x01, 0xff};  // X.690 §11.1
  static constexpr std::uint8_t kNull[] = {kTagNull, 0x00};
  void write_length(std::size_t length);

  base::Bytes out_;
};

// Extension ::= SEQUENCE { extnID, critical BOOLEAN DEFAULT FALSE, extnValue OCTET STRING }
// (RFC 5280 §4.1). DER omits a FALSE critical (X.690 §11.5). open_extension() writes up to the
// extnValue's octets; the caller writes the value and calls close_extension().
struct OpenExtension {
  std::size_t extension;
  std::size_t value;
};
inline OpenExtension open_extension(DerWriter& out, base::ByteView oid, bool critical) {
  OpenExtension open;
  open.extension = out.open(kTagSequence);
  out.write_oid(oid);
  if (critical) out.write_boolean_true();
  open.value = out.open(kTagOctetString);
  return open;
}
inline void close_extension(DerWriter& out, const OpenExtension& open) {
  out.close(open.value);
  out.close(open.extension);
}

// One TLV read by DerReader.
struct DerElement {
  std::uint8_t tag = 0;
  base::ByteView content;
  base::ByteView whole;  // tag, length and content
};

// Reads definite-length DER TLVs with single-octet tags. Refuses indefinite and non-minimal
// lengths. Not thread-safe.
class DerReader {
 public:
  explicit DerReader(base::ByteView data) : data_(data) {}
  bool at_end() const { return pos_ == data_.size(); }
  std::size_t remaining() const { return data_.size() - pos_; }
  // The next element, or an error saying whether it was malformed or truncated.
  base::Result<DerElement> next();
  // Like next(), but the element must have `tag`.
  base::Result<DerElement> expect(std::uint8_t tag, std::string_view what);

 private:
  base::ByteView data_;
  std::size_t pos_ = 0;
};

// The header of the first element in `data`: its tag and the total size it declares (which may
// exceed data.size() for truncated input). nullopt when the header itself is malformed.
struct DerHeader {
  std::uint8_t tag = 0;
  std::size_t header_size = 0;
  std::size_t total_size = 0;
};
std::optional<DerHeader> read_der_header(base::ByteView data);

// The content octets of an OBJECT IDENTIFIER from its dotted form ("1.3.6.1.5.5.7.3.1").
base::Result<base::Bytes> encode_oid(std::string_view dotted);
// The same, appended to `out` (no allocation beyond `out`'s growth).
base::Result<void> append_oid_content(std::string_view dotted, base::Bytes& out);

}  // namespace signet::pki::internal
