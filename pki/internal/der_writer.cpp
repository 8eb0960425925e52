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

base::Result<void> DerWriter::write_time(base::TimePoint time) {
  using namespace std::chrono;
  const auto seconds = floor<std::chrono::seconds>(time);
  const auto day = floor<days>(seconds);
  const year_month_day date{day};
  const hh_mm_ss clock{seconds - day};
  const int year = static_cast<int>(date.year());
  if (year < 0 || year > 9999) {
    return Error(ErrorCode::kInvalidArgument,
                 "year " + std::to_string(year) + " cannot be encoded in an X.509 time");
  }
  const bool utc = year >= 1950 && year <= 2049;
  char text[15];
  std::size_t n = 0;
  auto put2 = [&](unsigned v) {
    text[n++] = static_cast<char>('0' + v / 10);
    text[n++] = static_cast<char>('0' + v % 10);
  };
  if (!utc) put2(static_cast<unsigned>(year / 100));
  put2(static_cast<unsigned>(year % 100));
  put2(static_cast<unsigned>(date.month()));
  put2(static_cast<unsigned>(date.day()));
  put2(static_cast<unsigned>(clock.hours().count()));
  put2(static_cast<unsigned>(clock.minutes().count()));
  put2(static_cast<unsigned>(clock.seconds().count()));
  text[n++] = 'Z';
  write_tlv(utc ? kTagUtcTime : kTagGeneralizedTime,
            base::ByteView(reinterpret_cast<const std::uint8_t*>(text), n));
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
