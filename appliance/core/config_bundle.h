// Signed configuration bundles: `signet config export --sign` and `signet config import`.
//
// A bundle is one JSON object (docs/CONFIGURATION.md, "Signed bundles"):
//   {"format": "signet-config-bundle-v2",
//    "payload": base64(P), "signature": base64(S), "signer_key_id": "<hex>", "digest": "sha256"}
// where P, the signed bytes, is itself a JSON object holding the TOML text and its metadata
// (format, sequence, version, created, source, signer key id and URI, the key's algorithm, the
// configuration's SHA-256 and the text), and S is the administrator key's signature of P exactly
// as base::Signer::sign makes it (the key's digest; ECDSA DER-encoded, RSA PKCS#1 v1.5). So
// `openssl dgst -sha256 -verify admin.pub -signature S.der P.bin` verifies a bundle made with an
// EC P-256 key. The key id is the hex SHA-256 of the signer's SubjectPublicKeyInfo DER.
//
// Opening a bundle checks, in this order and before anything else is read from P: the envelope
// is whole, the signer is one of the trust anchors, the signature verifies with that anchor's
// key (the digest follows from the anchor's key type, never from the bundle), and the text's
// SHA-256 matches.
//
// Replay protection: the signed payload carries a sequence number (>= 1) besides its creation
// time, and an appliance imports a bundle only when its sequence is above that of every bundle
// it imported before (firmware_config::ConfigHistory keeps them with the versions), so a bundle
// taken earlier cannot be imported again, nor an older one after a newer. Version 1 bundles had
// no sequence and are refused. Stateless functions; thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "base/keys.h"
#include "base/result.h"

namespace signet::appliance {

inline constexpr std::string_view kConfigBundleFormat = "signet-config-bundle-v2";
inline constexpr std::string_view kConfigBundleFormatV1 = "signet-config-bundle-v1";

struct ConfigBundle {
  std::string config_text;     // the TOML as applied
  std::uint64_t sequence = 0;  // orders the bundles an administrator signs; >= 1
  unsigned version = 0;        // the applied version it came from; 0: a file
  std::string created;         // RFC 3339 UTC
  std::string source;          // "version 3", or the file's path
  std::string signer_key_id;   // set by make_config_bundle
  std::string signer_key_uri;  // set by make_config_bundle (pkcs11: URI, informational)
  std::string config_sha256;   // set by make_config_bundle (hex)
};

// A public key the administrator trusts to sign bundles.
struct TrustAnchor {
  std::string source;  // the file it came from
  base::Bytes spki;    // SubjectPublicKeyInfo DER
  std::string key_id;  // hex SHA-256 of spki
};

// The key id of an SPKI: the hex SHA-256 of its DER.
std::string config_key_id(base::ByteView spki_der);

// Signs `bundle` (its text, sequence, version, created, source) with `signer`; the bundle
// file's text. kInvalidArgument for a sequence of 0.
base::Result<std::string> make_config_bundle(ConfigBundle bundle, const base::Signer& signer);

// Reads the PEM files named by [config] admin_trust_anchors: each a PUBLIC KEY or a
// CERTIFICATE (its key is trusted; its validity is not checked). kInvalidArgument naming the
// file that cannot be read or parsed.
base::Result<std::vector<TrustAnchor>> load_trust_anchors(const std::vector<std::string>& paths);

// Verifies `text` as described above and returns what it holds. kVerificationFailed for an
// unknown signer, a signature that does not verify and a text whose hash does not match;
// kInvalidArgument for a file that is no bundle (truncated, damaged, another format, a version
// 1 bundle without a sequence number). The sequence is the caller's to check.
base::Result<ConfigBundle> open_config_bundle(std::string_view text,
                                              const std::vector<TrustAnchor>& anchors);

}  // namespace signet::appliance
