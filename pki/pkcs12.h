// PKCS#12 (RFC 7292) files for the local software key pathway: a certificate, its chain and
// its private key in one password-protected file that Windows, Java, browsers and OpenSSL
// import. Plain functions; thread-safe.
#pragma once

#include <string_view>
#include <vector>

#include "base/bytes.h"
#include "base/result.h"
#include "base/secure_buffer.h"

namespace signet::pki {

enum class PfxProfile {
  // AES-256-CBC for the key and the certificates, PBKDF2-HMAC-SHA-256 with
  // kModernPfxIterations, MAC HMAC-SHA-256: what current systems read.
  kModern,
  // pbeWithSHAAnd3-KeyTripleDES-CBC for key and certificates, MAC HMAC-SHA-1, 2048
  // iterations: for old Windows (before Server 2019) and Java 8.
  kCompat,
};
inline constexpr int kModernPfxIterations = 600000;  // OWASP's PBKDF2-HMAC-SHA256 figure
std::string_view to_string(PfxProfile profile);      // "modern", "compat"
base::Result<PfxProfile> parse_pfx_profile(std::string_view text);

// `private_key_pkcs8` is an unencrypted PKCS#8 PrivateKeyInfo (DER); it must match the
// certificate's public key (kInvalidArgument otherwise). `chain` holds the issuers, nearest
// first. `friendly_name` labels the key and certificate bags. Returns the DER of the PFX.
base::Result<base::Bytes> build_pfx(base::ByteView certificate_der,
                                    const std::vector<base::Bytes>& chain,
                                    base::ByteView private_key_pkcs8, base::ByteView password,
                                    PfxProfile profile, std::string_view friendly_name);

// A random password for a PFX: 24 characters from an alphabet without look-alikes
// (no 0/O, 1/l/I), about 138 bits. From the OpenSSL CSPRNG.
base::Result<base::SecureBuffer> random_pfx_password();

}  // namespace signet::pki
