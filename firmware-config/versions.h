// ConfigHistory: the configurations applied to an appliance, kept as numbered versions in one
// directory (<state>/config/): v<N>.toml is the file as applied and v<N>.meta.toml says who
// applied it, when, how ("apply", "rollback to N") and from where; both mode 0600. The newest
// version is also the active file (signetd.toml beside them), which signetd reads when it is
// given no --config. Versions are never rewritten or removed: a rollback records the old text
// as a new version. Two processes recording at once get distinct numbers (O_EXCL).
// Not thread-safe within a process; one command per process uses it.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "firmware-config/configuration.h"

namespace signet::firmware_config {

struct ConfigVersion {
  unsigned number = 0;
  std::string applied_by;  // the actor, as in audit events ("cli:root")
  std::string applied_at;  // RFC 3339 UTC
  std::string action;      // "apply", "rollback to 3"
  std::string source;      // the file it came from
  bool operator==(const ConfigVersion&) const = default;
};

class ConfigHistory {
 public:
  explicit ConfigHistory(std::filesystem::path directory) : directory_(std::move(directory)) {}

  const std::filesystem::path& directory() const { return directory_; }
  std::filesystem::path active_file() const { return directory_ / "signetd.toml"; }

  // Every version, oldest first (empty when none was applied).
  base::Result<std::vector<ConfigVersion>> list() const;
  // The text of version `number` (kNotFound when there is none).
  base::Result<std::string> text(unsigned number) const;
  // Stores `text` as the next version with `meta` (its number is assigned) and makes it the
  // active file. Returns the stored version.
  base::Result<ConfigVersion> record(std::string_view text, ConfigVersion meta);

 private:
  std::filesystem::path directory_;
};

// What differs between two configurations, one line per key path, in the documented order:
// "limits.max_connections: 512 -> 64", "pkcs11.tokens[1].label: added \"audit\"",
// "tls.extra_names: removed (was [...])". Empty when they are equal.
std::vector<std::string> diff_configurations(const Configuration& from, const Configuration& to);

}  // namespace signet::firmware_config
