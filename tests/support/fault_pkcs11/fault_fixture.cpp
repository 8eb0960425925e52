#include "tests/support/fault_pkcs11/fault_fixture.h"

#include <cstdlib>
#include <filesystem>
#include <stdexcept>

namespace signet::test {

FaultInjection::FaultInjection(bool wrap_softhsm, std::string real_module)
    : wrapped_softhsm_(wrap_softhsm) {
  const char* path = std::getenv("SIGNET_FAULT_PKCS11");
  if (path == nullptr || *path == '\0' || !std::filesystem::exists(path)) {
    throw std::runtime_error("SIGNET_FAULT_PKCS11 does not name the fault-injecting module");
  }
  module_path_ = path;
  clear();
  ::setenv("SIGNET_FAULT_CONTROL", control_path().c_str(), 1);
  ::setenv("SIGNET_FAULT_REAL_MODULE", real_module.c_str(), 1);
  if (wrap_softhsm) ::setenv("SIGNET_PKCS11_MODULE", module_path_.c_str(), 1);
}

FaultInjection::~FaultInjection() {
  if (wrapped_softhsm_) ::unsetenv("SIGNET_PKCS11_MODULE");
  // An empty control path: the module, if still loaded, injects nothing.
  ::setenv("SIGNET_FAULT_CONTROL", "", 1);
}

void FaultInjection::set(const std::string& directives) {
  const auto staging = dir_ / "control.new";
  write_text(staging, directives);
  std::filesystem::rename(staging, dir_ / "control");
}

}  // namespace signet::test
