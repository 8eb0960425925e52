// The codec of a stored CRL's metadata (store/internal/codec.h). The DER itself is not in
// it: it is stored raw in its own table, so that listing CRLs never reads it.
#include "store/internal/codec.h"
#include "store/internal/tlv.h"

namespace signet::store::codec {

namespace {

using base::Bytes;
using base::ByteView;
using tlv::Decoder;
using tlv::Writer;

// Field tags. Never reuse or renumber a tag: records on disk keep them forever.
namespace crl_tag {
constexpr std::uint8_t kCaName = 1, kNumber = 2, kKind = 3, kBaseNumber = 4, kThisUpdate = 5,
                       kNextUpdate = 6, kRevocationSequence = 7, kEntries = 8, kDerSize = 9;
}

}  // namespace

void encode(const ca::CrlRecord& crl, Bytes& out) {
  out.clear();
  out.push_back(kFormatVersion);
  Writer w(out);
  w.text(crl_tag::kCaName, crl.ca_name);
  w.u64(crl_tag::kNumber, crl.number);
  w.u8(crl_tag::kKind, crl.kind == ca::CrlKind::kFull ? 0 : 1);
  w.nonzero_u64(crl_tag::kBaseNumber, crl.base_number);
  w.time(crl_tag::kThisUpdate, crl.this_update);
  w.time(crl_tag::kNextUpdate, crl.next_update);
  w.u64(crl_tag::kRevocationSequence, crl.revocation_sequence);
  w.u64(crl_tag::kEntries, crl.entries);
  w.u64(crl_tag::kDerSize, crl.der.empty() ? crl.der_size : crl.der.size());
}

base::Result<ca::CrlRecord> decode_crl(ByteView data, std::string_view table, ByteView key) {
  const Decoder d(table, key);
  SIGNET_ASSIGN_OR_RETURN(ByteView body, d.body(data));
  ca::CrlRecord crl;
  bool have_number = false;
  SIGNET_TRY(d.fields(body, [&](std::uint8_t tag, ByteView v) -> base::Result<void> {
    switch (tag) {
      case crl_tag::kCaName:
        crl.ca_name = Decoder::text(v);
        break;
      case crl_tag::kNumber: {
        SIGNET_ASSIGN_OR_RETURN(crl.number, d.u64(tag, v));
        have_number = true;
        break;
      }
      case crl_tag::kKind: {
        SIGNET_ASSIGN_OR_RETURN(auto kind, d.u8(tag, v, 1));
        crl.kind = kind == 0 ? ca::CrlKind::kFull : ca::CrlKind::kDelta;
        break;
      }
      case crl_tag::kBaseNumber: {
        SIGNET_ASSIGN_OR_RETURN(crl.base_number, d.u64(tag, v));
        break;
      }
      case crl_tag::kThisUpdate: {
        SIGNET_ASSIGN_OR_RETURN(crl.this_update, d.time(tag, v));
        break;
      }
      case crl_tag::kNextUpdate: {
        SIGNET_ASSIGN_OR_RETURN(crl.next_update, d.time(tag, v));
        break;
      }
      case crl_tag::kRevocationSequence: {
        SIGNET_ASSIGN_OR_RETURN(crl.revocation_sequence, d.u64(tag, v));
        break;
      }
      case crl_tag::kEntries: {
        SIGNET_ASSIGN_OR_RETURN(crl.entries, d.u64(tag, v));
        break;
      }
      case crl_tag::kDerSize: {
        SIGNET_ASSIGN_OR_RETURN(crl.der_size, d.u64(tag, v));
        break;
      }
      default:
        break;  // a field from a newer build
    }
    return base::ok();
  }));
  if (crl.ca_name.empty() || !have_number || crl.number == 0) {
    return d.corrupt("the CRL's CA name or number is missing");
  }
  return crl;
}

}  // namespace signet::store::codec
