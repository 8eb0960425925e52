// What a key on a token is (its KeyAlgorithm, from CKA_KEY_TYPE and CKA_EC_PARAMS or
// CKA_MODULUS) and its public half as a SubjectPublicKeyInfo, built with OpenSSL from the
// token's attributes: CKA_EC_PARAMS + CKA_EC_POINT (DER OCTET STRING as SoftHSM returns it,
// or the raw point), CKA_MODULUS + CKA_PUBLIC_EXPONENT for RSA. Stateless, thread-safe.
#pragma once

#include <p11-kit/pkcs11.h>

#include <optional>

#include "base/bytes.h"
#include "base/keys.h"
#include "base/result.h"
#include "hsm/internal/session.h"

namespace signet::hsm::internal {

// CKA_EC_PARAMS values: the DER OIDs of the named curves, and the PKCS#11 3.0 printable
// string form for Ed25519.
base::ByteView ec_params_for(base::KeyAlgorithm algorithm);  // P-256, P-384, Ed25519 (OID)
base::ByteView ed25519_printable_params();

// The algorithm of a key object (private or public). kNotSupported for kinds Signet does not
// use (RSA-1024, other curves, Ed448).
base::Result<base::KeyAlgorithm> key_algorithm(Session& session, CK_OBJECT_HANDLE object);

// SubjectPublicKeyInfo DER from the public attributes of `object` (a public key, or an RSA
// private key, which carries its modulus and exponent too).
base::Result<base::Bytes> public_key_spki(Session& session, CK_OBJECT_HANDLE object,
                                          base::KeyAlgorithm algorithm);

// The SPKI that belongs to a private key: from the public key object with the same CKA_ID,
// else a certificate with that CKA_ID, else the private key's own public attributes (RSA).
base::Result<base::Bytes> private_key_spki(Session& session, CK_OBJECT_HANDLE private_key,
                                           base::ByteView id, base::KeyAlgorithm algorithm);

// SubjectPublicKeyInfo DER of a certificate object's CKA_VALUE.
base::Result<base::Bytes> certificate_spki(Session& session, CK_OBJECT_HANDLE certificate);

// Exported for tests of the encoding rules: the uncompressed point inside CKA_EC_POINT, which
// may be DER-wrapped or raw.
base::Result<base::Bytes> unwrap_ec_point(base::ByteView value, base::KeyAlgorithm algorithm);

// The bytes a raw signature by this key has: RSA modulus size, 2 x order size for ECDSA
// (r || s), 64 for Ed25519.
base::Result<std::size_t> raw_signature_size(base::KeyAlgorithm algorithm, base::ByteView spki);

}  // namespace signet::hsm::internal
