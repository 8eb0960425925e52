// CardEnrollment: a token holder's certificates on one smart card, from enrollment to rekey.
//
// open() finds the card (the named reader, or the only reader with a card), its PKCS#11 token
// through the ATR map, and the card's token type (token_type.h); it watches the reader from
// then on, so that a removal at any later point cancels what is running. Every operation then
// runs as an order of a ca::CertificateService whose key source is the card
// (CardKeyProvider): the same key-on-token path as for HSM keys, with proof of possession by a
// CSR that the card's key signs, and the profile's policy.
//   enroll  the key pair is generated on the card (sensitive, not extractable), the
//           certificate issued, then written onto the card beside the key (CKO_CERTIFICATE,
//           the key's CKA_ID; the CA chain too where the token type has room) BEFORE the
//           inventory commit, so the inventory never names a card certificate the card lacks.
//           The inventory's key location is the card's token serial and the key's CKA_ID (its
//           PKCS#11 URI), with the reader it was enrolled in (KeyRef::reader, informational: a
//           card is not tied to a reader); the audit event card.enrolled names it too.
// Card types that need the management key to change the card (TokenType::needs_management_key,
// ykcs11) get it from CardSelection::management_key; their key generation and certificate
// writes run under an SO login with it (hsm::Pkcs11KeyProvider::set_administrator_pins),
// signing under the holder's PIN.
//   renew   the same card key, a new certificate written beside it; the previous
//           certificate's object is removed once the new one is committed.
//   rekey   a new key pair on the card and its certificate; with revoke_previous the previous
//           certificate is revoked (superseded) in the same commit and its key and certificate
//           objects are deleted from the card. On fixed-slot (PIV) cards the new key goes into
//           the previous key's slot unless another slot is selected; generating there replaces
//           the previous key (a PIV card keeps one key per slot). Without revoke_previous the
//           previous certificate then stays valid without its key, which the outcome warns
//           about. If such a rekey fails once generation has begun, the previous key is gone
//           (on a real card) or not: the card is checked, and when it is gone the previous
//           certificate's object is removed too (it would name a key the slot no longer has),
//           the error says so and what to do, and card.previous_key_lost is audited
//           (card.previous_key_kept when the key survived). The previous certificate is not
//           revoked by a failure.
//   resubmit  a failed enrollment order again, from its stored request (profile, subject,
//           SANs, algorithm), on the card it was for (same token serial); a new order that
//           records the failed one it retries (card.resubmitted).
// On failure the order is failed by the service (which deletes a generated key through the
// card provider, certificate objects beside it included), and what this class wrote is
// removed while the token is still reachable: no half-written card, nothing recorded.
// Audit: the service's order and certificate events, and card.enrolled / card.renewed /
// card.rekeyed / card.cleanup here.
//
// Ownership: the Authority and record stores must outlive it; it owns the card's key provider,
// the reader watcher and its own CertificateService. Not thread-safe: one operation at a time.
#pragma once

#include <atomic>
#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "base/clock.h"
#include "base/keys.h"
#include "base/result.h"
#include "base/rng.h"
#include "ca/authority.h"
#include "ca/certificate_service.h"
#include "hsm/key_provider.h"
#include "token/atr_map.h"
#include "token/card_key_provider.h"
#include "token/card_token.h"
#include "token/reader_watcher.h"
#include "token/token_type.h"

namespace signet::token {

// What the appliance hands in: the CA and its records, as for CertificateService.
struct EnrollmentEnvironment {
  ca::Authority& authority;
  ca::RecordStores stores;
  const base::Clock& clock;
  base::Rng& rng;
  std::string actor;
  std::string worker;
};

struct CardSelection {
  std::string reader;    // "" = the only reader with a card
  std::string key_slot;  // fixed-slot (PIV) cards: "9a", "9c"...; "" = the first (rekey: the
                         // previous key's slot)
  std::chrono::seconds key_generation_timeout{600};
  // Card types that need it (ykcs11): the card's PIV management key, hex, asked for when the
  // card is first changed and not kept; empty: none given (such cards are then only shown).
  hsm::PinSource management_key;
};

struct EnrollRequest {
  ca::ProfileSelector profile;
  std::optional<base::KeyAlgorithm> algorithm;  // default: the first offered
  std::string subject;                          // DN
  std::vector<std::string> subject_alt_names;   // "email:a@b", "UPN:a@realm"...
  std::optional<int> validity_days;
};

struct CardOutcome {
  ca::OrderResult result;
  std::string key_uri;                // the card key's PKCS#11 URI
  std::vector<std::string> written;   // labels of the certificate objects written
  std::vector<std::string> removed;   // what was removed from the card afterwards
  std::vector<std::string> warnings;  // post-commit clean-up that failed
};

// One object on the card and, for keys and certificates, the inventory's certificate for it.
struct CardObjectView {
  hsm::TokenObject object;
  std::optional<ca::CertificateRecord> certificate;
};

struct CardView {
  std::string reader;
  CardToken card;
  std::string type;
  std::vector<base::KeyAlgorithm> algorithms;  // what the card can generate and sign with
  std::vector<CardObjectView> objects;
};

class CardEnrollment {
 public:
  // Fails with kNotFound when no (or no single) reader holds a card or the token is not
  // found, and kPinLocked (saying how to unblock) when the card reports its PIN locked.
  static base::Result<std::unique_ptr<CardEnrollment>> open(EnrollmentEnvironment environment,
                                                            const AtrMap& map, ModuleCache& modules,
                                                            CardSelection selection,
                                                            hsm::PinSource pins,
                                                            ProgressCallback progress);
  ~CardEnrollment();
  CardEnrollment(const CardEnrollment&) = delete;
  CardEnrollment& operator=(const CardEnrollment&) = delete;

  const CardToken& card() const { return card_; }
  const std::string& reader() const { return reader_; }
  const TokenType& type() const { return type_; }
  // Stops what runs as a removal of the card would (callable from another thread): key
  // generation is abandoned and what the operation made is removed. Thread-safe.
  void cancel() { removed_->store(true); }

  // The profile's allowed algorithms that the card supports (all the card supports when the
  // profile allows any); kNotSupported when none is left.
  base::Result<std::vector<base::KeyAlgorithm>> offered_algorithms(
      const ca::ProfileSelector& profile);

  base::Result<CardOutcome> enroll(const EnrollRequest& request);
  base::Result<CardOutcome> renew(std::uint64_t certificate_id,
                                  std::optional<int> validity_days = std::nullopt);
  base::Result<CardOutcome> rekey(std::uint64_t certificate_id,
                                  std::optional<base::KeyAlgorithm> algorithm,
                                  bool revoke_previous);
  // Runs the failed enrollment order `order_id` again on this card (see the header comment).
  // kInvalidArgument when the order is not a failed card enrollment, or was for another card;
  // kAlreadyExists when a resubmission of it completed already.
  base::Result<CardOutcome> resubmit(std::uint64_t order_id);
  // The card, its token and objects, each key and certificate linked to the inventory.
  base::Result<CardView> show();

 private:
  struct Written {
    base::Bytes id;
    base::Bytes der;
    std::string label;
  };

  CardEnrollment(EnrollmentEnvironment environment, CardToken card, std::string reader,
                 TokenType type, ProgressCallback progress);

  base::Result<void> unlock();
  // kInvalidArgument when the card type needs a management key that was not given.
  base::Result<void> check_can_change() const;
  // The key slot a rekey of `previous` generates into, and whether that replaces its key.
  base::Result<std::pair<std::string, bool>> rekey_target(const base::KeyRef& previous) const;
  // After a failed rekey whose generation replaced (or may have replaced) `previous`'s key.
  base::Error previous_key_lost(const ca::CertificateRecord& previous, base::Error error);
  base::Result<base::KeyAlgorithm> choose_algorithm(const ca::ProfileSelector& profile,
                                                    std::optional<base::KeyAlgorithm> wanted);
  // The BeforeCommit hook: writes the certificate (and chain) onto the card.
  base::Result<void> write_to_card(const ca::CertificateRecord& record,
                                   const std::vector<base::Bytes>& chain);
  // After a failed order: removes what write_to_card wrote and puts back what it replaced.
  void undo_writes();
  base::Result<ca::CertificateRecord> card_certificate(std::uint64_t certificate_id);
  base::Result<CardOutcome> finish(base::Result<ca::OrderResult> result, std::string action);
  void report(std::string step, std::string message) const;
  void audit(std::string action, const std::string& object, const std::string& detail);

  EnrollmentEnvironment env_;
  CardToken card_;
  std::string reader_;
  TokenType type_;
  ProgressCallback progress_;
  std::string key_slot_;  // as selected
  bool has_management_key_ = false;
  std::shared_ptr<std::atomic<bool>> removed_;
  std::unique_ptr<ReaderWatcher> watcher_;
  std::shared_ptr<hsm::Pkcs11KeyProvider> card_keys_;
  std::unique_ptr<CardKeyProvider> keys_;
  std::unique_ptr<ca::CertificateService> service_;
  std::vector<Written> written_;   // by the current operation
  std::vector<Written> replaced_;  // certificates a fixed slot gave up for the new one
};

}  // namespace signet::token
