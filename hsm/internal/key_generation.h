// Generating a key pair on a token: the checks before (mechanisms, free memory), a fresh
// CKA_ID, and C_GenerateKeyPair with templates that keep the private key on the token:
// CKA_SENSITIVE, not CKA_EXTRACTABLE, CKA_SIGN only (no decrypt, unwrap or derive).
// Stateless, thread-safe; the session belongs to the caller.
#pragma once

#include <p11-kit/pkcs11.h>

#include <string_view>

#include "base/bytes.h"
#include "base/keys.h"
#include "base/result.h"
#include "base/rng.h"
#include "hsm/internal/session.h"
#include "hsm/module.h"

namespace signet::hsm::internal {

inline constexpr std::size_t kKeyIdSize = 16;
// Enough for the largest key pair we make (RSA-4096 private key plus its attributes).
inline constexpr unsigned long kMinimumFreeBytes = 4096;

struct GeneratedPair {
  CK_OBJECT_HANDLE public_key = CK_INVALID_HANDLE;
  CK_OBJECT_HANDLE private_key = CK_INVALID_HANDLE;
};

// kNotSupported unless the token lists the generation and signing mechanisms for
// `algorithm` (C_GetMechanismList, C_GetMechanismInfo) with the key size in range.
base::Result<void> check_mechanisms(const Pkcs11Module& module, const TokenInfo& token,
                                    base::KeyAlgorithm algorithm);

// kResourceExhausted, naming the token and which memory (private, public) is short, when the
// token reports less free memory than a key pair needs (kMinimumFreeBytes of each). Tokens
// that do not report free memory (CK_UNAVAILABLE_INFORMATION, CK_EFFECTIVELY_INFINITE) pass.
base::Result<void> check_room(const TokenInfo& token);

// A random CKA_ID that no object visible in `session` has.
base::Result<base::Bytes> unique_key_id(Session& session, base::Rng& rng);

base::Result<GeneratedPair> generate_pair(Session& session, base::KeyAlgorithm algorithm,
                                          base::ByteView id, std::string_view label);

}  // namespace signet::hsm::internal
