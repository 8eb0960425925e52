// Verifying a signature over raw bytes with a SubjectPublicKeyInfo: what a CA does after its
// token signed a CRL or an OCSP response, before anything leaves the appliance (a token that
// returns a wrong signature must not publish it). Thread-safe.
#pragma once

#include "base/bytes.h"
#include "base/keys.h"
#include "base/result.h"

namespace signet::pki {

// kVerificationFailed when `signature` (ECDSA: DER; RSA: PKCS#1 v1.5; Ed25519: raw) is not a
// signature of `message` by `spki_der` with `digest` (kNone for Ed25519).
base::Result<void> verify_signature(base::ByteView spki_der, base::DigestAlgorithm digest,
                                    base::ByteView message, base::ByteView signature);

}  // namespace signet::pki
