#include "tests/support/software_signer.h"

#include <openssl/core_names.h>
#include <openssl/pem.h>
#include <openssl/rand.h>

#include <vector>

namespace signet::test {

using base::Error;
using base::ErrorCode;
using base::KeyAlgorithm;

namespace {

using CipherCtxPtr = std::unique_ptr<EVP_CIPHER_CTX, base::OpenSslDeleter<EVP_CIPHER_CTX_free>>;

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
  SIGNET_ASSIGN_OR_RETURN(auto key, pki::SoftwareKey::generate(algorithm, std::move(ref)));
  return std::make_shared<SoftwareSigner>(std::move(key));
}

base::Result<std::shared_ptr<SoftwareSigner>> SoftwareSigner::from_private_key_pem(
    std::string_view pem, base::KeyRef ref) {
  base::BioPtr bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  base::EvpPkeyPtr key(bio ? PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr)
                           : nullptr);
  if (!key) return base::openssl_error(ErrorCode::kInvalidArgument, "not a PEM private key");
  // Through PKCS#8, so that pki::SoftwareKey alone decides which keys are acceptable.
  std::unique_ptr<PKCS8_PRIV_KEY_INFO, base::OpenSslDeleter<PKCS8_PRIV_KEY_INFO_free>> info(
      EVP_PKEY2PKCS8(key.get()));
  const int der_length = info ? i2d_PKCS8_PRIV_KEY_INFO(info.get(), nullptr) : -1;
  if (der_length <= 0) {
    return base::openssl_error(ErrorCode::kInvalidArgument, "cannot encode the key as PKCS#8");
  }
  base::SecureBuffer der(static_cast<std::size_t>(der_length));
  unsigned char* cursor = der.mutable_view().data();
  (void)i2d_PKCS8_PRIV_KEY_INFO(info.get(), &cursor);
  SIGNET_ASSIGN_OR_RETURN(auto software, pki::SoftwareKey::from_pkcs8(der.view(), std::move(ref)));
  return std::make_shared<SoftwareSigner>(std::move(software));
}

std::string SoftwareSigner::private_key_pem() const {
  base::BioPtr bio(BIO_new(BIO_s_mem()));
  if (!bio || PEM_write_bio_PrivateKey(bio.get(), key_->native(), nullptr, nullptr, 0, nullptr,
                                       nullptr) != 1) {
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

void SoftwareKeyProvider::set_room(bool room) {
  std::lock_guard lock(mutex_);
  room_ = room;
}

void SoftwareKeyProvider::forget_kek() {
  std::lock_guard lock(mutex_);
  kek_ = base::SecureBuffer();
}

base::KeyRef SoftwareKeyProvider::kek_ref() const {
  base::KeyRef ref;
  ref.token_serial = "software";
  ref.token_label = "software";
  ref.id = {'k', 'e', 'k'};
  ref.object_label = "signet-kek";
  return ref;
}

base::Result<void> SoftwareKeyProvider::check_room(std::string_view token) {
  std::lock_guard lock(mutex_);
  if (room_) return base::ok();
  return Error(ErrorCode::kResourceExhausted,
               "software token '" + std::string(token.empty() ? "software" : token) +
                   "' is full: it reports no free private memory (test hook)");
}

base::Result<base::WrappedSecret> SoftwareKeyProvider::wrap_secret(std::string_view /*token*/,
                                                                   base::ByteView secret) {
  if (secret.empty()) return Error(ErrorCode::kInvalidArgument, "there is no secret to wrap");
  std::lock_guard lock(mutex_);
  if (kek_.empty()) {
    base::SecureBuffer kek(32);
    if (RAND_priv_bytes(kek.mutable_view().data(), static_cast<int>(kek.size())) != 1) {
      return base::openssl_error(ErrorCode::kCryptoError, "cannot make the software KEK");
    }
    kek_ = std::move(kek);
  }
  CipherCtxPtr context(EVP_CIPHER_CTX_new());
  // RFC 5649 §4.1: the output is the input padded to 8 bytes, plus one 8-byte block.
  base::Bytes wrapped((secret.size() + 7) / 8 * 8 + 8 + EVP_MAX_BLOCK_LENGTH);
  int length = 0;
  int final_length = 0;
  if (!context ||
      EVP_EncryptInit_ex(context.get(), EVP_aes_256_wrap_pad(), nullptr, kek_.view().data(),
                         nullptr) != 1 ||
      EVP_EncryptUpdate(context.get(), wrapped.data(), &length, secret.data(),
                        static_cast<int>(secret.size())) != 1 ||
      EVP_EncryptFinal_ex(context.get(), wrapped.data() + length, &final_length) != 1) {
    return base::openssl_error(ErrorCode::kCryptoError, "cannot wrap the secret (RFC 5649)");
  }
  wrapped.resize(static_cast<std::size_t>(length + final_length));
  return base::WrappedSecret{kek_ref(), std::move(wrapped)};
}

base::Result<base::SecureBuffer> SoftwareKeyProvider::unwrap_secret(
    const base::WrappedSecret& wrapped) {
  std::lock_guard lock(mutex_);
  if (kek_.empty() || !(wrapped.kek == kek_ref())) {
    return Error(ErrorCode::kNotFound, "the key-encryption key " + wrapped.kek.to_uri() +
                                           " does not exist on the software token");
  }
  if (wrapped.wrapped.size() < 16 || wrapped.wrapped.size() % 8 != 0) {
    return Error(ErrorCode::kVerificationFailed,
                 "the wrapped secret is not RFC 5649 output (bad length)");
  }
  CipherCtxPtr context(EVP_CIPHER_CTX_new());
  base::SecureBuffer plain(wrapped.wrapped.size());
  int length = 0;
  int final_length = 0;
  if (!context || EVP_DecryptInit_ex(context.get(), EVP_aes_256_wrap_pad(), nullptr,
                                     kek_.view().data(), nullptr) != 1) {
    return base::openssl_error(ErrorCode::kCryptoError, "cannot start unwrapping (RFC 5649)");
  }
  if (EVP_DecryptUpdate(context.get(), plain.mutable_view().data(), &length, wrapped.wrapped.data(),
                        static_cast<int>(wrapped.wrapped.size())) != 1 ||
      EVP_DecryptFinal_ex(context.get(), plain.mutable_view().data() + length, &final_length) !=
          1) {
    base::drain_openssl_errors();
    return Error(ErrorCode::kVerificationFailed,
                 "the wrapped secret fails RFC 5649's integrity check: it was altered or "
                 "wrapped under another key");
  }
  plain.truncate(static_cast<std::size_t>(length + final_length));
  return plain;
}

}  // namespace signet::test
