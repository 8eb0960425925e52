// CardKeyProvider: a smart card's PKCS#11 token as a base::KeyProvider, so that ca/ generates
// and finds the holder's key through the same key-source path as HSM keys. It wraps an
// hsm::Pkcs11KeyProvider over the card's module and adds what a card needs:
//   - presence: every operation first asks `card_removed` (the enrollment's reader watcher);
//     a removed card gives kUnavailable "the card was removed from reader ...";
//   - key generation, which takes minutes on real cards, runs on a worker thread while the
//     caller's thread reports progress every second; when the card is removed or the timeout
//     passes meanwhile, the call waits for the token to return (PKCS#11 cannot abort
//     C_GenerateKeyPair), deletes any key it made while the token is still reachable, and fails;
//   - the token type's fixed key slots (PIV): the generated key takes the slot's CKA_ID and
//     label instead of a random id and the order's label; generating into a slot that holds
//     a key is refused unless the operation allows replacing it (set_key_slot), as a rekey
//     into its own slot does: then, as on a real PIV card, the new key replaces the old one;
//   - the keys it hands out carry the reader in their KeyRef (`reader`), so the inventory
//     records where the card was enrolled;
//   - destroy_key also deletes the certificate objects beside the key (same CKA_ID), so a
//     failed order leaves nothing of itself on the card.
// wrap_secret / unwrap_secret are refused (a card holds no appliance secrets).
//
// Ownership: shares the hsm provider. Thread-safe as far as the hsm provider is; the progress
// callback runs on the calling thread.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string>

#include "base/keys.h"
#include "hsm/key_provider.h"
#include "token/token_type.h"

namespace signet::token {

// One step of an enrollment, for a progress display: `step` is a stable name
// ("card", "pin", "key-generation", "issuance", "writing", "done"), `message` a sentence.
struct Progress {
  std::string step;
  std::string message;
};
using ProgressCallback = std::function<void(const Progress&)>;

class CardKeyProvider final : public base::KeyProvider {
 public:
  struct Options {
    std::string reader;  // for messages
    TokenType type;
    std::string key_slot;  // fixed-slot types: which slot ("" = the first)
    std::chrono::seconds key_generation_timeout{600};
    ProgressCallback progress;           // may be empty
    std::function<bool()> card_removed;  // may be empty (presence not watched)
  };

  CardKeyProvider(std::shared_ptr<hsm::Pkcs11KeyProvider> card, Options options);

  base::Result<std::shared_ptr<base::Signer>> generate_key(
      const base::KeyGenerationRequest& request) override;
  base::Result<std::shared_ptr<base::Signer>> find_key(const base::KeyRef& ref) override;
  base::Result<std::shared_ptr<base::Signer>> find_key_by_uri(std::string_view uri) override;
  base::Result<void> destroy_key(const base::KeyRef& ref) override;
  base::Result<void> check_room(std::string_view token) override;
  base::Result<base::WrappedSecret> wrap_secret(std::string_view token,
                                                base::ByteView secret) override;
  base::Result<base::SecureBuffer> unwrap_secret(const base::WrappedSecret& wrapped) override;

  hsm::Pkcs11KeyProvider& card() { return *card_; }
  // The fixed-slot key slot the next generation goes to ("" = the type's first), and whether
  // it may replace a key already in that slot. Resets generation_started().
  void set_key_slot(std::string slot, bool replace);
  const std::string& key_slot() const { return options_.key_slot; }
  // Whether the last generate_key reached the card (from then on, on a real PIV card, the
  // slot's previous key is gone whatever happens next).
  bool generation_started() const { return generation_started_; }
  // kUnavailable when the card was removed; ok otherwise.
  base::Result<void> check_present() const;

 private:
  void report(std::string step, std::string message) const;

  std::shared_ptr<base::Signer> with_reader(std::shared_ptr<base::Signer> signer) const;

  std::shared_ptr<hsm::Pkcs11KeyProvider> card_;
  Options options_;
  bool replace_slot_key_ = false;
  bool generation_started_ = false;
};

}  // namespace signet::token
