// The tag-length-value primitives of store/internal/codec.h, shared by its .cpp files:
// Writer appends fields, Decoder walks and checks them, naming the record in every error.
// Plain classes; each used by one thread at a time.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "base/bytes.h"
#include "base/clock.h"
#include "base/keys.h"
#include "base/result.h"
#include "store/internal/codec.h"

namespace signet::store::codec::tlv {

using base::Bytes;
using base::ByteView;
using base::Error;
using base::ErrorCode;

namespace key_ref_tag {
// kReader came later (the reader a card key was enrolled in): older records lack it and
// decode it as ""; older builds skip it as a tag they do not know. No migration needed.
constexpr std::uint8_t kTokenSerial = 1, kId = 2, kTokenLabel = 3, kObjectLabel = 4, kReader = 5;
}  // namespace key_ref_tag

// ---- writing ----

class Writer {
 public:
  explicit Writer(Bytes& out) : out_(out) {}

  void bytes(std::uint8_t tag, ByteView value) {
    out_.push_back(tag);
    varint(value.size());
    out_.insert(out_.end(), value.begin(), value.end());
  }
  // Empty text and byte strings are left out: absent decodes as empty.
  void optional_bytes(std::uint8_t tag, ByteView value) {
    if (!value.empty()) bytes(tag, value);
  }
  void text(std::uint8_t tag, std::string_view value) {
    optional_bytes(tag, base::as_bytes(value));
  }
  void u64(std::uint8_t tag, std::uint64_t value) {
    std::uint8_t be[8];
    lmdb_be64(be, value);
    bytes(tag, be);
  }
  void nonzero_u64(std::uint8_t tag, std::uint64_t value) {
    if (value != 0) u64(tag, value);
  }
  void i64(std::uint8_t tag, std::int64_t value) { u64(tag, static_cast<std::uint64_t>(value)); }
  void time(std::uint8_t tag, base::TimePoint t) { i64(tag, t.time_since_epoch().count()); }
  void u8(std::uint8_t tag, std::uint8_t value) { bytes(tag, ByteView(&value, 1)); }

 private:
  static void lmdb_be64(std::uint8_t* out, std::uint64_t v) {
    for (int i = 7; i >= 0; --i) {
      out[i] = static_cast<std::uint8_t>(v);
      v >>= 8;
    }
  }
  void varint(std::size_t n) {
    while (n >= 0x80) {
      out_.push_back(static_cast<std::uint8_t>(n | 0x80));
      n >>= 7;
    }
    out_.push_back(static_cast<std::uint8_t>(n));
  }

  Bytes& out_;
};

inline void encode_key_ref(const base::KeyRef& ref, Bytes& out) {
  Writer w(out);
  w.text(key_ref_tag::kTokenSerial, ref.token_serial);
  w.optional_bytes(key_ref_tag::kId, ref.id);
  w.text(key_ref_tag::kTokenLabel, ref.token_label);
  w.text(key_ref_tag::kObjectLabel, ref.object_label);
  w.text(key_ref_tag::kReader, ref.reader);
}

// ---- reading ----

// Names the record in every error it reports.
class Decoder {
 public:
  Decoder(std::string_view table, ByteView key) : table_(table), key_(key) {}

  Error corrupt(std::string_view what) const {
    return Error(ErrorCode::kStorageError, "corrupt record in table '" + std::string(table_) +
                                               "' at key " + base::to_hex(key_) + ": " +
                                               std::string(what));
  }

  // Walks the TLV fields of `data`, calling on_field(tag, value) -> Result<void> for each.
  template <typename F>
  base::Result<void> fields(ByteView data, F&& on_field) const {
    std::size_t pos = 0;
    while (pos < data.size()) {
      const std::uint8_t tag = data[pos++];
      std::uint64_t length = 0;
      int shift = 0;
      while (true) {
        if (pos >= data.size()) return corrupt("field " + std::to_string(tag) + " is truncated");
        if (shift > 56) return corrupt("field " + std::to_string(tag) + " has a bad length");
        const std::uint8_t b = data[pos++];
        length |= static_cast<std::uint64_t>(b & 0x7f) << shift;
        shift += 7;
        if ((b & 0x80) == 0) break;
      }
      if (length > data.size() - pos) {
        return corrupt("field " + std::to_string(tag) + " claims " + std::to_string(length) +
                       " bytes but only " + std::to_string(data.size() - pos) + " remain");
      }
      SIGNET_TRY(on_field(tag, data.subspan(pos, length)));
      pos += length;
    }
    return base::ok();
  }

  base::Result<ByteView> body(ByteView data) const {
    if (data.empty()) return corrupt("the record is empty");
    if (data[0] == 0 || data[0] > kFormatVersion) {
      return corrupt("unknown format version " + std::to_string(data[0]) +
                     " (this build reads up to " + std::to_string(kFormatVersion) + ")");
    }
    return data.subspan(1);
  }

  base::Result<std::uint64_t> u64(std::uint8_t tag, ByteView v) const {
    if (v.size() != 8) {
      return corrupt("field " + std::to_string(tag) + " has " + std::to_string(v.size()) +
                     " bytes, expected 8");
    }
    std::uint64_t out = 0;
    for (std::uint8_t b : v) out = (out << 8) | b;
    return out;
  }
  base::Result<std::int64_t> i64(std::uint8_t tag, ByteView v) const {
    SIGNET_ASSIGN_OR_RETURN(auto u, u64(tag, v));
    return static_cast<std::int64_t>(u);
  }
  base::Result<base::TimePoint> time(std::uint8_t tag, ByteView v) const {
    SIGNET_ASSIGN_OR_RETURN(auto ticks, i64(tag, v));
    return base::TimePoint(base::TimePoint::duration(ticks));
  }
  base::Result<std::uint8_t> u8(std::uint8_t tag, ByteView v, std::uint8_t max) const {
    if (v.size() != 1 || v[0] > max) {
      return corrupt("field " + std::to_string(tag) + " is not a value in 0.." +
                     std::to_string(max));
    }
    return v[0];
  }
  static std::string text(ByteView v) { return std::string(base::as_chars(v)); }

  base::Result<base::KeyRef> key_ref(ByteView data) const {
    base::KeyRef ref;
    SIGNET_TRY(fields(data, [&](std::uint8_t tag, ByteView v) -> base::Result<void> {
      switch (tag) {
        case key_ref_tag::kTokenSerial:
          ref.token_serial = text(v);
          break;
        case key_ref_tag::kId:
          ref.id.assign(v.begin(), v.end());
          break;
        case key_ref_tag::kTokenLabel:
          ref.token_label = text(v);
          break;
        case key_ref_tag::kObjectLabel:
          ref.object_label = text(v);
          break;
        case key_ref_tag::kReader:
          ref.reader = text(v);
          break;
        default:
          break;  // a field from a newer build
      }
      return base::ok();
    }));
    return ref;
  }

 private:
  std::string_view table_;
  ByteView key_;
};

}  // namespace signet::store::codec::tlv
