// SoftHSM specifics that the appliance handles around the module (not through PKCS#11).
//
// SoftHSMv2's file backend rewrites a token's token.object in place, without fsync, on every
// successful C_Login (it clears CKF_USER_PIN_COUNT_LOW). A process killed during that rewrite
// leaves the file truncated, and the token, with every key on it, is gone: the file holds the
// token key wrapped under the PINs. We saw it happen when `signet` was killed mid-issuance.
// The guard keeps a verified copy of each token.object (taken under SoftHSM's own fcntl lock,
// so never mid-write) and puts it back when the live file is found shorter than the copy: the
// file only ever changes its flags after initialisation, never its length, so a shorter file
// is a torn write. Single-threaded; run before the module is loaded.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "base/result.h"

namespace signet::appliance {

// The token directory named by the SoftHSM configuration file that SOFTHSM2_CONF names.
std::optional<std::filesystem::path> softhsm_token_dir();

struct GuardReport {
  std::vector<std::string> restored;  // token directories whose token.object was put back
};

// For each token under `token_dir`: restore a torn token.object from `copies_dir`, or refresh
// the copy from an intact one.
base::Result<GuardReport> guard_softhsm_tokens(const std::filesystem::path& token_dir,
                                               const std::filesystem::path& copies_dir);

}  // namespace signet::appliance
