#include "token/card_key_provider.h"

#include <future>
#include <thread>

namespace signet::token {
namespace {

using base::Error;
using base::ErrorCode;

// A card key as the inventory should record it: the card's signer, with the reader it sits in
// added to its KeyRef. Thread-safe as the wrapped signer is.
class ReaderSigner final : public base::Signer {
 public:
  ReaderSigner(std::shared_ptr<base::Signer> inner, std::string reader)
      : inner_(std::move(inner)), ref_(inner_->key_ref()) {
    ref_.reader = std::move(reader);
  }
  const base::KeyRef& key_ref() const override { return ref_; }
  base::KeyAlgorithm algorithm() const override { return inner_->algorithm(); }
  base::DigestAlgorithm digest() const override { return inner_->digest(); }
  const base::Bytes& public_key_der() const override { return inner_->public_key_der(); }
  base::Result<base::Bytes> sign(base::ByteView message) const override {
    return inner_->sign(message);
  }
  base::Result<base::Bytes> sign_digest(base::ByteView digest,
                                        const base::SignatureScheme& scheme) const override {
    return inner_->sign_digest(digest, scheme);
  }

 private:
  std::shared_ptr<base::Signer> inner_;
  base::KeyRef ref_;
};

}  // namespace

CardKeyProvider::CardKeyProvider(std::shared_ptr<hsm::Pkcs11KeyProvider> card, Options options)
    : card_(std::move(card)), options_(std::move(options)) {}

void CardKeyProvider::set_key_slot(std::string slot, bool replace) {
  options_.key_slot = std::move(slot);
  replace_slot_key_ = replace;
  generation_started_ = false;
}

std::shared_ptr<base::Signer> CardKeyProvider::with_reader(
    std::shared_ptr<base::Signer> signer) const {
  if (options_.reader.empty()) return signer;
  return std::make_shared<ReaderSigner>(std::move(signer), options_.reader);
}

void CardKeyProvider::report(std::string step, std::string message) const {
  if (options_.progress) options_.progress(Progress{std::move(step), std::move(message)});
}

base::Result<void> CardKeyProvider::check_present() const {
  if (options_.card_removed && options_.card_removed()) {
    return Error(ErrorCode::kUnavailable,
                 "the card was removed from reader '" + options_.reader + "'");
  }
  return base::ok();
}

base::Result<std::shared_ptr<base::Signer>> CardKeyProvider::generate_key(
    const base::KeyGenerationRequest& request) {
  SIGNET_TRY(check_present());
  base::KeyGenerationRequest on_card = request;
  base::Bytes fixed_id;
  if (options_.type.fixed_slots()) {
    SIGNET_ASSIGN_OR_RETURN(KeySlot slot, options_.type.slot(options_.key_slot));
    fixed_id = slot.id;
    on_card.label = slot.key_label;
  }
  const std::string algorithm(base::to_string(request.algorithm));
  report("key-generation", "generating a " + algorithm +
                               " key pair on the card (this can take minutes on a real card)");
  // PKCS#11 cannot abort C_GenerateKeyPair: the worker always runs to its end, and this
  // thread waits for it whatever happens meanwhile.
  generation_started_ = true;
  const bool replace = replace_slot_key_ && !fixed_id.empty();
  auto worker = std::async(std::launch::async, [this, on_card, fixed_id, replace] {
    return card_->generate_key_with_id(on_card, fixed_id, replace);
  });
  const auto started = std::chrono::steady_clock::now();
  bool removed = false;
  bool timed_out = false;
  while (worker.wait_for(std::chrono::seconds(1)) != std::future_status::ready) {
    const auto elapsed = std::chrono::duration_cast<std::chrono::seconds>(
        std::chrono::steady_clock::now() - started);
    if (!removed && !check_present()) {
      removed = true;
      report("key-generation", "the card was removed; waiting for the token to give up");
    } else if (!timed_out && elapsed >= options_.key_generation_timeout) {
      timed_out = true;
      report("key-generation", "the timeout of " +
                                   std::to_string(options_.key_generation_timeout.count()) +
                                   " s passed; waiting for the token to return");
    } else if (!removed && !timed_out) {
      report("key-generation", "generating a " + algorithm + " key pair on the card: " +
                                   std::to_string(elapsed.count()) + " s");
    }
  }
  auto signer = worker.get();
  if (!removed && check_present()) {
    if (!timed_out) {
      if (!signer) return signer;
      return with_reader(std::move(*signer));
    }
  } else {
    removed = true;
  }
  // Best effort: the card may be gone. Say honestly what may be left on it.
  std::string left = "nothing was kept";
  if (signer) {
    if (auto destroyed = destroy_key((*signer)->key_ref()); !destroyed) {
      left = "the generated key " + (*signer)->key_ref().to_uri() + " may still be on the card (" +
             destroyed.error().message() +
             "); delete it with 'signet card show' and pkcs11-tool before enrolling into that slot";
    }
  }
  if (removed) {
    return Error(ErrorCode::kUnavailable, "the card was removed from reader '" + options_.reader +
                                              "' during key generation; " + left);
  }
  return Error(ErrorCode::kUnavailable,
               "key generation on the card took longer than " +
                   std::to_string(options_.key_generation_timeout.count()) + " s; " + left);
}

base::Result<std::shared_ptr<base::Signer>> CardKeyProvider::find_key(const base::KeyRef& ref) {
  SIGNET_TRY(check_present());
  SIGNET_ASSIGN_OR_RETURN(auto signer, card_->find_key(ref));
  return with_reader(std::move(signer));
}

base::Result<std::shared_ptr<base::Signer>> CardKeyProvider::find_key_by_uri(std::string_view uri) {
  SIGNET_TRY(check_present());
  SIGNET_ASSIGN_OR_RETURN(auto signer, card_->find_key_by_uri(uri));
  return with_reader(std::move(signer));
}

base::Result<void> CardKeyProvider::destroy_key(const base::KeyRef& ref) {
  const std::string token = ref.token_serial.empty() ? ref.token_label : ref.token_serial;
  auto certificates = card_->destroy_certificates(token, ref.id, std::nullopt);
  if (!certificates) return std::move(certificates).error();
  return card_->destroy_key(ref);
}

base::Result<void> CardKeyProvider::check_room(std::string_view token) {
  SIGNET_TRY(check_present());
  return card_->check_room(token);
}

base::Result<base::WrappedSecret> CardKeyProvider::wrap_secret(std::string_view, base::ByteView) {
  return Error(ErrorCode::kNotSupported,
               "a smart card keeps the holder's keys only; local keys are wrapped by the "
               "appliance's token");
}

base::Result<base::SecureBuffer> CardKeyProvider::unwrap_secret(const base::WrappedSecret&) {
  return Error(ErrorCode::kNotSupported, "a smart card holds no wrapped secrets");
}

}  // namespace signet::token
