#include "pki/pem.h"

#include "base/bytes.h"

namespace signet::pki {

using base::Error;
using base::ErrorCode;

std::string pem_encode(std::string_view label, base::ByteView der) {
  const std::string body = base::to_base64(der);
  std::string out;
  out.reserve(body.size() + body.size() / 64 + 2 * label.size() + 40);
  out.append("-----BEGIN ").append(label).append("-----\n");
  // RFC 7468 §2: lines of exactly 64 characters except the last.
  for (std::size_t pos = 0; pos < body.size(); pos += 64) {
    out.append(body, pos, 64).push_back('\n');
  }
  out.append("-----END ").append(label).append("-----\n");
  return out;
}

base::Result<std::vector<base::Bytes>> pem_decode_all(std::string_view text,
                                                      std::string_view label) {
  const std::string begin = "-----BEGIN " + std::string(label) + "-----";
  const std::string end = "-----END " + std::string(label) + "-----";
  std::vector<base::Bytes> blocks;
  std::size_t pos = 0;
  // RFC 7468 §2: text outside the encapsulation boundaries is ignored; line breaks may be
  // CRLF or LF (whitespace inside the base64 is skipped by from_base64).
  while ((pos = text.find(begin, pos)) != std::string_view::npos) {
    const std::size_t body_start = pos + begin.size();
    const std::size_t body_end = text.find(end, body_start);
    const std::string which =
        "PEM block " + std::to_string(blocks.size() + 1) + " ('" + std::string(label) + "')";
    if (body_end == std::string_view::npos) {
      return Error(ErrorCode::kInvalidArgument, which + " is truncated (no END line)");
    }
    const std::string_view body = text.substr(body_start, body_end - body_start);
    if (body.find("-----") != std::string_view::npos) {
      return Error(ErrorCode::kInvalidArgument, which +
                                                    " is truncated (another block begins "
                                                    "before its END line)");
    }
    auto der = base::from_base64(body);
    if (!der) return Error(ErrorCode::kInvalidArgument, which + " is not valid base64");
    if (der->empty()) return Error(ErrorCode::kInvalidArgument, which + " is empty");
    blocks.push_back(std::move(*der));
    pos = body_end + end.size();
  }
  if (blocks.empty()) {
    return Error(ErrorCode::kInvalidArgument, "no PEM block labelled '" + std::string(label) + "'");
  }
  return blocks;
}

bool looks_like_pem(base::ByteView data) {
  return base::as_chars(data).find("-----BEGIN ") != std::string_view::npos;
}

}  // namespace signet::pki
