// Wrapping software secrets under a token's key-encryption key (KEK): the KEK's life (found
// by label, created once on the token), and RFC 5649 AES key wrap with padding
// (CKM_AES_KEY_WRAP_PAD) performed by the token.
//
// The KEK is an AES-256 CKO_SECRET_KEY generated on the token: CKA_TOKEN, CKA_PRIVATE,
// CKA_SENSITIVE, not CKA_EXTRACTABLE, CKA_WRAP and CKA_UNWRAP only (no encrypt, decrypt, sign
// or derive), CKA_LABEL kKekLabel, a random CKA_ID. Its bytes never reach our memory.
//
// The mechanism: PKCS#11 3.0 names RFC 5649 CKM_AES_KEY_WRAP_KWP (0x210B) and deprecates
// v2.40's CKM_AES_KEY_WRAP_PAD (0x210A), which tokens read differently (RFC 5649, or PKCS#7
// padding then RFC 3394). We use KWP where the token offers it, else PAD, which SoftHSM 2.6
// implements as RFC 5649 (and which is all it offers).
//
// Tokens such as SoftHSM 2.6 offer these for C_WrapKey/C_UnwrapKey only, not for C_Encrypt.
// So a secret is imported as a short-lived session object (a generic secret, extractable, not
// sensitive), wrapped with C_WrapKey, and destroyed; unwrapping makes the same kind of session
// object with C_UnwrapKey, reads its CKA_VALUE into locked memory, and destroys it. Session
// objects are held in RAII guards.
//
// The wrapped payload is the secret preceded by its length (4 bytes, big-endian): SoftHSM
// 2.6.1's C_WrapKey zero-pads the value to a multiple of 8 before the RFC 5649 wrap, so the
// wrap's own length indicator counts the padding and every unwrap (the token's, OpenSSL's)
// returns it. The length has to travel inside the wrap; unwrapping accepts at most 7 zero
// bytes after the secret.
//
// Stateless; the session belongs to the caller. Creating a KEK is not atomic across threads
// or processes: callers serialise find_or_create_kek() within the process, and when two
// processes raced and two KEKs exist, every caller picks the one with the lowest CKA_ID.
#pragma once

#include <p11-kit/pkcs11.h>

#include <optional>
#include <string_view>

#include "base/bytes.h"
#include "base/result.h"
#include "base/rng.h"
#include "base/secure_buffer.h"
#include "hsm/internal/session.h"
#include "hsm/module.h"

namespace signet::hsm::internal {

inline constexpr std::string_view kKekLabel = "signet-kek";
inline constexpr CK_ULONG kKekBytes = 32;  // AES-256

struct Kek {
  CK_OBJECT_HANDLE handle = CK_INVALID_HANDLE;
  base::Bytes id;  // CKA_ID
};

// PKCS#11 3.0's RFC 5649 mechanism, which p11-kit's header does not define yet.
inline constexpr CK_MECHANISM_TYPE kCkmAesKeyWrapKwp = 0x210BUL;

// The RFC 5649 mechanism to use with this token (see above): kNotSupported unless it offers
// KWP or PAD for wrapping and unwrapping with a 256-bit key.
base::Result<CK_MECHANISM_TYPE> wrap_mechanism(const Pkcs11Module& module, const TokenInfo& token);
// kNotSupported unless the token offers CKM_AES_KEY_GEN for 256-bit keys.
base::Result<void> check_kek_generation(const Pkcs11Module& module, const TokenInfo& token);

// The KEK with the lowest CKA_ID among those labelled kKekLabel; nullopt when there is none.
base::Result<std::optional<Kek>> find_kek(Session& session);
// find_kek(), or else a new KEK generated on the token (then found again, so that a KEK
// another process made at the same time wins if its CKA_ID is lower).
base::Result<Kek> find_or_create_kek(Session& session, base::Rng& rng);
// The KEK with this CKA_ID; kNotFound when the token has none.
base::Result<CK_OBJECT_HANDLE> kek_by_id(Session& session, base::ByteView id);

// RFC 5649 wrap of the length-prefixed `secret` under `kek`, by the token.
base::Result<base::Bytes> wrap_secret(Session& session, CK_MECHANISM_TYPE mechanism,
                                      CK_OBJECT_HANDLE kek, base::ByteView secret);
// The secret again; kVerificationFailed when the integrity check fails or the payload is not
// a length-prefixed secret.
base::Result<base::SecureBuffer> unwrap_secret(Session& session, CK_MECHANISM_TYPE mechanism,
                                               CK_OBJECT_HANDLE kek, base::ByteView wrapped);

}  // namespace signet::hsm::internal
