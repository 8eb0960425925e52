// Reading SubjectPublicKeyInfo (RFC 5280 §4.1.2.7) without OpenSSL's generic decoder.
//
// In OpenSSL 3.0, d2i_PUBKEY builds a decoder context on every call, which profiling showed
// to be the largest cost of an issuance (several times a signature on the token). For the
// key types we meet every day (RSA, EC on named curves, Ed25519) we split the SPKI with our
// DER reader and build the EVP_PKEY from its parts (EVP_PKEY_fromdata, which still checks
// that an EC point is on its curve). Anything else goes through d2i_PUBKEY as before.
// Plain functions, thread-safe.
#pragma once

#include <optional>

#include "base/bytes.h"
#include "base/openssl.h"
#include "base/result.h"
#include "pki/public_key.h"

namespace signet::pki::internal {

struct SpkiParts {
  base::ByteView algorithm_oid;  // content octets of the algorithm OBJECT IDENTIFIER
  base::ByteView parameters;     // the whole parameters TLV, empty when absent
  base::ByteView key;            // the subjectPublicKey BIT STRING's bits (no unused-bits octet)
};

// Splits a DER SPKI; refuses trailing data and a BIT STRING with unused bits.
base::Result<SpkiParts> split_spki(base::ByteView spki_der);

// Describes RSA, named-curve EC and Ed25519 keys from their DER alone; nullopt for anything
// else (the caller falls back to OpenSSL).
std::optional<PublicKeyInfo> describe_spki(const SpkiParts& parts);

// The key as an EVP_PKEY, built from its parts where we can and by d2i_PUBKEY otherwise.
base::Result<base::EvpPkeyPtr> load_public_key(base::ByteView spki_der);

}  // namespace signet::pki::internal
