// The PC/SC readers attached now and the card in each: names, presence and the card's ATR
// (Answer To Reset, ISO/IEC 7816-3 §8), which identifies the kind of card.
// Free functions over a PcscContext; each call asks pcscd afresh. Thread-safety: that of the
// context (one thread per context).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "base/bytes.h"
#include "base/result.h"
#include "token/pcsc_context.h"

namespace signet::token {

// PC/SC's pseudo-reader whose state changes when a reader is attached or detached.
inline constexpr const char* kPnpNotificationReader = "\\\\?PnP?\\Notification";

struct ReaderState {
  std::string name;             // as pcscd names it, e.g. "Virtual PCD 00 00"
  bool card_present = false;    // SCARD_STATE_PRESENT
  bool card_mute = false;       // SCARD_STATE_MUTE: a card that gave no ATR
  bool card_in_use = false;     // SCARD_STATE_INUSE: another program holds a connection
  bool card_exclusive = false;  // SCARD_STATE_EXCLUSIVE
  bool unavailable = false;     // SCARD_STATE_UNAVAILABLE
  base::Bytes atr;              // empty without a (responsive) card

  // The ATR as uppercase hex without separators ("3B9513810180 ..."), "" when none.
  std::string atr_hex() const;
};

// Every reader with its state, in pcscd's order; an empty list when none is attached.
// kUnavailable "pcscd is not running" when the daemon is not there.
base::Result<std::vector<ReaderState>> list_readers(const PcscContext& context);

// One reader by its exact name; kNotFound "no reader named '...'" (listing the readers there
// are) when there is none.
base::Result<ReaderState> find_reader(const PcscContext& context, std::string_view name);

// Decodes the bits of a SCARD_READERSTATE's dwEventState into `state` (the name is left alone).
void apply_event_state(unsigned long event_state, const unsigned char* atr, unsigned long atr_size,
                       ReaderState& state);

}  // namespace signet::token
