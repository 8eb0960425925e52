// The codec of a signed audit checkpoint (store/internal/codec.h). The sequence is the key,
// and is also encoded, so that a checkpoint moved to another key is recognised.
#include "store/internal/codec.h"
#include "store/internal/tlv.h"

namespace signet::store::codec {

namespace {

using base::Bytes;
using base::ByteView;
using tlv::Decoder;
using tlv::Writer;

// Field tags. Never reuse or renumber a tag: records on disk keep them forever.
namespace checkpoint_tag {
constexpr std::uint8_t kSequence = 1, kHead = 2, kSignedAt = 3, kKey = 4, kPublicKey = 5,
                       kAlgorithm = 6, kSignature = 7;
}

}  // namespace

void encode(const ca::AuditCheckpoint& checkpoint, Bytes& out) {
  out.clear();
  out.push_back(kFormatVersion);
  Writer w(out);
  w.u64(checkpoint_tag::kSequence, checkpoint.sequence);
  w.bytes(checkpoint_tag::kHead, checkpoint.head);
  w.time(checkpoint_tag::kSignedAt, checkpoint.signed_at);
  Bytes key;
  tlv::encode_key_ref(checkpoint.key, key);
  w.bytes(checkpoint_tag::kKey, key);
  w.bytes(checkpoint_tag::kPublicKey, checkpoint.public_key_der);
  w.text(checkpoint_tag::kAlgorithm, base::to_string(checkpoint.algorithm));
  w.bytes(checkpoint_tag::kSignature, checkpoint.signature);
}

base::Result<ca::AuditCheckpoint> decode_checkpoint(ByteView data, std::string_view table,
                                                    ByteView key) {
  const Decoder d(table, key);
  SIGNET_ASSIGN_OR_RETURN(ByteView body, d.body(data));
  ca::AuditCheckpoint c;
  bool have_sequence = false;
  SIGNET_TRY(d.fields(body, [&](std::uint8_t tag, ByteView v) -> base::Result<void> {
    switch (tag) {
      case checkpoint_tag::kSequence: {
        SIGNET_ASSIGN_OR_RETURN(c.sequence, d.u64(tag, v));
        have_sequence = true;
        break;
      }
      case checkpoint_tag::kHead:
        c.head.assign(v.begin(), v.end());
        break;
      case checkpoint_tag::kSignedAt: {
        SIGNET_ASSIGN_OR_RETURN(c.signed_at, d.time(tag, v));
        break;
      }
      case checkpoint_tag::kKey: {
        SIGNET_ASSIGN_OR_RETURN(c.key, d.key_ref(v));
        break;
      }
      case checkpoint_tag::kPublicKey:
        c.public_key_der.assign(v.begin(), v.end());
        break;
      case checkpoint_tag::kAlgorithm: {
        auto algorithm = base::parse_key_algorithm(Decoder::text(v));
        if (!algorithm) return d.corrupt("unknown key algorithm '" + Decoder::text(v) + "'");
        c.algorithm = *algorithm;
        break;
      }
      case checkpoint_tag::kSignature:
        c.signature.assign(v.begin(), v.end());
        break;
      default:
        break;  // a field from a newer build
    }
    return base::ok();
  }));
  if (!have_sequence || c.sequence == 0) return d.corrupt("the checkpoint has no sequence");
  return c;
}

}  // namespace signet::store::codec
