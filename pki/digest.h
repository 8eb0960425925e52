// Hashing on the host (tokens often offer only raw ECDSA/RSA) and key identifiers.
// Thread-safe: EVP_MD objects are fetched once and shared read-only.
#pragma once

#include "base/bytes.h"
#include "base/keys.h"
#include "base/result.h"

namespace signet::pki {

base::Bytes sha1(base::ByteView data);
base::Bytes sha256(base::ByteView data);
base::Result<base::Bytes> digest(base::DigestAlgorithm algorithm, base::ByteView data);

// RFC 5280 §4.2.1.2 method (1): SHA-1 of the subjectPublicKey BIT STRING of an SPKI.
base::Result<base::Bytes> key_identifier(base::ByteView spki_der);

// The DER DigestInfo prefix for PKCS#1 v1.5 signatures (RFC 8017 §9.2 note 1).
base::ByteView digest_info_prefix(base::DigestAlgorithm algorithm);

}  // namespace signet::pki
