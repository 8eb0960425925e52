#include "tests/support/software_signer.h"

#include <openssl/core_names.h>
#include <openssl/pem.h>

#include <vector>

namespace signet::test {

using base::Error;
using base::ErrorCode;
using base::KeyAlgorithm;

namespace {

base::EvpPkeyPtr generate_pkey(KeyAlgorithm algorithm) {
  switch (algorithm) {
    case KeyAlgorithm::kEcP256:
      return base::EvpPkeyPtr(EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256"));
    case KeyAlgorithm::kEcP384:
      return base::EvpPkeyPtr(EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-384"));
    case KeyAlgorithm::kEd25519:
      return base::EvpPkeyPtr(EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519"));
    default:
      return base::EvpPkeyPtr(EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA",
                                                static_cast<size_t>(base::rsa_bits(algorithm))));
  }
}

base::Result<base::Bytes> spki_of(EVP_PKEY* key) {
  unsigned char* der = nullptr;
  const int length = i2d_PUBKEY(key, &der);
  if (length <= 0) return base::openssl_error(ErrorCode::kCryptoError, "cannot encode the SPKI");
  base::Bytes out(der, der + length);
  OPENSSL_free(der);
  return out;
}

base::Result<KeyAlgorithm> algorithm_of(EVP_PKEY* key) {
  switch (EVP_PKEY_get_base_id(key)) {
    case EVP_PKEY_ED25519:
      return KeyAlgorithm::kEd25519;
    case EVP_PKEY_EC: {
      const int bits = EVP_PKEY_get_bits(key);
      if (bits == 256) return KeyAlgorithm::kEcP256;
      if (bits == 384) return KeyAlgorithm::kEcP384;
      break;
    }
    case EVP_PKEY_RSA: {
      const int bits = EVP_PKEY_get_bits(key);
      if (bits == 2048) return KeyAlgorithm::kRsa2048;
      if (bits == 3072) return KeyAlgorithm::kRsa3072;
      if (bits == 4096) return KeyAlgorithm::kRsa4096;
      break;
    }
    default:
      break;
  }
  return Error(ErrorCode::kNotSupported, "the key is not one of Signet's algorithms");
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

base::Result<std::string> percent_decode(std::string_view text) {
  std::string out;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '%') {
      out.push_back(text[i]);
      continue;
    }
    if (i + 2 >= text.size()) {
      return Error(ErrorCode::kInvalidArgument, "bad percent-encoding in the URI");
    }
    const int high = hex_value(text[i + 1]);
    const int low = hex_value(text[i + 2]);
    if (high < 0 || low < 0)
      return Error(ErrorCode::kInvalidArgument, "bad percent-encoding in the URI");
    out.push_back(static_cast<char>(high * 16 + low));
    i += 2;
  }
  return out;
}

}  // namespace

base::Result<std::shared_ptr<SoftwareSigner>> SoftwareSigner::generate(KeyAlgorithm algorithm,
                                                                       base::KeyRef ref) {
  base::EvpPkeyPtr key = generate_pkey(algorithm);
  if (!key) return base::openssl_error(ErrorCode::kCryptoError, "cannot generate a software key");
  SIGNET_ASSIGN_OR_RETURN(auto spki, spki_of(key.get()));
  if (ref.token_serial.empty()) ref.token_serial = "software";
  return std::make_shared<SoftwareSigner>(std::move(key), algorithm, std::move(ref),
                                          std::move(spki));
}

base::Result<std::shared_ptr<SoftwareSigner>> SoftwareSigner::from_private_key_pem(
    std::string_view pem, base::KeyRef ref) {
  base::BioPtr bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  base::EvpPkeyPtr key(bio ? PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr)
                           : nullptr);
  if (!key) return base::openssl_error(ErrorCode::kInvalidArgument, "not a PEM private key");
  SIGNET_ASSIGN_OR_RETURN(auto algorithm, algorithm_of(key.get()));
  SIGNET_ASSIGN_OR_RETURN(auto spki, spki_of(key.get()));
  if (ref.token_serial.empty()) ref.token_serial = "software";
  return std::make_shared<SoftwareSigner>(std::move(key), algorithm, std::move(ref),
                                          std::move(spki));
}

base::Result<base::Bytes> SoftwareSigner::sign(base::ByteView message) const {
  const char* digest = nullptr;
  switch (this->digest()) {
    case base::DigestAlgorithm::kNone:
      digest = nullptr;
      break;
    case base::DigestAlgorithm::kSha256:
      digest = "SHA256";
      break;
    case base::DigestAlgorithm::kSha384:
      digest = "SHA384";
      break;
    case base::DigestAlgorithm::kSha512:
      digest = "SHA512";
      break;
  }
  base::EvpMdCtxPtr ctx(EVP_MD_CTX_new());
  if (!ctx || EVP_DigestSignInit_ex(ctx.get(), nullptr, digest, nullptr, nullptr, key_.get(),
                                    nullptr) != 1) {
    return base::openssl_error(ErrorCode::kCryptoError, "cannot start a software signature");
  }
  size_t length = 0;
  if (EVP_DigestSign(ctx.get(), nullptr, &length, message.data(), message.size()) != 1) {
    return base::openssl_error(ErrorCode::kCryptoError, "cannot size a software signature");
  }
  base::Bytes signature(length);
  if (EVP_DigestSign(ctx.get(), signature.data(), &length, message.data(), message.size()) != 1) {
    return base::openssl_error(ErrorCode::kCryptoError, "software signature failed");
  }
  signature.resize(length);
  return signature;
}

std::string SoftwareSigner::private_key_pem() const {
  base::BioPtr bio(BIO_new(BIO_s_mem()));
  if (!bio ||
      PEM_write_bio_PrivateKey(bio.get(), key_.get(), nullptr, nullptr, 0, nullptr, nullptr) != 1) {
    return {};
  }
  char* data = nullptr;
  const long length = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<std::size_t>(length));
}

base::Result<std::shared_ptr<base::Signer>> SoftwareKeyProvider::generate_key(
    const base::KeyGenerationRequest& request) {
  std::lock_guard lock(mutex_);
  base::KeyRef ref;
  ref.token_serial = "software";
  ref.token_label = request.token.empty() ? "software" : request.token;
  ref.object_label = request.label;
  const std::uint32_t id = next_id_++;
  ref.id = {static_cast<std::uint8_t>(id >> 24), static_cast<std::uint8_t>(id >> 16),
            static_cast<std::uint8_t>(id >> 8), static_cast<std::uint8_t>(id)};
  SIGNET_ASSIGN_OR_RETURN(auto signer, SoftwareSigner::generate(request.algorithm, ref));
  keys_[ref.id] = signer;
  return std::shared_ptr<base::Signer>(signer);
}

base::Result<std::shared_ptr<base::Signer>> SoftwareKeyProvider::find_key(const base::KeyRef& ref) {
  std::lock_guard lock(mutex_);
  auto it = keys_.find(ref.id);
  if (it == keys_.end() || ref.token_serial != it->second->key_ref().token_serial) {
    return Error(ErrorCode::kNotFound, "no software key " + ref.to_uri());
  }
  return std::shared_ptr<base::Signer>(it->second);
}

base::Result<std::shared_ptr<base::Signer>> SoftwareKeyProvider::find_key_by_uri(
    std::string_view uri) {
  if (!uri.starts_with("pkcs11:")) {
    return Error(ErrorCode::kInvalidArgument, "'" + std::string(uri) + "' is not a pkcs11: URI");
  }
  std::string_view path = uri.substr(7);
  path = path.substr(0, path.find('?'));
  if (uri.find("pin-value") != std::string_view::npos) {
    return Error(ErrorCode::kInvalidArgument, "a key URI must not carry a PIN (pin-value)");
  }
  std::optional<std::string> id;
  std::optional<std::string> object;
  while (!path.empty()) {
    const std::string_view attribute = path.substr(0, path.find(';'));
    path.remove_prefix(std::min(path.size(), attribute.size() + 1));
    const std::size_t equals = attribute.find('=');
    if (equals == std::string_view::npos) continue;
    SIGNET_ASSIGN_OR_RETURN(auto value, percent_decode(attribute.substr(equals + 1)));
    if (attribute.substr(0, equals) == "id") id = value;
    if (attribute.substr(0, equals) == "object") object = value;
  }
  if (!id && !object) {
    return Error(ErrorCode::kInvalidArgument, "the URI names no key (id= or object=)");
  }
  std::lock_guard lock(mutex_);
  std::vector<std::shared_ptr<SoftwareSigner>> matches;
  for (const auto& [key_id, signer] : keys_) {
    if (id && std::string(key_id.begin(), key_id.end()) != *id) continue;
    if (object && signer->key_ref().object_label != *object) continue;
    matches.push_back(signer);
  }
  if (matches.empty())
    return Error(ErrorCode::kNotFound, "no software key matches " + std::string(uri));
  if (matches.size() > 1) {
    return Error(ErrorCode::kInvalidArgument, std::string(uri) + " matches more than one key");
  }
  return std::shared_ptr<base::Signer>(matches.front());
}

base::Result<void> SoftwareKeyProvider::destroy_key(const base::KeyRef& ref) {
  std::lock_guard lock(mutex_);
  if (keys_.erase(ref.id) == 0)
    return Error(ErrorCode::kNotFound, "no software key " + ref.to_uri());
  return base::ok();
}

std::size_t SoftwareKeyProvider::size() const {
  std::lock_guard lock(mutex_);
  return keys_.size();
}

}  // namespace signet::test
