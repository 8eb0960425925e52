// Keys as the CA sees them: algorithms, references to keys on tokens, and the two interfaces
// through which every private-key operation goes.
//
// A Signer is a private key that can sign but never shows its private half: on a PKCS#11
// token (hsm::Pkcs11Signer), on a smart card, or in software in unit tests. A KeyProvider makes
// and finds Signers. ca/ depends on these interfaces only, never on hsm/.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "base/bytes.h"
#include "base/result.h"
#include "base/secure_buffer.h"

namespace signet::base {

// The key algorithms Signet generates and accepts, named as operators type them.
enum class KeyAlgorithm { kEcP256, kEcP384, kRsa2048, kRsa3072, kRsa4096, kEd25519 };

std::string_view to_string(KeyAlgorithm algorithm);  // "ec-p256", "rsa-2048", "ed25519"...
Result<KeyAlgorithm> parse_key_algorithm(std::string_view name);
bool is_rsa(KeyAlgorithm algorithm);
bool is_ec(KeyAlgorithm algorithm);
int rsa_bits(KeyAlgorithm algorithm);  // 0 for non-RSA

// The digest a signature by this key uses: SHA-384 for P-384, none for Ed25519 (PureEdDSA),
// SHA-256 otherwise.
enum class DigestAlgorithm { kNone, kSha256, kSha384, kSha512 };
DigestAlgorithm default_digest(KeyAlgorithm algorithm);
std::string_view to_string(DigestAlgorithm digest);  // "sha256", "sha384", "none"

// How an RSA key pads a signature. PSS (RFC 8017 §8.1) uses MGF1 with the same digest and a
// salt as long as the digest, as TLS 1.3 requires (RFC 8446 §4.2.3).
enum class RsaPadding { kPkcs1v15, kPss };

// What a signature over a digest computed by the caller looks like. For EC keys only
// `digest` matters (it says how long the input is); Ed25519 cannot sign a digest.
struct SignatureScheme {
  DigestAlgorithm digest = DigestAlgorithm::kSha256;
  RsaPadding padding = RsaPadding::kPkcs1v15;
};

// The length of a digest: 32, 48 or 64 bytes; 0 for kNone.
std::size_t digest_size(DigestAlgorithm digest);
// What every sign_digest() checks first: kInvalidArgument unless `digest` is exactly as long
// as scheme.digest says (and scheme.digest is not kNone).
Result<void> check_digest_length(ByteView digest, const SignatureScheme& scheme);

// Where a key lives: the token's serial number and the key's CKA_ID. That pair is what we
// persist (labels can be renamed or duplicated). Labels are kept for display and for URIs.
// Never holds a PIN.
struct KeyRef {
  std::string token_serial;
  Bytes id;                  // CKA_ID
  std::string token_label;   // informational
  std::string object_label;  // informational (CKA_LABEL)
  std::string reader{};      // informational: the PC/SC reader a smart card was enrolled in

  // RFC 7512 URI, e.g. "pkcs11:token=signet;serial=1a2b;id=%01%02;type=private".
  std::string to_uri() const;
  bool operator==(const KeyRef& other) const {
    return token_serial == other.token_serial && id == other.id;
  }
};

// A private key that signs. sign() takes the message (e.g. a TBSCertificate), hashes it on
// the host with digest(), and returns the signatureValue bytes as X.509 wants them:
// PKCS#1 v1.5 for RSA, DER-encoded ECDSA-Sig-Value (r, s) for EC, 64 raw bytes for Ed25519.
// Implementations are thread-safe: sign() may be called from many threads at once.
class Signer {
 public:
  virtual ~Signer() = default;
  virtual const KeyRef& key_ref() const = 0;
  virtual KeyAlgorithm algorithm() const = 0;
  virtual DigestAlgorithm digest() const { return default_digest(algorithm()); }
  virtual const Bytes& public_key_der() const = 0;  // SubjectPublicKeyInfo DER
  virtual Result<Bytes> sign(ByteView message) const = 0;

  // Signs `digest`, already hashed by the caller with scheme.digest, as scheme says: RSA
  // PKCS#1 v1.5 (DigestInfo built here) or PSS, or ECDSA (DER ECDSA-Sig-Value). This is what
  // TLS and other OpenSSL callers need (hsm/openssl_provider.h), since they choose the digest
  // and, for RSA, the padding. kInvalidArgument when the digest's length does not match
  // scheme.digest; kNotSupported for Ed25519 (PureEdDSA signs the message) and for
  // implementations that do not offer it.
  virtual Result<Bytes> sign_digest(ByteView digest, const SignatureScheme& scheme) const;
};

// A software secret (the local-key pathway's PKCS#8 private key) kept only encrypted under a
// key-encryption key that lives on a token: RFC 5649 AES key wrap with padding
// (CKM_AES_KEY_WRAP_PAD), performed by the token with a non-extractable AES-256 key.
struct WrappedSecret {
  KeyRef kek;     // the token's key-encryption key
  Bytes wrapped;  // the RFC 5649 output
};

struct KeyGenerationRequest {
  std::string token;  // token label or serial; empty means the provider's default token
  KeyAlgorithm algorithm = KeyAlgorithm::kEcP256;
  std::string label;  // CKA_LABEL for both halves
};

// Makes and finds Signers. Generated private keys are created on the token with
// CKA_SENSITIVE=true and CKA_EXTRACTABLE=false; their bytes never reach our memory.
// Implementations are thread-safe.
class KeyProvider {
 public:
  virtual ~KeyProvider() = default;
  virtual Result<std::shared_ptr<Signer>> generate_key(const KeyGenerationRequest& request) = 0;
  virtual Result<std::shared_ptr<Signer>> find_key(const KeyRef& ref) = 0;
  // RFC 7512 URI naming exactly one private key; a URI with pin-value is refused.
  virtual Result<std::shared_ptr<Signer>> find_key_by_uri(std::string_view uri) = 0;
  // Deletes both halves of a key pair (used when an order that generated it fails).
  virtual Result<void> destroy_key(const KeyRef& ref) = 0;

  // Checks that the token (label or serial; "" = the default) can take another key pair
  // before one is generated: kResourceExhausted naming the token and what it lacks (free
  // private or public memory, as the token reports it) when it cannot. A token that does not
  // report its free space passes.
  virtual Result<void> check_room(std::string_view token) = 0;

  // Wraps `secret` under the token's key-encryption key (created on first use: AES-256,
  // CKA_SENSITIVE, not extractable, CKA_WRAP/CKA_UNWRAP only, label "signet-kek").
  virtual Result<WrappedSecret> wrap_secret(std::string_view token, ByteView secret) = 0;
  // The secret again, in locked memory. kVerificationFailed when the wrapped bytes were
  // altered (RFC 5649's integrity check), kNotFound when the KEK is gone.
  virtual Result<SecureBuffer> unwrap_secret(const WrappedSecret& wrapped) = 0;
};

}  // namespace signet::base
