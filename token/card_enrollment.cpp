#include "token/card_enrollment.h"

#include <algorithm>
#include <cstdlib>
#include <nlohmann/json.hpp>

#include "pki/certificate.h"
#include "token/card_selection.h"

namespace signet::token {
namespace {

using base::Error;
using base::ErrorCode;
using base::Result;
using nlohmann::json;

std::string algorithm_list(const std::vector<base::KeyAlgorithm>& algorithms) {
  std::string out;
  for (auto a : algorithms) out += (out.empty() ? "" : ", ") + std::string(base::to_string(a));
  return out.empty() ? "none" : out;
}

// The PIN counters as the holder should see them before typing the PIN.
std::string pin_state(const hsm::TokenInfo& token) {
  if (token.user_pin_locked) return "the PIN is locked";
  if (token.user_pin_final_try) return "FINAL TRY: one more wrong PIN locks the card";
  if (token.user_pin_count_low) return "a wrong PIN was entered before: few tries are left";
  return "PIN tries: no failed attempts reported";
}

// The CKA_ID a CA certificate gets on the card: its subject key identifier, else the first
// 20 bytes of its SHA-256 fingerprint.
base::Bytes ca_object_id(const pki::Certificate& certificate) {
  base::Bytes id = certificate.subject_key_identifier();
  if (id.empty()) {
    id = certificate.sha256_fingerprint();
    id.resize(20);
  }
  return id;
}

}  // namespace

CardEnrollment::CardEnrollment(EnrollmentEnvironment environment, CardToken card,
                               std::string reader, TokenType type, ProgressCallback progress)
    : env_(std::move(environment)),
      card_(std::move(card)),
      reader_(std::move(reader)),
      type_(std::move(type)),
      progress_(std::move(progress)),
      removed_(std::make_shared<std::atomic<bool>>(false)) {}

CardEnrollment::~CardEnrollment() {
  if (watcher_) watcher_->stop();
}

void CardEnrollment::report(std::string step, std::string message) const {
  if (progress_) progress_(Progress{std::move(step), std::move(message)});
}

void CardEnrollment::audit(std::string action, const std::string& object,
                           const std::string& detail) {
  auto appended = env_.stores.audit.append_audit(
      ca::make_audit_event(env_.clock.now(), env_.actor, std::move(action), object, detail));
  if (!appended) report("audit", "writing the audit event failed: " + appended.error().message());
}

Result<std::unique_ptr<CardEnrollment>> CardEnrollment::open(
    EnrollmentEnvironment environment, const AtrMap& map, ModuleCache& modules,
    CardSelection selection, hsm::PinSource pins, ProgressCallback progress) {
  SIGNET_ASSIGN_OR_RETURN(ReaderState reader, select_card_reader(selection.reader));
  SIGNET_ASSIGN_OR_RETURN(CardToken card, find_card_token(reader, map, modules));
  SIGNET_ASSIGN_OR_RETURN(TokenType type, token_type(card.rule.type));
  if (card.token.user_pin_locked) return locked_card_error(card.token, reader.name);
  std::unique_ptr<CardEnrollment> self(new CardEnrollment(
      std::move(environment), std::move(card), reader.name, std::move(type), std::move(progress)));
  CardEnrollment& e = *self;
  e.report("card", "card in reader '" + e.reader_ + "': " + e.card_.token.describe() + ", model " +
                       e.card_.token.model + ", type " + e.type_.name);

  // From here on a removal is noticed (the initial events describe the card seen above).
  auto removed = e.removed_;
  const std::string reader_name = e.reader_;
  e.watcher_ = ReaderWatcher::start([removed, reader_name](const ReaderEvent& event) {
    using Kind = ReaderEvent::Kind;
    const bool ours = event.reader == reader_name &&
                      (event.kind == Kind::kCardRemoved || event.kind == Kind::kReaderRemoved);
    if (ours || event.kind == Kind::kServiceLost) removed->store(true);
  });

  // The PIN source sees the counters first and reports them before the PIN is asked for.
  auto report = e.progress_;
  hsm::PinSource counted = [pins, report](const hsm::TokenInfo& token) {
    if (report) report(Progress{"pin", pin_state(token)});
    return pins(token);
  };
  SIGNET_ASSIGN_OR_RETURN(e.card_keys_, hsm::Pkcs11KeyProvider::create(
                                            {e.card_.module}, e.card_.token.serial, counted));
  CardKeyProvider::Options options;
  options.reader = e.reader_;
  options.type = e.type_;
  options.key_slot = selection.key_slot;
  options.key_generation_timeout = selection.key_generation_timeout;
  options.progress = e.progress_;
  options.card_removed = [removed] { return removed->load(); };
  if (e.type_.fixed_slots()) SIGNET_TRY(e.type_.slot(selection.key_slot));
  e.key_slot_ = selection.key_slot;
  if (e.type_.needs_management_key() && selection.management_key) {
    // ykcs11 takes the management key as the SO PIN; its format is checked before it is sent.
    hsm::PinSource key = [source = selection.management_key](
                             const hsm::TokenInfo& token) -> Result<base::SecureBuffer> {
      SIGNET_ASSIGN_OR_RETURN(auto secret, source(token));
      SIGNET_TRY(check_management_key(secret.view()));
      return secret;
    };
    SIGNET_TRY(e.card_keys_->set_administrator_pins(e.card_.token.serial, std::move(key)));
    e.has_management_key_ = true;
  }
  if (e.type_.key_generation == KeyGenerationAuth::kModuleSetting &&
      std::getenv("PIV_EXT_AUTH_KEY") == nullptr) {
    e.report("card",
             "note: OpenSC's PIV driver generates keys and writes certificates only with the "
             "card's management key in the file PIV_EXT_AUTH_KEY names, which is not set");
  }
  e.keys_ = std::make_unique<CardKeyProvider>(e.card_keys_, std::move(options));
  e.service_ = std::make_unique<ca::CertificateService>(e.env_.authority, e.env_.stores, *e.keys_,
                                                        e.env_.clock, e.env_.rng, e.env_.actor,
                                                        e.env_.worker);
  e.service_->set_before_commit(
      [&e](const ca::CertificateRecord& record, const std::vector<base::Bytes>& chain) {
        return e.write_to_card(record, chain);
      });
  return self;
}

Result<void> CardEnrollment::check_can_change() const {
  if (!type_.needs_management_key() || has_management_key_) return base::ok();
  return Error(ErrorCode::kInvalidArgument,
               "cards of type '" + type_.name +
                   "' generate keys and store certificates only under the card's PIV "
                   "management key (which the module takes as the security officer PIN), and "
                   "none was given");
}

Result<void> CardEnrollment::unlock() {
  SIGNET_TRY(keys_->check_present());
  SIGNET_ASSIGN_OR_RETURN(auto info, card_.module->token_info(card_.token.slot_id));
  if (info.user_pin_locked) return locked_card_error(info, reader_);
  auto logged_in = card_keys_->log_in(card_.token.serial);
  if (!logged_in && logged_in.error().code() == ErrorCode::kPinLocked) {
    return locked_card_error(info, reader_);
  }
  return logged_in;
}

Result<std::vector<base::KeyAlgorithm>> CardEnrollment::offered_algorithms(
    const ca::ProfileSelector& selector) {
  SIGNET_ASSIGN_OR_RETURN(auto profile, service_->resolve_profile(selector));
  SIGNET_ASSIGN_OR_RETURN(auto supported, card_keys_->supported_algorithms(card_.token.serial));
  const auto& allowed = profile.key_algorithms.allowed;
  std::vector<base::KeyAlgorithm> offered;
  for (auto algorithm : supported) {
    if (allowed.empty() || std::ranges::find(allowed, algorithm) != allowed.end()) {
      offered.push_back(algorithm);
    }
  }
  if (offered.empty()) {
    return Error(ErrorCode::kNotSupported,
                 "profile " + profile.qualified_name() + " allows " + algorithm_list(allowed) +
                     ", and the card supports " + algorithm_list(supported) +
                     ": no key algorithm is left to offer");
  }
  return offered;
}

Result<base::KeyAlgorithm> CardEnrollment::choose_algorithm(
    const ca::ProfileSelector& profile, std::optional<base::KeyAlgorithm> wanted) {
  SIGNET_ASSIGN_OR_RETURN(auto offered, offered_algorithms(profile));
  if (!wanted) return offered.front();
  if (std::ranges::find(offered, *wanted) == offered.end()) {
    return Error(
        ErrorCode::kPolicyViolation,
        std::string(base::to_string(*wanted)) +
            " is not offered for this card and profile (offered: " + algorithm_list(offered) + ")");
  }
  return *wanted;
}

Result<CardOutcome> CardEnrollment::enroll(const EnrollRequest& request) {
  written_.clear();
  replaced_.clear();
  SIGNET_ASSIGN_OR_RETURN(auto algorithm, choose_algorithm(request.profile, request.algorithm));
  SIGNET_TRY(check_can_change());
  SIGNET_TRY(unlock());
  keys_->set_key_slot(key_slot_, false);
  ca::IssueRequest issue;
  issue.profile = request.profile;
  issue.key.kind = ca::KeySourceKind::kKeyOnToken;
  issue.key.token = card_.token.serial;
  issue.key.algorithm = algorithm;
  issue.subject = request.subject;
  issue.subject_alt_names = request.subject_alt_names;
  issue.validity_days = request.validity_days;
  report("order", "enrolling with key algorithm " + std::string(base::to_string(algorithm)));
  return finish(service_->issue(issue), "card.enrolled");
}

Result<ca::CertificateRecord> CardEnrollment::card_certificate(std::uint64_t certificate_id) {
  auto found = env_.stores.inventory.find_certificate_by_id(certificate_id);
  if (!found) return std::move(found).error();
  if (!*found) {
    return Error(ErrorCode::kNotFound,
                 "there is no certificate with id " + std::to_string(certificate_id));
  }
  const auto& record = **found;
  if (!record.key_location || record.key_location->token_serial != card_.token.serial) {
    return Error(ErrorCode::kInvalidArgument, "the key of certificate " + record.serial.to_hex() +
                                                  " is not on the card in '" + reader_ + "' (" +
                                                  card_.token.describe() + ")");
  }
  return std::move(**found);
}

Result<CardOutcome> CardEnrollment::renew(std::uint64_t certificate_id,
                                          std::optional<int> validity_days) {
  written_.clear();
  replaced_.clear();
  SIGNET_ASSIGN_OR_RETURN(auto previous, card_certificate(certificate_id));
  SIGNET_TRY(check_can_change());
  SIGNET_TRY(unlock());
  report("order", "renewing certificate " + previous.serial.to_hex() + " with the same card key");
  ca::RenewRequest renew;
  renew.certificate_id = certificate_id;
  renew.validity_days = validity_days;
  SIGNET_ASSIGN_OR_RETURN(auto outcome, finish(service_->renew(renew), "card.renewed"));
  // The new certificate is committed: the old one's object goes (a fixed slot gave it up
  // already when the new one was written).
  auto removed = card_keys_->destroy_certificates(card_.token.serial, previous.key_location->id,
                                                  base::ByteView(previous.der));
  if (!removed) {
    outcome.warnings.push_back("the previous certificate's object could not be removed: " +
                               removed.error().message());
  } else if (*removed > 0 || !replaced_.empty()) {
    outcome.removed.push_back("certificate " + previous.serial.to_hex());
    json detail = {{"reader", reader_},
                   {"token_serial", card_.token.serial},
                   {"certificate_serial", previous.serial.to_hex()},
                   {"reason", "renewed"}};
    audit("card.objects_deleted", "card:" + card_.token.serial, detail.dump());
  }
  return outcome;
}

Result<CardOutcome> CardEnrollment::finish(Result<ca::OrderResult> result, std::string action) {
  if (!result) {
    undo_writes();
    return std::move(result).error().with_context("on the card in reader '" + reader_ + "'");
  }
  CardOutcome outcome;
  outcome.result = std::move(*result);
  const auto& record = outcome.result.certificate;
  if (record.key_location) outcome.key_uri = record.key_location->to_uri();
  json objects = json::array();
  for (const auto& w : written_) {
    outcome.written.push_back(w.label);
    objects.push_back(w.label);
  }
  json detail = {{"reader", reader_},
                 {"token_serial", card_.token.serial},
                 {"token_label", card_.token.label},
                 {"token_type", type_.name},
                 {"key", outcome.key_uri},
                 {"ca", record.ca_name},
                 {"certificate_serial", record.serial.to_hex()},
                 {"order", outcome.result.order.id},
                 {"objects_written", objects}};
  audit(std::move(action), "card:" + card_.token.serial, detail.dump());
  report("done", "certificate " + record.serial.to_hex() + " is on the card");
  return outcome;
}

Result<void> CardEnrollment::write_to_card(const ca::CertificateRecord& record,
                                           const std::vector<base::Bytes>& chain) {
  SIGNET_TRY(keys_->check_present());
  const std::string& serial = card_.token.serial;
  if (!record.key_location || record.key_location->token_serial != serial) {
    return Error(ErrorCode::kInternal, "the issued certificate's key is not on the card");
  }
  const base::KeyRef& ref = *record.key_location;
  std::string label = ref.object_label;
  SIGNET_ASSIGN_OR_RETURN(auto objects, card_keys_->list_objects(serial));
  if (type_.fixed_slots()) {
    for (const auto& slot : type_.key_slots) {
      if (slot.id == ref.id) label = slot.certificate_label;
    }
    // One certificate per slot: the slot's current certificate gives way (and comes back
    // if the order fails).
    for (const auto& o : objects) {
      if (o.kind != hsm::TokenObject::Kind::kCertificate || o.id != ref.id) continue;
      SIGNET_TRY(card_keys_->destroy_certificates(serial, o.id, base::ByteView(o.value)));
      replaced_.push_back({o.id, o.value, o.label});
    }
  }
  report("writing", "writing certificate " + record.serial.to_hex() + " onto the card");
  SIGNET_TRY(card_keys_->put_certificate(serial, ref.id, label, record.der));
  written_.push_back({ref.id, record.der, label});
  if (!type_.chain_allowed) return base::ok();
  for (const auto& der : chain) {
    const bool present = std::ranges::any_of(objects, [&](const hsm::TokenObject& o) {
      return o.kind == hsm::TokenObject::Kind::kCertificate && o.value == der;
    });
    if (present) continue;
    SIGNET_ASSIGN_OR_RETURN(auto certificate, pki::Certificate::from_der(der));
    const base::Bytes id = ca_object_id(certificate);
    const std::string ca_label = "CA " + certificate.common_name();
    SIGNET_TRY(card_keys_->put_certificate(serial, id, ca_label, der));
    written_.push_back({id, der, ca_label});
  }
  return base::ok();
}

void CardEnrollment::undo_writes() {
  if (written_.empty() && replaced_.empty()) return;
  const std::string& serial = card_.token.serial;
  json removed = json::array();
  json problems = json::array();
  for (auto it = written_.rbegin(); it != written_.rend(); ++it) {
    auto gone = card_keys_->destroy_certificates(serial, it->id, base::ByteView(it->der));
    if (gone) {
      removed.push_back(it->label);
    } else {
      problems.push_back(it->label + ": " + gone.error().message());
    }
  }
  for (const auto& r : replaced_) {
    auto back = card_keys_->put_certificate(serial, r.id, r.label, r.der);
    if (!back) problems.push_back("restoring " + r.label + ": " + back.error().message());
  }
  written_.clear();
  replaced_.clear();
  report("cleanup", "removed what the failed order wrote onto the card");
  json detail = {
      {"reader", reader_}, {"token_serial", serial}, {"removed", removed}, {"problems", problems}};
  audit("card.cleanup", "card:" + serial, detail.dump());
}

Result<CardView> CardEnrollment::show() {
  CardView view;
  view.reader = reader_;
  view.card = card_;
  view.type = type_.name;
  SIGNET_ASSIGN_OR_RETURN(view.algorithms, card_keys_->supported_algorithms(card_.token.serial));
  SIGNET_ASSIGN_OR_RETURN(auto objects, card_keys_->list_objects(card_.token.serial));
  for (auto& object : objects) {
    CardObjectView entry;
    if (object.kind == hsm::TokenObject::Kind::kCertificate) {
      if (auto certificate = pki::Certificate::from_der(object.value)) {
        SIGNET_ASSIGN_OR_RETURN(entry.certificate,
                                env_.stores.inventory.find_certificate_by_fingerprint(
                                    certificate->sha256_fingerprint()));
      }
    } else if (object.kind == hsm::TokenObject::Kind::kPrivateKey && !object.id.empty()) {
      base::KeyRef ref;
      ref.token_serial = card_.token.serial;
      ref.id = object.id;
      SIGNET_ASSIGN_OR_RETURN(auto records, env_.stores.inventory.find_certificates_by_key(ref));
      // The newest certificate of the key.
      for (auto& r : records) {
        if (!entry.certificate || r.id > entry.certificate->id) entry.certificate = std::move(r);
      }
    }
    entry.object = std::move(object);
    view.objects.push_back(std::move(entry));
  }
  return view;
}

}  // namespace signet::token
