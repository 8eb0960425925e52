// SoftHsmToken: a fresh SoftHSMv2 token store in a TempDir, with one initialised token, for
// integration tests of hsm/ and of everything that signs through it.
//
// How it isolates tests: SoftHSM reads SOFTHSM2_CONF once, at C_Initialize, and keeps one
// global state per process until C_Finalize. So the fixture (1) writes a softhsm2.conf whose
// tokendir is inside its TempDir, (2) points SOFTHSM2_CONF at it with setenv, (3) initialises
// its token(s) with softhsm2-util (an independent tool, in a child process), and only then
// (4) loads the module, on the first call to module(). The fixture owns that module: when the
// fixture goes, the last reference goes, so C_Finalize resets SoftHSM and the next fixture's
// load reads the next configuration. Consequences:
//   - only one SoftHsmToken may be alive at a time in a process (the constructor throws
//     otherwise); use add_token() for several tokens in one store;
//   - nothing (signer, provider) may keep the module alive past the fixture; the destructor
//     aborts the test binary if something does, because the next fixture would silently use
//     this one's deleted token directory;
//   - a token added with add_token() after module() was loaded is certain to be visible only
//     after reload_module() (SoftHSM builds its slot list at C_Initialize); objects that other
//     processes create on an existing token are visible at once.
// Child processes (softhsm2-util, pkcs11-tool) inherit SOFTHSM2_CONF and see the same store.
// Not thread-safe; create it on the test's thread.
#pragma once

#include <memory>
#include <string>

#include "base/secure_buffer.h"
#include "hsm/module.h"
#include "tests/support/test_support.h"

namespace signet::test {

class SoftHsmToken {
 public:
  static constexpr const char* kDefaultModule = "/usr/lib/softhsm/libsofthsm2.so";
  static constexpr const char* kUserPin = "1234";
  static constexpr const char* kSoPin = "12345678";

  explicit SoftHsmToken(std::string label = "signet");
  ~SoftHsmToken();
  SoftHsmToken(const SoftHsmToken&) = delete;
  SoftHsmToken& operator=(const SoftHsmToken&) = delete;

  const std::string& label() const { return label_; }
  const std::string& module_path() const { return module_path_; }
  const TempDir& dir() const { return dir_; }

  // Initialises one more token (same PINs) in this store with softhsm2-util.
  void add_token(const std::string& label);

  // The module, loaded on first use (after the tokens exist); throws if it cannot be loaded.
  std::shared_ptr<hsm::Pkcs11Module> module();
  // Drops our reference and loads again (to see tokens made by other processes).
  void reload_module();
  // The serial number of a token of this store (default: the fixture's own).
  std::string serial(const std::string& label = "");

  // A PinSource that answers kUserPin for every token.
  static hsm::PinSource pin_source();
  static base::SecureBuffer user_pin();
  static base::SecureBuffer so_pin();

  // pkcs11-tool --module <module> <arguments>, against this store.
  CommandResult pkcs11_tool(const std::string& arguments) const;

 private:
  void release_module();

  TempDir dir_;
  std::string label_;
  std::string module_path_;
  std::shared_ptr<hsm::Pkcs11Module> module_;
};

}  // namespace signet::test
