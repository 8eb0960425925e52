// AtrMap: which PKCS#11 module speaks to a card, chosen by the card's ATR. Rules are tried in
// order; the first whose pattern matches wins, and a card no rule matches goes to the default
// module (OpenSC's opensc-pkcs11.so unless configured otherwise), which knows PIV, CAC, and
// PKCS#15 cards.
//
// ATR pattern syntax (AtrPattern::parse): hex bytes, optionally separated by ':' or spaces
// ("3B:95:13:81:01:80:73:FF:01:00:0B"); '?' stands for any hex digit, so "??" for any byte;
// a trailing "*" or "..." allows any further bytes (otherwise the length must be equal); an
// optional " / MASK" gives a mask of the same length, OpenSC style (a byte matches when
// atr & mask == pattern & mask).
//
// The configuration file (JSON):
//   { "default_module": "/usr/lib/x86_64-linux-gnu/opensc-pkcs11.so",
//     "cards": [ { "name": "YubiKey 5", "atr": "3B:FD:13:00:00:81:31:FE:15:80:73:C0:21:C0:57*",
//                  "module": "/usr/lib/x86_64-linux-gnu/libykcs11.so" },
//                { "name": "test card", "atr": "3B:95:13:81:01:80:73:FF:01:00:0B",
//                  "module": "/usr/lib/softhsm/libsofthsm2.so", "token": "card-1" } ] }
// "type" (default "generic"; "piv", "ykcs11") says how the card keeps keys and certificates
// (token_type.h).
// "token" (a label or serial) names a fixed token of the module for modules whose slots are
// not readers (a software stand-in); without it the card's token is found by matching the
// module's slot description to the reader's name (card_token.h). Unknown keys are errors.
// Value type; immutable after construction, so safe to share between threads.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "base/bytes.h"
#include "base/result.h"

namespace signet::token {

inline constexpr const char* kOpenScModule = "/usr/lib/x86_64-linux-gnu/opensc-pkcs11.so";

class AtrPattern {
 public:
  // kInvalidArgument naming what is wrong with `text`.
  static base::Result<AtrPattern> parse(std::string_view text);

  bool matches(base::ByteView atr) const;
  // The pattern as written.
  const std::string& text() const { return text_; }

 private:
  AtrPattern() = default;

  std::vector<std::uint8_t> value_;
  std::vector<std::uint8_t> mask_;
  bool any_tail_ = false;
  std::string text_;
};

struct ModuleRule {
  std::string name;         // what the rule is for ("YubiKey 5"); "default" for the default
  std::string atr_pattern;  // as written; "" for the default rule
  std::string module_path;
  std::string token;             // fixed token (label or serial); "": match slots to readers
  std::string type = "generic";  // the card's TokenType (token_type.h): generic, piv, ykcs11
};

class AtrMap {
 public:
  // Only the default rule.
  explicit AtrMap(std::string default_module = kOpenScModule);

  // Parses the JSON configuration; `origin` (a file name) goes into messages.
  static base::Result<AtrMap> from_json(std::string_view text, const std::string& origin);
  static base::Result<AtrMap> load(const std::filesystem::path& file);

  // Adds a rule after the existing ones.
  base::Result<void> add(ModuleRule rule);

  // The first rule whose pattern matches `atr`, else the default rule.
  const ModuleRule& match(base::ByteView atr) const;

  const std::vector<ModuleRule>& rules() const { return rules_; }
  const ModuleRule& default_rule() const { return default_; }

 private:
  std::vector<ModuleRule> rules_;
  std::vector<AtrPattern> patterns_;  // parallel to rules_
  ModuleRule default_;
};

}  // namespace signet::token
