#include "pki/internal/der_writer.h"

#include <chrono>
#include <string>

namespace signet::pki::internal {

using base::Error;
using base::ErrorCode;

std::size_t der_length_size(std::size_t length) {
  if (length < 0x80) return 1;
  std::size_t size = 1;
  for (std::size_t rest = length; rest != 0; rest >>= 8) ++size;
  return size;
}

void DerWriter::write_length(std::size_t length) {
  if (length < 0x80) {
    out_.push_back(static_cast<std::uint8_t>(length));
    return;
  }
  const std::size_t octets = der_length_size(length) - 1;
  out_.push_back(static_cast<std::uint8_t>(0x80 | octets));
  for (std::size_t i = octets; i-- > 0;)
    out_.push_back(static_cast<std::uint8_t>(length >> (8 * i)));
}

void DerWriter::close(std::size_t marker) {
  const std::size_t length = out_.size() - marker;
  if (length < 0x80) {
    out_[marker - 1] = static_cast<std::uint8_t>(length);
    return;
  }
  // X.690 §10.1: the long form with the fewest octets. Shift this element's content right.
  const std::size_t octets = der_length_size(length) - 1;
  out_.insert(out_.begin() + static_cast<std::ptrdiff_t>(marker), octets, 0);
  out_[marker - 1] = static_cast<std::uint8_t>(0x80 | octets);
  for (std::size_t i = 0; i < octets; ++i) {
    out_[marker + i] = static_cast<std::uint8_t>(length >> (8 * (octets - 1 - i)));
  }
}

void DerWriter::write_tlv(std::uint8_t tag, base::ByteView content) {
  out_.push_back(tag);
  write_length(content.size());
  write_raw(content);
}

void DerWriter::write_small_integer(std::uint64_t value) {
  std::uint8_t buffer[9];
  std::size_t n = 0;
  do {
    buffer[8 - n++] = static_cast<std::uint8_t>(value);
    value >>= 8;
  } while (value != 0);
  if (buffer[9 - n] & 0x80) buffer[8 - n++] = 0;  // keep it positive
  write_tlv(kTagInteger, base::ByteView(buffer + 9 - n, n));
}

void DerWriter::write_bit_string(base::ByteView bits, std::uint8_t unused_bits) {
  out_.push_back(kTagBitString);
  write_length(bits.size() + 1);
  out_.push_back(unused_bits);
  write_raw(bits);
}

namespace {

// Days since 1970-01-01 to a proleptic Gregorian date (H. Hinnant, "chrono-Compatible
// Low-Level Date Algorithms", civil_from_days).
struct CivilDate {
  std::int64_t year;
  unsigned month;
  unsigned day;
};
CivilDate civil_from_days(std::int64_t days) {
  days += 719468;
  const std::int64_t era = (days >= 0 ? days : days - 146096) / 146097;
  const auto doe = static_cast<unsigned>(days - era * 146097);                 // [0, 146096]
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;  // [0, 399]
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);                // [0, 365]
  const unsigned mp = (5 * doy + 2) / 153;                                     // [0, 11]
  const unsigned day = doy - (153 * mp + 2) / 5 + 1;
  const unsigned month = mp < 10 ? mp + 3 : mp - 9;
  return {static_cast<std::int64_t>(yoe) + era * 400 + (month <= 2 ? 1 : 0), month, day};
}

inline std::uint8_t* put2(std::uint8_t* p, unsigned v) {
  p[0] = static_cast<std::uint8_t>('0' + v / 10);
  p[1] = static_cast<std::uint8_t>('0' + v % 10);
  return p + 2;
}

}  // namespace

std::size_t encode_time_tlv(base::TimePoint time, TimeForm form, std::uint8_t* out) {
  const std::int64_t seconds =
      std::chrono::floor<std::chrono::seconds>(time).time_since_epoch().count();
  std::int64_t days = seconds / 86400;
  std::int64_t second_of_day = seconds % 86400;
  if (second_of_day < 0) {
    second_of_day += 86400;
    --days;
  }
  const CivilDate date = civil_from_days(days);
  if (date.year < 0 || date.year > 9999) return 0;
  const auto year = static_cast<unsigned>(date.year);
  const bool utc = form == TimeForm::kRfc5280 && year >= 1950 && year <= 2049;
  std::uint8_t* p = out;
  *p++ = utc ? kTagUtcTime : kTagGeneralizedTime;
  *p++ = utc ? 13 : 15;
  if (!utc) p = put2(p, year / 100);
  p = put2(p, year % 100);
  p = put2(p, date.month);
  p = put2(p, date.day);
  const auto sod = static_cast<unsigned>(second_of_day);
  p = put2(p, sod / 3600);
  p = put2(p, sod / 60 % 60);
  p = put2(p, sod % 60);
  *p++ = 'Z';
  return static_cast<std::size_t>(p - out);
}

base::Result<void> DerWriter::write_time(base::TimePoint time, TimeForm form) {
  std::uint8_t tlv[kMaxTimeTlvSize];
  const std::size_t size = encode_time_tlv(time, form, tlv);
  if (size == 0) {
    const auto year = static_cast<int>(
        std::chrono::year_month_day(std::chrono::floor<std::chrono::days>(time)).year());
    return Error(ErrorCode::kInvalidArgument,
                 "year " + std::to_string(year) + " cannot be encoded in an X.509 time");
  }
  write_raw(base::ByteView(tlv, size));
  return base::ok();
}

std::optional<DerHeader> read_der_header(base::ByteView data) {
  if (data.size() < 2) return std::nullopt;
  DerHeader header;
  header.tag = data[0];
  if ((header.tag & 0x1f) == 0x1f) return std::nullopt;  // multi-octet tags: not used here
  const std::uint8_t first = data[1];
  std::size_t length = 0;
  std::size_t pos = 2;
  if (first < 0x80) {
    length = first;
  } else {
    const std::size_t octets = first & 0x7f;
    if (octets == 0 || octets > sizeof(std::size_t) - 1) return std::nullopt;  // indefinite/huge
    if (data.size() < 2 + octets) return std::nullopt;
    for (std::size_t i = 0; i < octets; ++i) length = (length << 8) | data[pos++];
    if (length < 0x80 || der_length_size(length) != octets + 1) return std::nullopt;
  }
  header.header_size = pos;
  header.total_size = pos + length;
  return header;
}

base::Result<DerElement> DerReader::next() {
  const auto rest = data_.subspan(pos_);
  if (rest.empty())
    return Error(ErrorCode::kInvalidArgument, "DER ends where an element was expected");
  const auto header = read_der_header(rest);
  if (!header) return Error(ErrorCode::kInvalidArgument, "malformed DER element header");
  if (header->total_size > rest.size()) {
    return Error(ErrorCode::kInvalidArgument, "DER element is truncated");
  }
  DerElement element;
  element.tag = header->tag;
  element.whole = rest.first(header->total_size);
  element.content = element.whole.subspan(header->header_size);
  pos_ += header->total_size;
  return element;
}

base::Result<DerElement> DerReader::expect(std::uint8_t tag, std::string_view what) {
  SIGNET_ASSIGN_OR_RETURN(auto element, next());
  if (element.tag != tag) {
    return Error(ErrorCode::kInvalidArgument,
                 "malformed " + std::string(what) + " (unexpected tag)");
  }
  return element;
}

base::Result<void> append_oid_content(std::string_view dotted, base::Bytes& out) {
  auto bad = [&] {
    return Error(ErrorCode::kInvalidArgument,
                 "'" + std::string(dotted) + "' is not a dotted object identifier");
  };
  auto put = [&out](std::uint64_t value) {
    std::uint8_t buffer[10];
    std::size_t n = 0;
    do {
      buffer[n++] = static_cast<std::uint8_t>(value & 0x7f);
      value >>= 7;
    } while (value != 0);
    while (n-- > 0) out.push_back(static_cast<std::uint8_t>(buffer[n] | (n != 0 ? 0x80 : 0)));
  };
  std::uint64_t first_arc = 0;
  std::size_t index = 0;
  std::size_t pos = 0;
  while (pos <= dotted.size()) {
    const std::size_t end = std::min(dotted.find('.', pos), dotted.size());
    if (end == pos || end - pos > 18) return bad();
    if (end - pos > 1 && dotted[pos] == '0') return bad();  // no leading zeros
    std::uint64_t arc = 0;
    for (std::size_t i = pos; i < end; ++i) {
      if (dotted[i] < '0' || dotted[i] > '9') return bad();
      arc = arc * 10 + static_cast<std::uint64_t>(dotted[i] - '0');
    }
    // X.690 §8.19.4: the first two arcs share one subidentifier, 40 * X + Y, where X is 0, 1
    // or 2 and Y < 40 under 0 and 1.
    if (index == 0) {
      if (arc > 2) return bad();
      first_arc = arc;
    } else if (index == 1) {
      if (first_arc < 2 && arc >= 40) return bad();
      put(first_arc * 40 + arc);
    } else {
      put(arc);
    }
    ++index;
    pos = end + 1;
  }
  if (index < 2) return bad();
  return base::ok();
}

base::Result<base::Bytes> encode_oid(std::string_view dotted) {
  base::Bytes out;
  SIGNET_TRY(append_oid_content(dotted, out));
  return out;
}

base::Result<void> DerWriter::write_oid_text(std::string_view dotted) {
  const auto marker = open(kTagOid);
  SIGNET_TRY(append_oid_content(dotted, out_));
  close(marker);
  return base::ok();
}

void DerWriter::write_positive_integer(base::ByteView magnitude) {
  const bool pad = !magnitude.empty() && (magnitude[0] & 0x80) != 0;
  out_.push_back(kTagInteger);
  write_length(magnitude.size() + (pad ? 1 : 0));
  if (pad) out_.push_back(0x00);
  write_raw(magnitude);
}

}  // namespace signet::pki::internal
