// What the smart-card commands share: the options every card command takes (--atr-map,
// --reader, where the card's PIN comes from), the ATR map and module cache of one command,
// reading the card's secrets, and how progress, tokens and PIN counters are shown.
// Single-threaded use (one command per process), except the PIN source, which the key
// provider may call from its worker thread (it is guarded).
#pragma once

#include <CLI/CLI.hpp>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "appliance/cli/commands.h"
#include "appliance/core/context.h"
#include "base/result.h"
#include "base/secure_buffer.h"
#include "hsm/module.h"
#include "token/atr_map.h"
#include "token/card_key_provider.h"
#include "token/card_token.h"

namespace signet::appliance {

struct CardCommonOptions {
  std::string atr_map;   // --atr-map or SIGNET_ATR_MAP
  std::string reader;    // --reader
  std::string pin_file;  // --card-pin-file
  bool pin_stdin = false;
};

// --atr-map, --reader, --card-pin-file (unless `with_pin_file` is false: a command that never
// asks for the holder's PIN), --pin-stdin (SIGNET_ATR_MAP is the map's default).
void add_card_common_options(CLI::App* cmd, CardCommonOptions& o, bool with_pin_file = true);

// Reads the card's secrets in the order a command asks for them: from the given file (mode
// 0600), else one line of standard input each (with --pin-stdin), else a terminal prompt.
class SecretReader {
 public:
  explicit SecretReader(bool from_stdin) : from_stdin_(from_stdin) {}
  base::Result<base::SecureBuffer> read(const std::string& file, const std::string& prompt);

 private:
  bool from_stdin_;
};

// The ATR map and the modules of one card command.
struct CardSession {
  token::AtrMap map;
  token::ModuleCache modules;
  CardCommonOptions options;
  std::shared_ptr<SecretReader> secrets;

  static base::Result<std::unique_ptr<CardSession>> create(ApplianceContext& ctx,
                                                           const CardCommonOptions& options);
  // The card's user PIN, read once (when the token first asks) and handed out again on a
  // re-login. Thread-safe.
  hsm::PinSource pin_source();
  // The card's PIV management key (card types that need it, ykcs11), from `file` (mode 0600),
  // else the next line of standard input (--pin-stdin: after the PIN), else a prompt; read
  // once when the card is first changed and handed out again for each SO login. Thread-safe.
  hsm::PinSource management_key_source(const std::string& file);

 private:
  std::shared_ptr<std::mutex> pin_mutex_ = std::make_shared<std::mutex>();
  std::shared_ptr<std::optional<base::SecureBuffer>> pin_ =
      std::make_shared<std::optional<base::SecureBuffer>>();
  std::shared_ptr<std::optional<base::SecureBuffer>> management_key_ =
      std::make_shared<std::optional<base::SecureBuffer>>();
};

// "[card] message" on stderr, flushed (stdout stays for the result).
void print_progress(const token::Progress& progress);
nlohmann::json token_json(const hsm::TokenInfo& token);
// "no failed attempts reported", "COUNT_LOW: ...", "FINAL_TRY: ...", "LOCKED: ...".
std::string pin_counters(const hsm::TokenInfo& token);

// Registered under `signet card` (card_enroll_commands.cpp, card_pin_commands.cpp).
void register_card_enrollment_commands(CLI::App* card, Action& selected);
void register_card_pin_commands(CLI::App* card, Action& selected);

}  // namespace signet::appliance
