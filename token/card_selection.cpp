#include "token/card_selection.h"

namespace signet::token {

using base::Error;
using base::ErrorCode;

base::Result<ReaderState> select_card_reader(std::string_view name) {
  SIGNET_ASSIGN_OR_RETURN(auto context, PcscContext::establish());
  if (!name.empty()) {
    SIGNET_ASSIGN_OR_RETURN(auto reader, find_reader(context, name));
    if (!reader.card_present) {
      return Error(ErrorCode::kNotFound,
                   "there is no card in reader '" + reader.name + "': insert the card");
    }
    return reader;
  }
  SIGNET_ASSIGN_OR_RETURN(auto readers, list_readers(context));
  std::vector<ReaderState> with_card;
  for (auto& reader : readers) {
    if (reader.card_present) with_card.push_back(std::move(reader));
  }
  if (with_card.empty()) {
    return Error(ErrorCode::kNotFound, readers.empty() ? "no smart-card reader is attached"
                                                       : "no reader holds a card: insert the card");
  }
  if (with_card.size() > 1) {
    std::string names;
    for (const auto& r : with_card) names += (names.empty() ? "'" : ", '") + r.name + "'";
    return Error(ErrorCode::kNotFound,
                 "several readers hold a card (" + names + "): name one with --reader");
  }
  return std::move(with_card.front());
}

base::Result<CardToken> select_card(std::string_view reader, const AtrMap& map,
                                    ModuleCache& modules, std::string* reader_name) {
  SIGNET_ASSIGN_OR_RETURN(ReaderState state, select_card_reader(reader));
  if (reader_name != nullptr) *reader_name = state.name;
  return find_card_token(state, map, modules);
}

Error locked_card_error(const hsm::TokenInfo& token, const std::string& reader) {
  return Error(ErrorCode::kPinLocked,
               "the PIN of " + token.describe() + " in reader '" + reader +
                   "' is locked after too many wrong attempts; unblock it with 'signet card pin "
                   "unblock --reader \"" +
                   reader +
                   "\"', which asks for the card's PUK (security officer PIN) and a new PIN");
}

}  // namespace signet::token
