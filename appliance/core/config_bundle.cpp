#include "appliance/core/config_bundle.h"

#include <algorithm>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "pki/certificate.h"
#include "pki/digest.h"
#include "pki/pem.h"
#include "pki/public_key.h"
#include "pki/signature.h"

namespace signet::appliance {
namespace {

using base::Error;
using base::ErrorCode;
using base::Result;
using nlohmann::json;

Error not_a_bundle(const std::string& why) {
  return Error(ErrorCode::kInvalidArgument,
               "the file is not a whole signed configuration bundle (" + why + ")");
}

Result<std::string> string_field(const json& j, const char* key, const char* where) {
  if (!j.contains(key) || !j[key].is_string()) {
    return not_a_bundle(std::string(where) + " has no string \"" + key + "\"");
  }
  return j[key].get<std::string>();
}

Result<base::Bytes> read_anchor(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Error(ErrorCode::kInvalidArgument, "cannot read the trust anchor '" + path + "'");
  std::stringstream buffer;
  buffer << in.rdbuf();
  const std::string text = buffer.str();
  if (text.find("-----BEGIN CERTIFICATE-----") != std::string::npos) {
    auto certificates = pki::Certificate::parse_bundle(base::as_bytes(text));
    if (!certificates || certificates->empty()) {
      return Error(ErrorCode::kInvalidArgument,
                   "the trust anchor '" + path + "' holds no certificate that parses");
    }
    return certificates->front().public_key_der();
  }
  auto blocks = pki::pem_decode_all(text, "PUBLIC KEY");
  if (!blocks || blocks->empty()) {
    return Error(ErrorCode::kInvalidArgument,
                 "the trust anchor '" + path + "' holds no PEM public key or certificate");
  }
  if (auto inspected = pki::inspect_public_key(blocks->front()); !inspected) {
    return Error(ErrorCode::kInvalidArgument,
                 "the trust anchor '" + path + "' holds a public key that does not parse");
  }
  return std::move(blocks->front());
}

// The digest a bundle signed by `spki` uses: the one base::Signer::sign uses for its key type.
Result<base::DigestAlgorithm> digest_for(base::ByteView spki) {
  SIGNET_ASSIGN_OR_RETURN(auto info, pki::inspect_public_key(spki));
  if (!info.algorithm) {
    return Error(ErrorCode::kNotSupported,
                 "a " + info.name + " key cannot sign configuration bundles");
  }
  return base::default_digest(*info.algorithm);
}

}  // namespace

std::string config_key_id(base::ByteView spki_der) { return base::to_hex(pki::sha256(spki_der)); }

Result<std::string> make_config_bundle(ConfigBundle bundle, const base::Signer& signer) {
  if (bundle.sequence == 0) {
    return Error(ErrorCode::kInvalidArgument, "a bundle's sequence number must be at least 1");
  }
  bundle.signer_key_id = config_key_id(signer.public_key_der());
  bundle.signer_key_uri = signer.key_ref().to_uri();
  bundle.config_sha256 = base::to_hex(pki::sha256(base::as_bytes(bundle.config_text)));
  const json payload = {{"format", kConfigBundleFormat},
                        {"sequence", bundle.sequence},
                        {"version", bundle.version},
                        {"created", bundle.created},
                        {"source", bundle.source},
                        {"signer_key_id", bundle.signer_key_id},
                        {"signer_key_uri", bundle.signer_key_uri},
                        {"algorithm", std::string(base::to_string(signer.algorithm()))},
                        {"config_sha256", bundle.config_sha256},
                        {"config", bundle.config_text}};
  const std::string payload_text = payload.dump();
  SIGNET_ASSIGN_OR_RETURN(auto signature, signer.sign(base::as_bytes(payload_text)));
  const json envelope = {{"format", kConfigBundleFormat},
                         {"signer_key_id", bundle.signer_key_id},
                         {"digest", std::string(base::to_string(signer.digest()))},
                         {"payload", base::to_base64(base::as_bytes(payload_text))},
                         {"signature", base::to_base64(signature)}};
  return envelope.dump(2) + "\n";
}

Result<std::vector<TrustAnchor>> load_trust_anchors(const std::vector<std::string>& paths) {
  std::vector<TrustAnchor> out;
  for (const auto& path : paths) {
    SIGNET_ASSIGN_OR_RETURN(auto spki, read_anchor(path));
    auto id = config_key_id(spki);
    out.push_back({path, std::move(spki), std::move(id)});
  }
  return out;
}

Result<ConfigBundle> open_config_bundle(std::string_view text,
                                        const std::vector<TrustAnchor>& anchors) {
  const auto envelope = json::parse(text, nullptr, false);
  if (envelope.is_discarded() || !envelope.is_object()) {
    return not_a_bundle("it is not a JSON object: truncated or damaged");
  }
  SIGNET_ASSIGN_OR_RETURN(auto format, string_field(envelope, "format", "the bundle"));
  if (format == kConfigBundleFormatV1) {
    return not_a_bundle("it is a " + format +
                        " bundle, which carries no sequence number and so could be replayed; "
                        "export the configuration again with this signet");
  }
  if (format != kConfigBundleFormat) {
    return not_a_bundle("its format is '" + format + "', not " + std::string(kConfigBundleFormat));
  }
  SIGNET_ASSIGN_OR_RETURN(auto key_id, string_field(envelope, "signer_key_id", "the bundle"));
  SIGNET_ASSIGN_OR_RETURN(auto payload_b64, string_field(envelope, "payload", "the bundle"));
  SIGNET_ASSIGN_OR_RETURN(auto signature_b64, string_field(envelope, "signature", "the bundle"));
  auto payload = base::from_base64(payload_b64);
  auto signature = base::from_base64(signature_b64);
  if (!payload || !signature) return not_a_bundle("its payload or signature is not base64");

  const auto anchor = std::find_if(anchors.begin(), anchors.end(),
                                   [&](const TrustAnchor& a) { return a.key_id == key_id; });
  if (anchor == anchors.end()) {
    return Error(ErrorCode::kVerificationFailed,
                 "the bundle is signed by an unknown key (id " + key_id +
                     "): it is none of the administrator trust anchors in [config] "
                     "admin_trust_anchors");
  }
  SIGNET_ASSIGN_OR_RETURN(auto digest, digest_for(anchor->spki));
  if (!pki::verify_signature(anchor->spki, digest, *payload, *signature)) {
    return Error(ErrorCode::kVerificationFailed,
                 "the bundle's signature does not verify with the trust anchor '" + anchor->source +
                     "': it was altered after signing or signed by another key");
  }
  // Authentic from here on.
  const auto inner = json::parse(base::as_chars(*payload), nullptr, false);
  if (inner.is_discarded() || !inner.is_object()) return not_a_bundle("the payload is not JSON");
  ConfigBundle out;
  SIGNET_ASSIGN_OR_RETURN(out.config_text, string_field(inner, "config", "the payload"));
  SIGNET_ASSIGN_OR_RETURN(out.created, string_field(inner, "created", "the payload"));
  SIGNET_ASSIGN_OR_RETURN(out.source, string_field(inner, "source", "the payload"));
  SIGNET_ASSIGN_OR_RETURN(out.signer_key_id, string_field(inner, "signer_key_id", "the payload"));
  SIGNET_ASSIGN_OR_RETURN(out.signer_key_uri, string_field(inner, "signer_key_uri", "the payload"));
  SIGNET_ASSIGN_OR_RETURN(out.config_sha256, string_field(inner, "config_sha256", "the payload"));
  if (inner.value("format", std::string()) != kConfigBundleFormat || out.signer_key_id != key_id ||
      !inner.contains("version") || !inner["version"].is_number_unsigned() ||
      !inner.contains("sequence") || !inner["sequence"].is_number_unsigned() ||
      inner["sequence"].get<std::uint64_t>() == 0) {
    return not_a_bundle(
        "the payload's format, sequence, version or signer does not match its envelope");
  }
  out.version = inner["version"].get<unsigned>();
  out.sequence = inner["sequence"].get<std::uint64_t>();
  if (base::to_hex(pki::sha256(base::as_bytes(out.config_text))) != out.config_sha256) {
    return Error(ErrorCode::kVerificationFailed,
                 "the configuration's SHA-256 does not match the one the bundle states");
  }
  return out;
}

}  // namespace signet::appliance
