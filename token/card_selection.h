// Choosing the card an operation is for: the reader named by the holder, or, when none is
// named, the only reader that holds a card. And the message for a card whose PIN is locked,
// which says how to unblock it. Free functions; each call asks pcscd afresh (own context), so
// they are safe to call from any thread.
#pragma once

#include <string>
#include <string_view>

#include "base/result.h"
#include "hsm/module.h"
#include "token/atr_map.h"
#include "token/card_token.h"
#include "token/readers.h"

namespace signet::token {

// kNotFound when the named reader does not exist or holds no card, when no reader holds a
// card, or (nothing named) when several do ("name one with --reader").
base::Result<ReaderState> select_card_reader(std::string_view reader);

// select_card_reader, then the card's token (find_card_token).
base::Result<CardToken> select_card(std::string_view reader, const AtrMap& map,
                                    ModuleCache& modules, std::string* reader_name = nullptr);

// kPinLocked: the card's PIN is locked; unblock it with `signet card pin unblock` and the PUK.
base::Error locked_card_error(const hsm::TokenInfo& token, const std::string& reader);

}  // namespace signet::token
