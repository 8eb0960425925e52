// FaultInjection: puts the fault-injecting PKCS#11 module (fault_control.h) in front of the
// real one for this test process. The constructor points SIGNET_FAULT_CONTROL at a control
// file in its own TempDir (empty: no faults) and SIGNET_FAULT_REAL_MODULE at the real module;
// set() replaces the file atomically (write, then rename), so the module, which re-reads it on
// every call, sees either the old or the new faults. module_path() is the fault module's own
// path (from SIGNET_FAULT_PKCS11, which SIGNET_TEST_ENV sets), to load instead of the real one.
// Create it before a SoftHsmToken when that fixture should load the fault module: with
// `wrap_softhsm` true it sets SIGNET_PKCS11_MODULE to the fault module, which SoftHsmToken reads.
// Not thread-safe; create it on the test's thread. The environment is restored on destruction.
#pragma once

#include <string>

#include "tests/support/test_support.h"

namespace signet::test {

class FaultInjection {
 public:
  explicit FaultInjection(bool wrap_softhsm = true,
                          std::string real_module = "/usr/lib/softhsm/libsofthsm2.so");
  ~FaultInjection();
  FaultInjection(const FaultInjection&) = delete;
  FaultInjection& operator=(const FaultInjection&) = delete;

  // Replaces the control file's directives (fault_control.h); "" clears every fault.
  void set(const std::string& directives);
  void clear() { set(""); }

  const std::string& module_path() const { return module_path_; }
  std::string control_path() const { return (dir_ / "control").string(); }

 private:
  TempDir dir_;
  std::string module_path_;
  bool wrapped_softhsm_ = false;
};

}  // namespace signet::test
