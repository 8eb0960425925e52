#include "token/card_token.h"

namespace signet::token {
namespace {

using base::Error;
using base::ErrorCode;

// CK_SLOT_INFO.slotDescription is 64 bytes (PKCS#11 §3.2).
constexpr std::size_t kSlotDescriptionSize = 64;

}  // namespace

base::Result<std::shared_ptr<hsm::Pkcs11Module>> ModuleCache::get(const std::string& path) {
  std::lock_guard lock(mutex_);
  if (auto it = modules_.find(path); it != modules_.end()) return it->second;
  if (sealed_) {
    return base::Error(base::ErrorCode::kUnavailable,
                       "the PKCS#11 module " + path +
                           " was not loaded at start-up (modules are loaded only then)");
  }
  SIGNET_ASSIGN_OR_RETURN(auto module, hsm::Pkcs11Module::load(path));
  modules_.emplace(path, module);
  return module;
}

void ModuleCache::adopt(std::shared_ptr<hsm::Pkcs11Module> module) {
  std::lock_guard lock(mutex_);
  const std::string path = module->path();
  modules_.emplace(path, std::move(module));
}

void ModuleCache::seal() {
  std::lock_guard lock(mutex_);
  sealed_ = true;
}

bool slot_names_reader(const std::string& description, const std::string& reader) {
  if (description.empty()) return false;
  if (description == reader) return true;
  // Cut to the field (and then trimmed of trailing blanks): a prefix of the reader's name that
  // reaches, blanks aside, the end of the field.
  if (reader.size() <= kSlotDescriptionSize ||
      reader.compare(0, description.size(), description) != 0) {
    return false;
  }
  const std::string cut = reader.substr(0, kSlotDescriptionSize);
  return cut.find_last_not_of(' ') + 1 == description.size();
}

base::Result<CardToken> find_card_token(const ReaderState& reader, const AtrMap& map,
                                        ModuleCache& modules) {
  if (!reader.card_present) {
    return Error(ErrorCode::kNotFound, "there is no card in reader '" + reader.name + "'");
  }
  CardToken out;
  out.rule = map.match(reader.atr);
  SIGNET_ASSIGN_OR_RETURN(out.module, modules.get(out.rule.module_path));
  SIGNET_ASSIGN_OR_RETURN(auto slots, out.module->slots());
  const std::string module_phrase = "PKCS#11 module '" + out.rule.module_path + "'";

  if (!out.rule.token.empty()) {
    SIGNET_ASSIGN_OR_RETURN(out.token, out.module->find_token(out.rule.token));
    for (const auto& slot : slots) {
      if (slot.slot_id == out.token.slot_id) out.slot = slot;
    }
    out.slot.slot_id = out.token.slot_id;
    return out;
  }

  bool reader_seen = false;
  for (const auto& slot : slots) {
    if (!slot_names_reader(slot.description, reader.name)) continue;
    reader_seen = true;
    if (!slot.token_present) continue;
    auto token = out.module->token_info(slot.slot_id);
    if (!token) continue;  // removed meanwhile, or not recognised: try the reader's next slot
    out.slot = slot;
    out.token = std::move(token).value();
    return out;
  }
  if (!reader_seen) {
    return Error(ErrorCode::kNotFound,
                 module_phrase + " shows no slot for reader '" + reader.name +
                     "' (is it a smart-card module, and does it use this pcscd?)");
  }
  return Error(ErrorCode::kNotFound, module_phrase + " does not recognise the card in reader '" +
                                         reader.name + "' (ATR " + reader.atr_hex() +
                                         "); map its ATR to the module that knows it");
}

}  // namespace signet::token
