// The PKCS#11 side of a card in a reader: the module the ATR map chooses for its ATR, the slot
// of that module that is the reader, and the token the card shows there (serial, label, model).
//
// A smart-card module (OpenSC, ykcs11) has one slot per PC/SC reader and names the slot after
// the reader: its slot description is the reader's name, cut to the 64 bytes the field holds.
// So a reader's slot is the one whose description equals the reader name, or is the first 64
// bytes of it. A rule with a fixed token (AtrMap's "token") skips that matching: the card's
// token is that token of the module (for software stand-ins whose slots are not readers).
//
// ModuleCache loads each module path once per process (a PKCS#11 library has one state per
// process, see hsm/module.h) and shares it. Thread-safe.
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "base/result.h"
#include "hsm/module.h"
#include "token/atr_map.h"
#include "token/readers.h"

namespace signet::token {

class ModuleCache {
 public:
  // The module at `path`, loaded on first use.
  base::Result<std::shared_ptr<hsm::Pkcs11Module>> get(const std::string& path);
  // Shares a module loaded elsewhere in this process (so it is not loaded twice).
  void adopt(std::shared_ptr<hsm::Pkcs11Module> module);
  // From now on get() loads nothing: a path not loaded yet is kUnavailable. signetd seals its
  // cache once start-up has loaded every module of its ATR map, so that no library is
  // dlopen()ed (its constructors run) inside the hardened process.
  void seal();

 private:
  std::mutex mutex_;  // guards modules_ and sealed_
  bool sealed_ = false;
  std::map<std::string, std::shared_ptr<hsm::Pkcs11Module>> modules_;
};

struct CardToken {
  ModuleRule rule;       // the ATR map's choice
  hsm::SlotInfo slot;    // the reader's slot in the module
  hsm::TokenInfo token;  // what the card's token says about itself
  std::shared_ptr<hsm::Pkcs11Module> module;
};

// Whether the slot description `description` names the reader `reader` (equal, or the
// reader's name cut to the 64-byte field).
bool slot_names_reader(const std::string& description, const std::string& reader);

// The card's token in `reader`. Errors: kNotFound "no card in reader ..." when the reader is
// empty; the module's load error; kNotFound when the module shows no slot for the reader ("the
// module does not see reader ..."), or no token in it ("... does not recognise the card").
base::Result<CardToken> find_card_token(const ReaderState& reader, const AtrMap& map,
                                        ModuleCache& modules);

}  // namespace signet::token
