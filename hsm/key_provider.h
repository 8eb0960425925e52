// Pkcs11KeyProvider: base::KeyProvider over any number of PKCS#11 modules and their tokens.
// It generates key pairs ON the token (the private half is CKA_SENSITIVE, never extractable,
// CKA_LOCAL by construction), finds keys by KeyRef (token serial + CKA_ID) or RFC 7512 URI,
// and hands out Pkcs11Signers. Also the operator's view: tokens, keys, and the attributes that
// prove a private key never left its token.
//
// Tokens are found by label or serial each time they are named (slot ids move); each token
// gets one session pool and one login, shared by every signer on it. PINs come from the
// PinSource, once per login, and are never kept.
//
// Ownership: holds the modules (shared) and the per-token state; signers keep their token and
// module alive on their own, so they may outlive the provider. Thread-safe.
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/keys.h"
#include "base/rng.h"
#include "hsm/module.h"
#include "hsm/signer.h"
#include "hsm/token_events.h"

namespace signet::hsm {

namespace internal {
class Token;
}

// One private key as an operator lists it.
struct KeyInfo {
  base::KeyRef ref;                             // token serial + CKA_ID, with labels
  std::string key_type;                         // "RSA", "EC", "EC_EDWARDS" (CKA_KEY_TYPE)
  std::optional<base::KeyAlgorithm> algorithm;  // absent when Signet does not use the kind
  bool has_public_key = false;                  // a CKO_PUBLIC_KEY with the same CKA_ID exists
};

// One object on a token, as `signet card show` lists it. Secret keys are not listed.
struct TokenObject {
  enum class Kind { kPrivateKey, kPublicKey, kCertificate, kData };
  Kind kind = Kind::kData;
  base::Bytes id;     // CKA_ID (may be empty)
  std::string label;  // CKA_LABEL
  base::Bytes value;  // certificates: the DER (CKA_VALUE); empty for the others
};
std::string_view to_string(TokenObject::Kind kind);  // "private-key", "certificate"...

// The private key attributes that show where the key was born and whether it can leave.
struct PrivateKeyAttributes {
  bool sensitive = false;          // CKA_SENSITIVE
  bool always_sensitive = false;   // CKA_ALWAYS_SENSITIVE
  bool extractable = true;         // CKA_EXTRACTABLE
  bool never_extractable = false;  // CKA_NEVER_EXTRACTABLE
  bool local = false;              // CKA_LOCAL: generated on the token
  bool token_object = false;       // CKA_TOKEN: persistent
  bool is_private = false;         // CKA_PRIVATE: needs a login to use
};

class Pkcs11KeyProvider final : public base::KeyProvider {
 public:
  struct Options {
    std::size_t max_sessions_per_token = 16;
    std::shared_ptr<base::Rng> rng;  // for CKA_IDs; null: the system CSPRNG
    // Told of every token's logins, refused logins, token errors and lost sessions.
    TokenEventObserver token_events;
  };

  // `default_token` (label or serial; "" = the only initialised token) is where keys are
  // generated when a request names no token; it must exist now.
  static base::Result<std::shared_ptr<Pkcs11KeyProvider>> create(
      std::vector<std::shared_ptr<Pkcs11Module>> modules, std::string default_token, PinSource pins,
      Options options);
  static base::Result<std::shared_ptr<Pkcs11KeyProvider>> create(
      std::vector<std::shared_ptr<Pkcs11Module>> modules, std::string default_token,
      PinSource pins) {
    return create(std::move(modules), std::move(default_token), std::move(pins), Options());
  }
  ~Pkcs11KeyProvider() override;

  // base::KeyProvider. generate_key: EC P-256/P-384 (CKM_EC_KEY_PAIR_GEN), RSA 2048/3072/4096
  // (CKM_RSA_PKCS_KEY_PAIR_GEN, e = 65537), Ed25519 (CKM_EC_EDWARDS_KEY_PAIR_GEN); kNotSupported
  // when the token's mechanism list lacks the mechanism.
  base::Result<std::shared_ptr<base::Signer>> generate_key(
      const base::KeyGenerationRequest& request) override;
  // generate_key with CKA_ID `fixed_id` for both halves (empty: a fresh random one), for
  // cards whose key slots have fixed ids (PIV). A key already there is refused
  // (kAlreadyExists) unless `replace`: then the new key takes the slot as generation on a PIV
  // card does, and a previous key pair the token kept beside it is destroyed.
  base::Result<std::shared_ptr<base::Signer>> generate_key_with_id(
      const base::KeyGenerationRequest& request, base::ByteView fixed_id, bool replace = false);
  base::Result<std::shared_ptr<base::Signer>> find_key(const base::KeyRef& ref) override;
  base::Result<std::shared_ptr<base::Signer>> find_key_by_uri(std::string_view uri) override;
  base::Result<void> destroy_key(const base::KeyRef& ref) override;
  // Gives both halves of a key pair a new CKA_LABEL (an audit-key rotation retires the old key).
  base::Result<void> relabel_key(const base::KeyRef& ref, std::string_view label);
  // C_GetTokenInfo's free private and public memory against what a key pair needs.
  base::Result<void> check_room(std::string_view token) override;
  // RFC 5649 by the token (CKM_AES_KEY_WRAP_PAD) under its "signet-kek" AES-256 key, which the
  // first wrap creates (see hsm/internal/secret_wrap.h). kNotSupported when the token lacks
  // the mechanisms.
  base::Result<base::WrappedSecret> wrap_secret(std::string_view token,
                                                base::ByteView secret) override;
  base::Result<base::SecureBuffer> unwrap_secret(const base::WrappedSecret& wrapped) override;

  // Every initialised token of every module.
  base::Result<std::vector<TokenInfo>> tokens() const;
  // The private keys on one token (label or serial; "" = the default token). Secret keys such
  // as the key-encryption key are not listed: they are not key pairs an order could orphan.
  base::Result<std::vector<KeyInfo>> list_keys(std::string_view token);
  // Logs in to one token (label or serial) with a PIN an operator typed (the console's PIN
  // entry); a no-op when this process is logged in already. kPinIncorrect / kPinLocked as
  // the token answers; the PIN is not kept.
  base::Result<void> log_in(std::string_view token, const base::SecureBuffer& pin);
  // Whether this process is logged in to the token (true when it needs no login); false for
  // a token nothing has used yet. Never logs in.
  bool logged_in(const TokenInfo& token);
  // C_GetAttributeValue of the private half of `ref`.
  base::Result<PrivateKeyAttributes> read_private_key_attributes(const base::KeyRef& ref);

  // ---- what smart-card enrollment needs (token_objects.cpp) ----
  // The algorithms of base::KeyAlgorithm that the token can both generate and sign with
  // (C_GetMechanismList / C_GetMechanismInfo key sizes; EC curves as the token offers
  // CKM_EC_KEY_PAIR_GEN), in enum order.
  base::Result<std::vector<base::KeyAlgorithm>> supported_algorithms(std::string_view token);
  // Logs in now (asking the PinSource, which sees the PIN counters), so that a wrong or locked
  // PIN is reported before any work.
  base::Result<void> log_in(std::string_view token);
  // The token's key, certificate and data objects, in the order the token finds them.
  base::Result<std::vector<TokenObject>> list_objects(std::string_view token);
  // Writes an X.509 certificate as a public CKO_CERTIFICATE token object (CKC_X_509, with
  // CKA_SUBJECT, CKA_ISSUER, CKA_SERIAL_NUMBER) with CKA_ID `id` and CKA_LABEL `label`.
  base::Result<void> put_certificate(std::string_view token, base::ByteView id,
                                     std::string_view label, base::ByteView der);
  // Card administration on `token` (key generation, writing and deleting objects) from now on
  // runs under a security officer login with the secret `so_pins` gives (ykcs11 takes a PIV
  // card's management key as the SO PIN); the user login is ended for it and made again
  // afterwards. Without this, the user login administers the token.
  base::Result<void> set_administrator_pins(std::string_view token, PinSource so_pins);
  // Destroys the certificate objects with CKA_ID `id` (only the one whose value is `der`, when
  // given); returns how many went.
  base::Result<std::size_t> destroy_certificates(std::string_view token, base::ByteView id,
                                                 std::optional<base::ByteView> der);

 private:
  Pkcs11KeyProvider(std::vector<std::shared_ptr<Pkcs11Module>> modules, std::string default_token,
                    PinSource pins, Options options);

  // The token state for a label or serial ("" = default), made on first use.
  base::Result<std::shared_ptr<internal::Token>> token(std::string_view label_or_serial);
  std::shared_ptr<internal::Token> token_for(const TokenInfo& info);
  base::Result<std::shared_ptr<internal::Token>> token_for_ref(const base::KeyRef& ref);

  const std::vector<std::shared_ptr<Pkcs11Module>> modules_;
  const std::string default_token_;
  const PinSource pins_;
  const Options options_;

  std::mutex mutex_;                                                // guards tokens_
  std::map<std::string, std::shared_ptr<internal::Token>> tokens_;  // by "module\0serial"
  // Serialises finding-or-creating the key-encryption key, so that this process makes one.
  std::mutex kek_mutex_;
};

}  // namespace signet::hsm
