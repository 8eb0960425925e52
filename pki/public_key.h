// What a SubjectPublicKeyInfo holds: type, size or curve, and which KeyAlgorithm it is.
#pragma once

#include <optional>
#include <string>

#include "base/bytes.h"
#include "base/keys.h"
#include "base/result.h"

namespace signet::pki {

struct PublicKeyInfo {
  enum class Type { kRsa, kEc, kEd25519, kEd448, kOther };
  Type type = Type::kOther;
  int bits = 0;       // RSA modulus bits, EC field bits, 256 for Ed25519
  std::string curve;  // "P-256", "P-384", "secp256k1"... for EC
  std::string name;   // "rsa-2048", "ec-p256", "ed25519", "rsa-1024", "ec-secp256k1"
  std::optional<base::KeyAlgorithm> algorithm;  // set when it is one of Signet's algorithms
};

// Parses an SPKI. Fails on DER that does not parse as a public key.
base::Result<PublicKeyInfo> inspect_public_key(base::ByteView spki_der);

}  // namespace signet::pki
