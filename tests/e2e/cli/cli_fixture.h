// A fresh Signet state directory with its own SoftHSM token, and a way to run the `signet`
// binary, openssl and friends against it.
#pragma once

#include <string>
#include <vector>

#include "tests/support/test_support.h"

namespace signet::test {

class CliFixture {
 public:
  // Creates the state directory and, unless `init_token` is false, a token "signet" in it
  // through `signet token init`.
  explicit CliFixture(bool init_token = true);

  // Runs `signet ARGS` with this state (SIGNET_STATE, SIGNET_TOKEN, SIGNET_PIN_FILE set).
  CommandResult signet(const std::string& args, const std::vector<std::string>& env = {}) const;
  // Runs any shell command with this state's environment (SOFTHSM2_CONF included).
  CommandResult shell(const std::string& command, const std::vector<std::string>& env = {}) const;

  std::string state() const { return (dir_ / "state").string(); }
  std::string path(const std::string& name) const { return (dir_ / name).string(); }
  std::string pin_file() const { return state() + "/pins/signet.user.pin"; }
  std::string softhsm_conf() const { return state() + "/softhsm/softhsm2.conf"; }

  // Writes a CSR made by openssl (key kept in the temp dir) and returns its path.
  std::string make_csr(const std::string& name, const std::string& key_options,
                       const std::string& subject, const std::string& san = "") const;
  // Creates root "root" (ec-p384) and intermediate "issuing" (ec-p256) under it.
  void create_root_and_issuing() const;

 private:
  std::vector<std::string> base_env() const;
  TempDir dir_;
};

std::string signet_binary();
// Runs `/usr/bin/python3 -c SCRIPT ARGS` (Debian's python with python3-cryptography).
CommandResult python(const std::string& script, const std::string& args);

}  // namespace signet::test
