#include "bench/bench_keys.h"

#include <atomic>
#include <string>

#include "tests/support/software_signer.h"

namespace signet::bench {

using base::Error;
using base::ErrorCode;
using base::KeyAlgorithm;
using base::Result;

namespace {

// Answers sign() with the same signature (see CannedSignatureKeyProvider), except the first
// call, which it signs for real: the Authority parses back and verifies the first certificate
// of each CA context, and a canned signature would (rightly) fail that check.
class CannedSigner final : public base::Signer {
 public:
  CannedSigner(std::shared_ptr<const base::Signer> real, base::Bytes signature)
      : real_(std::move(real)), signature_(std::move(signature)) {}

  const base::KeyRef& key_ref() const override { return real_->key_ref(); }
  base::KeyAlgorithm algorithm() const override { return real_->algorithm(); }
  const base::Bytes& public_key_der() const override { return real_->public_key_der(); }
  Result<base::Bytes> sign(base::ByteView message) const override {
    if (!signed_once_.exchange(true)) return real_->sign(message);
    return signature_;
  }

 private:
  std::shared_ptr<const base::Signer> real_;
  base::Bytes signature_;
  mutable std::atomic<bool> signed_once_{false};
};

}  // namespace

Result<std::shared_ptr<base::Signer>> CannedSignatureKeyProvider::generate_key(
    const base::KeyGenerationRequest& request) {
  base::KeyRef ref;
  ref.token_serial = "bench-software";
  ref.object_label = request.label;
  std::unique_lock lock(mutex_);
  const unsigned id = next_id_++;
  lock.unlock();
  ref.id = {static_cast<std::uint8_t>(id >> 8), static_cast<std::uint8_t>(id)};
  SIGNET_ASSIGN_OR_RETURN(auto key, test::SoftwareSigner::generate(request.algorithm, ref));
  // The canned signature is a real one over a TBS-sized message, so its length and DER shape
  // (ECDSA r and s lengths vary) are those of a typical signature.
  SIGNET_ASSIGN_OR_RETURN(base::Bytes signature, key->sign(base::Bytes(400, 0x5a)));
  lock.lock();
  canned_[ref.id] = std::make_shared<CannedSigner>(key, std::move(signature));
  return std::shared_ptr<base::Signer>(std::move(key));
}

Result<std::shared_ptr<base::Signer>> CannedSignatureKeyProvider::find_key(
    const base::KeyRef& ref) {
  std::lock_guard lock(mutex_);
  if (auto it = canned_.find(ref.id); it != canned_.end()) return it->second;
  return Error(ErrorCode::kNotFound, "the bench's software provider has no key " + ref.to_uri());
}

Result<std::shared_ptr<base::Signer>> CannedSignatureKeyProvider::find_key_by_uri(
    std::string_view uri) {
  return Error(
      ErrorCode::kNotSupported,
      "the bench's software provider does not look keys up by URI (" + std::string(uri) + ")");
}

Result<void> CannedSignatureKeyProvider::destroy_key(const base::KeyRef& ref) {
  std::lock_guard lock(mutex_);
  canned_.erase(ref.id);
  return base::ok();
}

Result<void> CannedSignatureKeyProvider::check_room(std::string_view /*token*/) {
  return base::ok();
}

Result<base::WrappedSecret> CannedSignatureKeyProvider::wrap_secret(std::string_view /*token*/,
                                                                    base::ByteView /*secret*/) {
  return Error(ErrorCode::kNotSupported, "the bench's key provider does not wrap secrets");
}

Result<base::SecureBuffer> CannedSignatureKeyProvider::unwrap_secret(
    const base::WrappedSecret& /*wrapped*/) {
  return Error(ErrorCode::kNotSupported, "the bench's key provider does not unwrap secrets");
}

}  // namespace signet::bench
