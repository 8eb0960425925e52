#include "appliance/core/observed_keys.h"

namespace signet::appliance {

namespace {

class ObservedSigner final : public base::Signer {
 public:
  ObservedSigner(std::shared_ptr<base::Signer> inner,
                 std::shared_ptr<const SigningObserver> observer)
      : inner_(std::move(inner)), observer_(std::move(observer)) {}

  const base::KeyRef& key_ref() const override { return inner_->key_ref(); }
  base::KeyAlgorithm algorithm() const override { return inner_->algorithm(); }
  base::DigestAlgorithm digest() const override { return inner_->digest(); }
  const base::Bytes& public_key_der() const override { return inner_->public_key_der(); }
  base::Result<base::Bytes> sign(base::ByteView message) const override {
    return timed([&] { return inner_->sign(message); });
  }
  base::Result<base::Bytes> sign_digest(base::ByteView digest,
                                        const base::SignatureScheme& scheme) const override {
    return timed([&] { return inner_->sign_digest(digest, scheme); });
  }

 private:
  template <typename F>
  base::Result<base::Bytes> timed(F&& sign) const {
    const auto start = std::chrono::steady_clock::now();
    auto result = sign();
    const auto elapsed = std::chrono::steady_clock::now() - start;
    bool token_error = false;
    if (!result) {
      const auto code = result.error().code();
      token_error = code == base::ErrorCode::kTokenError ||
                    code == base::ErrorCode::kPinIncorrect ||
                    code == base::ErrorCode::kPinLocked;
    }
    (*observer_)(std::chrono::duration_cast<std::chrono::nanoseconds>(elapsed), token_error);
    return result;
  }

  std::shared_ptr<base::Signer> inner_;
  std::shared_ptr<const SigningObserver> observer_;
};

}  // namespace

base::Result<std::shared_ptr<base::Signer>> ObservedKeyProvider::observe(
    base::Result<std::shared_ptr<base::Signer>> signer) {
  if (!signer) return signer;
  return std::shared_ptr<base::Signer>(
      std::make_shared<ObservedSigner>(std::move(*signer), observer_));
}

base::Result<std::shared_ptr<base::Signer>> ObservedKeyProvider::generate_key(
    const base::KeyGenerationRequest& request) {
  return observe(inner_.generate_key(request));
}

base::Result<std::shared_ptr<base::Signer>> ObservedKeyProvider::find_key(
    const base::KeyRef& ref) {
  return observe(inner_.find_key(ref));
}

base::Result<std::shared_ptr<base::Signer>> ObservedKeyProvider::find_key_by_uri(
    std::string_view uri) {
  return observe(inner_.find_key_by_uri(uri));
}

}  // namespace signet::appliance
