#include "appliance/cli/card_support.h"

#include <cstdio>
#include <cstdlib>
#include <iostream>

#include "base/secret_input.h"

namespace signet::appliance {

using base::Error;
using base::ErrorCode;
using base::Result;

void add_card_common_options(CLI::App* cmd, CardCommonOptions& o, bool with_pin_file) {
  if (const char* map = std::getenv("SIGNET_ATR_MAP"); map != nullptr) o.atr_map = map;
  cmd->add_option("--atr-map", o.atr_map,
                  "JSON file mapping ATR patterns to PKCS#11 modules and card types (default: "
                  "SIGNET_ATR_MAP; without one, OpenSC's opensc-pkcs11.so); see "
                  "docs/SMART-CARDS.md");
  cmd->add_option("--reader", o.reader,
                  "the reader holding the card (default: the only one that "
                  "holds a card)");
  if (with_pin_file) {
    cmd->add_option("--card-pin-file", o.pin_file,
                    "file (mode 0600) holding the card's PIN; default: a prompt");
  }
  cmd->add_flag("--pin-stdin", o.pin_stdin,
                "read the card's secrets from standard input, one line each, in the order the "
                "command asks for them");
}

Result<base::SecureBuffer> SecretReader::read(const std::string& file, const std::string& prompt) {
  if (!file.empty()) return base::read_secret_file(file);
  if (!from_stdin_) return base::prompt_secret(prompt);
  base::SecureBuffer line(256);
  std::size_t size = 0;
  for (;;) {
    const int c = std::fgetc(stdin);
    if (c == EOF || c == '\n') break;
    if (size == line.size()) {
      return Error(ErrorCode::kInvalidArgument, "a secret on standard input is too long");
    }
    line.mutable_view()[size++] = static_cast<std::uint8_t>(c);
  }
  if (size > 0 && line.view()[size - 1] == '\r') --size;
  if (size == 0) {
    return Error(ErrorCode::kInvalidArgument,
                 "standard input ended before the secret for '" + prompt + "' was given");
  }
  line.truncate(size);
  return line;
}

Result<std::unique_ptr<CardSession>> CardSession::create(ApplianceContext& ctx,
                                                         const CardCommonOptions& options) {
  auto session = std::make_unique<CardSession>();
  session->options = options;
  session->secrets = std::make_shared<SecretReader>(options.pin_stdin);
  if (!options.atr_map.empty()) {
    SIGNET_ASSIGN_OR_RETURN(session->map, token::AtrMap::load(options.atr_map));
  }
  // A software stand-in for a card (SoftHSM behind the map) shares the state's SoftHSM store.
  if (ctx.module_is_softhsm()) SIGNET_TRY(ctx.prepare_softhsm(false));
  return session;
}

hsm::PinSource CardSession::pin_source() {
  auto mutex = pin_mutex_;
  auto pin = pin_;
  auto reader = secrets;
  const std::string file = options.pin_file;
  return [mutex, pin, reader, file](const hsm::TokenInfo& token) -> Result<base::SecureBuffer> {
    std::lock_guard lock(*mutex);
    if (!*pin) {
      SIGNET_ASSIGN_OR_RETURN(auto read,
                              reader->read(file, "PIN for card '" + token.label + "': "));
      *pin = std::move(read);
    }
    return base::SecureBuffer::copy_of((*pin)->view());
  };
}

hsm::PinSource CardSession::management_key_source(const std::string& file) {
  auto mutex = pin_mutex_;
  auto key = management_key_;
  auto reader = secrets;
  return [mutex, key, reader, file](const hsm::TokenInfo& token) -> Result<base::SecureBuffer> {
    std::lock_guard lock(*mutex);
    if (!*key) {
      SIGNET_ASSIGN_OR_RETURN(auto read, reader->read(file, "PIV management key (hex) for card '" +
                                                                token.label + "': "));
      *key = std::move(read);
    }
    return base::SecureBuffer::copy_of((*key)->view());
  };
}

void print_progress(const token::Progress& progress) {
  std::fprintf(stderr, "[%s] %s\n", progress.step.c_str(), progress.message.c_str());
  std::fflush(stderr);
}

nlohmann::json token_json(const hsm::TokenInfo& token) {
  return {{"label", token.label},
          {"serial", token.serial},
          {"model", token.model},
          {"manufacturer", token.manufacturer},
          {"user_pin_count_low", token.user_pin_count_low},
          {"user_pin_final_try", token.user_pin_final_try},
          {"user_pin_locked", token.user_pin_locked},
          {"so_pin_locked", token.so_pin_locked}};
}

std::string pin_counters(const hsm::TokenInfo& token) {
  if (token.user_pin_locked) return "LOCKED: unblock it with 'signet card pin unblock'";
  if (token.user_pin_final_try) return "FINAL_TRY: one more wrong PIN locks the card";
  if (token.user_pin_count_low) return "COUNT_LOW: a wrong PIN was entered; few tries are left";
  return "no failed attempts reported";
}

}  // namespace signet::appliance
