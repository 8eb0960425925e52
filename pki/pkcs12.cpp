#include "pki/pkcs12.h"

#include <openssl/pkcs12.h>
#include <openssl/rand.h>
#include <openssl/x509.h>

#include <array>
#include <memory>
#include <string>

#include "base/openssl.h"

namespace signet::pki {

using base::Error;
using base::ErrorCode;

namespace {

using Pkcs12Ptr = std::unique_ptr<PKCS12, base::OpenSslDeleter<PKCS12_free>>;
// PKCS8_PRIV_KEY_INFO_free clears the key octets before freeing them.
using Pkcs8Ptr =
    std::unique_ptr<PKCS8_PRIV_KEY_INFO, base::OpenSslDeleter<PKCS8_PRIV_KEY_INFO_free>>;

struct X509StackDeleter {
  void operator()(STACK_OF(X509) * stack) const noexcept { sk_X509_pop_free(stack, X509_free); }
};
using X509StackPtr = std::unique_ptr<STACK_OF(X509), X509StackDeleter>;

// RFC 7292 Appendix B (and OpenSSL's "compat" figure): what old importers expect.
constexpr int kCompatIterations = 2048;

// How one profile protects the bags and the whole file.
struct ProfileParameters {
  int key_pbe;   // NID of the key bag's encryption (a PBE, or a cipher for PBES2)
  int cert_pbe;  // NID of the certificates' encryption
  int iterations;
  const EVP_MD* (*mac_digest)();
  int mac_iterations;
};

ProfileParameters parameters_for(PfxProfile profile) {
  switch (profile) {
    case PfxProfile::kModern:
      // A cipher NID selects PBES2 (RFC 8018 §6.2); OpenSSL 3 pairs it with PBKDF2 and
      // hmacWithSHA256. The MAC gets the same iteration count: with a cheaper MAC an attacker
      // would test password guesses against the MAC instead of the PBKDF2-protected bags.
      return {NID_aes_256_cbc, NID_aes_256_cbc, kModernPfxIterations, EVP_sha256,
              kModernPfxIterations};
    case PfxProfile::kCompat:
      return {NID_pbe_WithSHA1And3_Key_TripleDES_CBC, NID_pbe_WithSHA1And3_Key_TripleDES_CBC,
              kCompatIterations, EVP_sha1, kCompatIterations};
  }
  return parameters_for(PfxProfile::kModern);
}

base::Result<base::X509Ptr> parse_certificate(base::ByteView der, const std::string& what) {
  const unsigned char* cursor = der.data();
  base::X509Ptr certificate(d2i_X509(nullptr, &cursor, static_cast<long>(der.size())));
  if (!certificate || cursor != der.data() + der.size()) {
    return base::openssl_error(ErrorCode::kInvalidArgument, what + " is not a DER certificate");
  }
  return certificate;
}

base::Result<base::EvpPkeyPtr> parse_private_key(base::ByteView pkcs8) {
  const unsigned char* cursor = pkcs8.data();
  Pkcs8Ptr info(d2i_PKCS8_PRIV_KEY_INFO(nullptr, &cursor, static_cast<long>(pkcs8.size())));
  if (!info || cursor != pkcs8.data() + pkcs8.size()) {
    return base::openssl_error(ErrorCode::kInvalidArgument,
                               "the private key is not an unencrypted DER PKCS#8 PrivateKeyInfo");
  }
  base::EvpPkeyPtr key(EVP_PKCS82PKEY(info.get()));
  if (!key) {
    return base::openssl_error(ErrorCode::kInvalidArgument,
                               "the PKCS#8 structure holds no usable private key");
  }
  return key;
}

// OpenSSL wants the password as a NUL-terminated C string: copy it into locked memory.
base::Result<base::SecureBuffer> c_string_password(base::ByteView password) {
  for (std::uint8_t byte : password) {
    if (byte == 0) {
      return Error(ErrorCode::kInvalidArgument, "a PFX password must not contain a NUL byte");
    }
  }
  base::SecureBuffer out(password.size() + 1);
  auto view = out.mutable_view();
  std::copy(password.begin(), password.end(), view.begin());
  view[password.size()] = 0;
  return out;
}

}  // namespace

std::string_view to_string(PfxProfile profile) {
  switch (profile) {
    case PfxProfile::kModern:
      return "modern";
    case PfxProfile::kCompat:
      return "compat";
  }
  return "unknown";
}

base::Result<PfxProfile> parse_pfx_profile(std::string_view text) {
  if (text == "modern") return PfxProfile::kModern;
  if (text == "compat") return PfxProfile::kCompat;
  return Error(ErrorCode::kInvalidArgument,
               "unknown PKCS#12 profile '" + std::string(text) + "' (expected modern or compat)");
}

base::Result<base::Bytes> build_pfx(base::ByteView certificate_der,
                                    const std::vector<base::Bytes>& chain,
                                    base::ByteView private_key_pkcs8, base::ByteView password,
                                    PfxProfile profile, std::string_view friendly_name) {
  const std::string what = "building a " + std::string(to_string(profile)) + " PKCS#12 file";
  auto built = [&]() -> base::Result<base::Bytes> {
    SIGNET_ASSIGN_OR_RETURN(auto certificate,
                            parse_certificate(certificate_der, "the certificate"));
    SIGNET_ASSIGN_OR_RETURN(auto key, parse_private_key(private_key_pkcs8));
    if (X509_check_private_key(certificate.get(), key.get()) != 1) {
      base::drain_openssl_errors();
      return Error(ErrorCode::kInvalidArgument,
                   "the private key does not match the certificate's public key");
    }
    X509StackPtr issuers(sk_X509_new_null());
    if (!issuers) return base::openssl_error(ErrorCode::kCryptoError, "cannot allocate a stack");
    for (std::size_t i = 0; i < chain.size(); ++i) {
      SIGNET_ASSIGN_OR_RETURN(
          auto issuer, parse_certificate(chain[i], "chain certificate " + std::to_string(i + 1)));
      if (sk_X509_push(issuers.get(), issuer.get()) == 0) {
        return base::openssl_error(ErrorCode::kCryptoError, "cannot collect the chain");
      }
      (void)issuer.release();  // now owned by the stack
    }
    SIGNET_ASSIGN_OR_RETURN(auto pass, c_string_password(password));
    const auto* pass_text = reinterpret_cast<const char*>(pass.view().data());
    const std::string name(friendly_name);
    const ProfileParameters parameters = parameters_for(profile);

    // mac_iter -1: no MAC yet; PKCS12_create would pick SHA-1. We set ours below.
    Pkcs12Ptr pfx(PKCS12_create_ex(pass_text, name.empty() ? nullptr : name.c_str(), key.get(),
                                   certificate.get(), issuers.get(), parameters.key_pbe,
                                   parameters.cert_pbe, parameters.iterations, -1, 0, nullptr,
                                   nullptr));
    if (!pfx) return base::openssl_error(ErrorCode::kCryptoError, "cannot assemble the PFX");
    // RFC 7292 §5 and Appendix B: HMAC over the authenticated safe, key from the PKCS#12 KDF.
    if (PKCS12_set_mac(pfx.get(), pass_text, -1, nullptr, 0, parameters.mac_iterations,
                       parameters.mac_digest()) != 1) {
      return base::openssl_error(ErrorCode::kCryptoError, "cannot compute the PFX's MAC");
    }
    unsigned char* der = nullptr;
    const int length = i2d_PKCS12(pfx.get(), &der);
    if (length <= 0) return base::openssl_error(ErrorCode::kCryptoError, "cannot encode the PFX");
    base::Bytes out(der, der + length);
    OPENSSL_free(der);
    return out;
  }();
  if (!built) return std::move(built).error().with_context(what);
  return built;
}

base::Result<base::SecureBuffer> random_pfx_password() {
  // No 0/O/o, 1/l/I/i: 8 digits, 24 upper-case and 23 lower-case letters; 24 of them carry
  // 24 * log2(55) = 138.7 bits.
  static constexpr std::string_view kAlphabet =
      "23456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghjkmnpqrstuvwxyz";
  static_assert(kAlphabet.size() == 55);
  constexpr std::size_t kLength = 24;
  // Rejection sampling: only bytes below the largest multiple of the alphabet's size map
  // uniformly onto it.
  constexpr unsigned kLimit = 256 / kAlphabet.size() * kAlphabet.size();
  base::SecureBuffer password(kLength);
  base::SecureBuffer random(64);
  std::size_t filled = 0;
  while (filled < kLength) {
    if (RAND_priv_bytes(random.mutable_view().data(), static_cast<int>(random.size())) != 1) {
      return base::openssl_error(ErrorCode::kCryptoError,
                                 "the random generator failed while making a PFX password");
    }
    for (std::uint8_t byte : random.view()) {
      if (byte >= kLimit) continue;
      password.mutable_view()[filled++] =
          static_cast<std::uint8_t>(kAlphabet[byte % kAlphabet.size()]);
      if (filled == kLength) break;
    }
  }
  return password;
}

}  // namespace signet::pki
