// ConfigHistory: the configurations applied to an appliance, kept as numbered versions in one
// directory (<state>/config/): v<N>.toml is the file as applied and v<N>.meta.toml says who
// applied it, when, how ("apply", "rollback to N") and from where; both mode 0600. The newest
// version is also the active file (signetd.toml beside them), which signetd reads when it is
// given no --config. Versions are never rewritten or removed: a rollback records the old text
// as a new version. Two processes recording at once get distinct numbers (O_EXCL).
//
// Replay protection for signed bundles: a version imported from a bundle keeps the bundle's
// sequence number in its metadata (bundle_sequence), and record() refuses a bundle whose
// sequence is not above every one recorded before, checking and recording under an exclusive
// lock on the directory (flock on <dir>/.lock), so two importers cannot both pass. The highest
// sequence a `signet config export` from this state directory gave is kept beside them
// (last-exported-sequence), so that the next export numbers above it.
// Not thread-safe within a process (callers serialize); across processes as described.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "firmware-config/configuration.h"

namespace signet::firmware_config {

struct ConfigVersion {
  unsigned number = 0;
  std::string applied_by;             // the actor, as in audit events ("cli:root")
  std::string applied_at;             // RFC 3339 UTC
  std::string action;                 // "apply", "rollback to 3"
  std::string source;                 // the file it came from
  std::uint64_t bundle_sequence = 0;  // an imported bundle's sequence number; 0: no bundle
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
  // active file. Returns the stored version. With meta.bundle_sequence set, kConflict (and
  // nothing stored) unless it is above last_bundle_sequence().
  base::Result<ConfigVersion> record(std::string_view text, ConfigVersion meta);

  // The highest bundle sequence recorded (0: no bundle was imported).
  base::Result<std::uint64_t> last_bundle_sequence() const;
  // kConflict saying why, unless `sequence` is above last_bundle_sequence().
  base::Result<void> check_bundle_sequence(std::uint64_t sequence) const;

  // The highest sequence an export from here gave (0: none), and recording a new one.
  base::Result<std::uint64_t> last_exported_sequence() const;
  base::Result<void> note_exported_sequence(std::uint64_t sequence);

 private:
  std::filesystem::path directory_;
};

// What differs between two configurations, one line per key path, in the documented order:
// "limits.max_connections: 512 -> 64", "pkcs11.tokens[1].label: added \"audit\"",
// "tls.extra_names: removed (was [...])". Empty when they are equal.
std::vector<std::string> diff_configurations(const Configuration& from, const Configuration& to);

}  // namespace signet::firmware_config
