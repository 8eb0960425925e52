#include "base/keys.h"

namespace signet::base {
namespace {

struct AlgorithmName {
  KeyAlgorithm algorithm;
  std::string_view name;
};

constexpr AlgorithmName kAlgorithmNames[] = {
    {KeyAlgorithm::kEcP256, "ec-p256"},   {KeyAlgorithm::kEcP384, "ec-p384"},
    {KeyAlgorithm::kRsa2048, "rsa-2048"}, {KeyAlgorithm::kRsa3072, "rsa-3072"},
    {KeyAlgorithm::kRsa4096, "rsa-4096"}, {KeyAlgorithm::kEd25519, "ed25519"},
};

// RFC 7512 §2.3: percent-encode everything outside the unreserved and path-safe characters.
std::string uri_escape(ByteView bytes, bool escape_all) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (std::uint8_t b : bytes) {
    const bool plain = (b >= 'a' && b <= 'z') || (b >= 'A' && b <= 'Z') || (b >= '0' && b <= '9') ||
                       b == '-' || b == '.' || b == '_' || b == '~';
    if (plain && !escape_all) {
      out.push_back(static_cast<char>(b));
    } else {
      out.push_back('%');
      out.push_back(kHex[b >> 4]);
      out.push_back(kHex[b & 0x0f]);
    }
  }
  return out;
}

}  // namespace

std::string_view to_string(KeyAlgorithm algorithm) {
  for (const auto& entry : kAlgorithmNames) {
    if (entry.algorithm == algorithm) return entry.name;
  }
  return "unknown";
}

Result<KeyAlgorithm> parse_key_algorithm(std::string_view name) {
  for (const auto& entry : kAlgorithmNames) {
    if (entry.name == name) return entry.algorithm;
  }
  return Error(ErrorCode::kInvalidArgument,
               "unknown key algorithm '" + std::string(name) +
                   "' (expected ec-p256, ec-p384, rsa-2048, rsa-3072, rsa-4096 or ed25519)");
}

bool is_rsa(KeyAlgorithm a) {
  return a == KeyAlgorithm::kRsa2048 || a == KeyAlgorithm::kRsa3072 || a == KeyAlgorithm::kRsa4096;
}

bool is_ec(KeyAlgorithm a) { return a == KeyAlgorithm::kEcP256 || a == KeyAlgorithm::kEcP384; }

int rsa_bits(KeyAlgorithm a) {
  switch (a) {
    case KeyAlgorithm::kRsa2048:
      return 2048;
    case KeyAlgorithm::kRsa3072:
      return 3072;
    case KeyAlgorithm::kRsa4096:
      return 4096;
    default:
      return 0;
  }
}

DigestAlgorithm default_digest(KeyAlgorithm algorithm) {
  switch (algorithm) {
    case KeyAlgorithm::kEcP384:
      return DigestAlgorithm::kSha384;
    case KeyAlgorithm::kEd25519:
      return DigestAlgorithm::kNone;
    default:
      return DigestAlgorithm::kSha256;
  }
}

std::string_view to_string(DigestAlgorithm digest) {
  switch (digest) {
    case DigestAlgorithm::kNone:
      return "none";
    case DigestAlgorithm::kSha256:
      return "sha256";
    case DigestAlgorithm::kSha384:
      return "sha384";
    case DigestAlgorithm::kSha512:
      return "sha512";
  }
  return "unknown";
}

std::string KeyRef::to_uri() const {
  std::string uri = "pkcs11:";
  bool first = true;
  auto add = [&](std::string_view attribute, const std::string& value) {
    if (!first) uri += ';';
    first = false;
    uri += attribute;
    uri += '=';
    uri += value;
  };
  if (!token_label.empty()) add("token", uri_escape(as_bytes(token_label), false));
  if (!token_serial.empty()) add("serial", uri_escape(as_bytes(token_serial), false));
  if (!object_label.empty()) add("object", uri_escape(as_bytes(object_label), false));
  if (!id.empty()) add("id", uri_escape(id, true));
  add("type", "private");
  return uri;
}

std::size_t digest_size(DigestAlgorithm digest) {
  switch (digest) {
    case DigestAlgorithm::kNone:
      return 0;
    case DigestAlgorithm::kSha256:
      return 32;
    case DigestAlgorithm::kSha384:
      return 48;
    case DigestAlgorithm::kSha512:
      return 64;
  }
  return 0;
}

Result<void> check_digest_length(ByteView digest, const SignatureScheme& scheme) {
  const std::size_t expected = digest_size(scheme.digest);
  if (expected == 0) {
    return Error(ErrorCode::kInvalidArgument, "a signature over a digest needs a digest algorithm");
  }
  if (digest.size() != expected) {
    return Error(ErrorCode::kInvalidArgument, "a " + std::string(to_string(scheme.digest)) +
                                                  " digest has " + std::to_string(expected) +
                                                  " bytes, not " + std::to_string(digest.size()));
  }
  return ok();
}

Result<Bytes> Signer::sign_digest(ByteView digest, const SignatureScheme& scheme) const {
  (void)digest;
  (void)scheme;
  return Error(ErrorCode::kNotSupported,
               "this key (" + key_ref().to_uri() + ") cannot sign a precomputed digest");
}

}  // namespace signet::base
