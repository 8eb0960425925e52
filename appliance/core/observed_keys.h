// ObservedKeyProvider: a base::KeyProvider that hands out Signers whose every signature is
// timed and reported (signetd's signing-latency histogram and token-error counter in
// /metrics). It wraps another provider and changes nothing else; the observer must be
// thread-safe and cheap (it runs on the signing path).
#pragma once

#include <chrono>
#include <functional>
#include <memory>

#include "base/keys.h"

namespace signet::appliance {

// Called after each signature: how long the token took, and whether it failed with a token
// error (kTokenError, kPinIncorrect, kPinLocked).
using SigningObserver = std::function<void(std::chrono::nanoseconds elapsed, bool token_error)>;

class ObservedKeyProvider final : public base::KeyProvider {
 public:
  ObservedKeyProvider(base::KeyProvider& inner, SigningObserver observer)
      : inner_(inner), observer_(std::make_shared<const SigningObserver>(std::move(observer))) {}

  base::Result<std::shared_ptr<base::Signer>> generate_key(
      const base::KeyGenerationRequest& request) override;
  base::Result<std::shared_ptr<base::Signer>> find_key(const base::KeyRef& ref) override;
  base::Result<std::shared_ptr<base::Signer>> find_key_by_uri(std::string_view uri) override;
  base::Result<void> destroy_key(const base::KeyRef& ref) override {
    return inner_.destroy_key(ref);
  }
  base::Result<void> check_room(std::string_view token) override {
    return inner_.check_room(token);
  }
  base::Result<base::WrappedSecret> wrap_secret(std::string_view token,
                                                base::ByteView secret) override {
    return inner_.wrap_secret(token, secret);
  }
  base::Result<base::SecureBuffer> unwrap_secret(const base::WrappedSecret& wrapped) override {
    return inner_.unwrap_secret(wrapped);
  }

 private:
  base::Result<std::shared_ptr<base::Signer>> observe(
      base::Result<std::shared_ptr<base::Signer>> signer);

  base::KeyProvider& inner_;
  std::shared_ptr<const SigningObserver> observer_;  // shared with the signers it made
};

}  // namespace signet::appliance
