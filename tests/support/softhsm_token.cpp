#include "tests/support/softhsm_token.h"

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <stdexcept>

namespace signet::test {
namespace {

// One live fixture per process (see the header): SoftHSM's state is per process.
bool fixture_alive = false;

std::string shell_quote(const std::string& text) {
  std::string out = "'";
  for (char c : text) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

}  // namespace

SoftHsmToken::SoftHsmToken(std::string label) : label_(std::move(label)) {
  if (fixture_alive) throw std::logic_error("only one SoftHsmToken may be alive at a time");
  const char* module = std::getenv("SIGNET_PKCS11_MODULE");
  module_path_ = module != nullptr && *module != '\0' ? module : kDefaultModule;
  std::filesystem::create_directory(dir_ / "tokens");
  write_text(dir_ / "softhsm2.conf",
             "directories.tokendir = " + (dir_ / "tokens").string() +
                 "\nobjectstore.backend = file\nlog.level = ERROR\nslots.removable = false\n");
  ::setenv("SOFTHSM2_CONF", (dir_ / "softhsm2.conf").c_str(), 1);
  fixture_alive = true;
  try {
    add_token(label_);
  } catch (...) {
    fixture_alive = false;
    throw;
  }
}

SoftHsmToken::~SoftHsmToken() {
  release_module();
  fixture_alive = false;
}

void SoftHsmToken::release_module() {
  std::weak_ptr<hsm::Pkcs11Module> watch = module_;
  module_.reset();
  if (!watch.expired()) {
    std::fprintf(stderr,
                 "SoftHsmToken: something still holds the PKCS#11 module (a signer or provider "
                 "outlived the fixture); later fixtures would share this one's state\n");
    std::abort();
  }
}

void SoftHsmToken::add_token(const std::string& label) {
  auto result = run_command("softhsm2-util --init-token --free --label " + shell_quote(label) +
                            " --so-pin " + kSoPin + " --pin " + kUserPin);
  if (result.exit_code != 0) {
    throw std::runtime_error("softhsm2-util --init-token failed: " + result.output);
  }
}

std::shared_ptr<hsm::Pkcs11Module> SoftHsmToken::module() {
  if (!module_) {
    auto loaded = hsm::Pkcs11Module::load(module_path_);
    if (!loaded) throw std::runtime_error(loaded.error().describe());
    module_ = std::move(loaded).value();
  }
  return module_;
}

void SoftHsmToken::reload_module() {
  release_module();
  module();
}

std::string SoftHsmToken::serial(const std::string& label) {
  auto token = module()->find_token(label.empty() ? label_ : label);
  if (!token) throw std::runtime_error(token.error().describe());
  return token->serial;
}

hsm::PinSource SoftHsmToken::pin_source() {
  return [](const hsm::TokenInfo&) -> base::Result<base::SecureBuffer> { return user_pin(); };
}

base::SecureBuffer SoftHsmToken::user_pin() {
  return base::SecureBuffer::copy_of(base::as_bytes(kUserPin));
}

base::SecureBuffer SoftHsmToken::so_pin() {
  return base::SecureBuffer::copy_of(base::as_bytes(kSoPin));
}

CommandResult SoftHsmToken::pkcs11_tool(const std::string& arguments) const {
  return run_command("pkcs11-tool --module " + shell_quote(module_path_) + " " + arguments);
}

}  // namespace signet::test
