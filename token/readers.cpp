#include "token/readers.h"

#include <winscard.h>

#include "token/internal/pcsc_call.h"

namespace signet::token {
namespace {

using base::Error;
using base::ErrorCode;

// SCardListReaders as a list of names: a multi-string ("a\0b\0\0").
base::Result<std::vector<std::string>> reader_names(const PcscContext& context) {
  for (int attempt = 0;; ++attempt) {
    DWORD size = 0;
    LONG rc = ::SCardListReaders(context.handle(), nullptr, nullptr, &size);
    if (rc == SCARD_E_NO_READERS_AVAILABLE) return std::vector<std::string>{};
    if (rc != SCARD_S_SUCCESS) return internal::pcsc_error(rc, "SCardListReaders");
    std::string buffer(size, '\0');
    rc = ::SCardListReaders(context.handle(), nullptr, buffer.data(), &size);
    // A reader arrived between the two calls: ask again.
    if (rc == SCARD_E_INSUFFICIENT_BUFFER && attempt < 3) continue;
    if (rc == SCARD_E_NO_READERS_AVAILABLE) return std::vector<std::string>{};
    if (rc != SCARD_S_SUCCESS) return internal::pcsc_error(rc, "SCardListReaders");
    std::vector<std::string> names;
    std::size_t begin = 0;
    while (begin < buffer.size() && buffer[begin] != '\0') {
      const std::size_t end = buffer.find('\0', begin);
      names.push_back(buffer.substr(begin, end - begin));
      begin = end + 1;
    }
    return names;
  }
}

}  // namespace

std::string ReaderState::atr_hex() const { return base::to_hex_upper(atr); }

void apply_event_state(unsigned long event_state, const unsigned char* atr, unsigned long atr_size,
                       ReaderState& state) {
  state.card_present = (event_state & SCARD_STATE_PRESENT) != 0;
  state.card_mute = (event_state & SCARD_STATE_MUTE) != 0;
  state.card_in_use = (event_state & SCARD_STATE_INUSE) != 0;
  state.card_exclusive = (event_state & SCARD_STATE_EXCLUSIVE) != 0;
  state.unavailable = (event_state & SCARD_STATE_UNAVAILABLE) != 0;
  state.atr.clear();
  if (state.card_present && !state.card_mute && atr != nullptr) {
    state.atr.assign(atr, atr + std::min<unsigned long>(atr_size, MAX_ATR_SIZE));
  }
}

base::Result<std::vector<ReaderState>> list_readers(const PcscContext& context) {
  for (int attempt = 0;; ++attempt) {
    SIGNET_ASSIGN_OR_RETURN(auto names, reader_names(context));
    if (names.empty()) return std::vector<ReaderState>{};
    std::vector<SCARD_READERSTATE> states(names.size());
    for (std::size_t i = 0; i < names.size(); ++i) {
      states[i].szReader = names[i].c_str();
      states[i].dwCurrentState = SCARD_STATE_UNAWARE;
    }
    // Timeout 0: the current state, without waiting for a change.
    const LONG rc = ::SCardGetStatusChange(context.handle(), 0, states.data(),
                                           static_cast<DWORD>(states.size()));
    // A reader left between listing and asking: list again.
    if (rc == SCARD_E_UNKNOWN_READER && attempt < 3) continue;
    if (rc != SCARD_S_SUCCESS && rc != SCARD_E_TIMEOUT) {
      return internal::pcsc_error(rc, "SCardGetStatusChange");
    }
    std::vector<ReaderState> out(names.size());
    for (std::size_t i = 0; i < names.size(); ++i) {
      out[i].name = names[i];
      apply_event_state(states[i].dwEventState, states[i].rgbAtr, states[i].cbAtr, out[i]);
    }
    return out;
  }
}

base::Result<ReaderState> find_reader(const PcscContext& context, std::string_view name) {
  SIGNET_ASSIGN_OR_RETURN(auto readers, list_readers(context));
  std::string present;
  for (auto& reader : readers) {
    if (reader.name == name) return std::move(reader);
    present += (present.empty() ? "'" : ", '") + reader.name + "'";
  }
  return Error(
      ErrorCode::kNotFound,
      "no reader named '" + std::string(name) + "' (" +
          (present.empty() ? std::string("no reader is attached") : "readers: " + present) + ")");
}

}  // namespace signet::token
