// Reading and validating the appliance configuration (docs/CONFIGURATION.md).
//
// A TOML file is read over the factory defaults; every problem is collected rather than
// stopping at the first, each with its key path ("limits.max_connections",
// "pkcs11.tokens[0].pin_file"), its line and one sentence: unknown keys (with the closest
// known key), wrong types, values out of range, bad listen addresses, PIN files that are
// missing or readable by group/others, PKCS#11 modules that do not load. The checks that
// touch the system are injected (Probes), so tests can run them without a module; the real
// ones are real_probes(). Stateless functions; thread-safe.
#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "firmware-config/configuration.h"

namespace signet::firmware_config {

// One problem in a configuration file. line is 0 when it belongs to no line (an unreadable
// file, a missing section).
struct ConfigIssue {
  std::string key;  // the key path; empty for file-level problems
  unsigned line = 0;
  std::string message;
  // "FILE:LINE: KEY: MESSAGE" (parts that are empty left out).
  std::string describe(std::string_view file) const;
  bool operator==(const ConfigIssue&) const = default;
};

struct Probes {
  // Whether the PKCS#11 module at `path` loads and exports C_GetFunctionList.
  std::function<base::Result<void>(const std::string& path)> module;
  // Whether the PIN file at `path` exists, is a regular file and only its owner can read it.
  std::function<base::Result<void>(const std::string& path)> pin_file;
  // Whether the file at `path` can be read and holds a PEM public key or certificate.
  std::function<base::Result<void>(const std::string& path)> trust_anchor;
  // Whether a declared RA profile (its table as JSON) is one (the appliance injects the CA's
  // parser; real_probes() leaves it unset).
  std::function<base::Result<void>(const std::string& json)> profile;
  // Whether the file at `path` can be read and holds a PEM certificate (a declared operator's
  // client certificate; the appliance's probe also parses it).
  std::function<base::Result<void>(const std::string& path)> certificate;
};

// dlopen() + dlsym("C_GetFunctionList") for modules; stat() for PIN and password files; reading
// the file and finding a PEM block for trust anchors and certificates.
Probes real_probes();

struct LoadResult {
  Configuration configuration;      // meaningful only when issues is empty
  std::vector<ConfigIssue> issues;  // sorted by line
  bool ok() const { return issues.empty(); }
};

// Parses TOML text; `source` names it in messages.
LoadResult parse_configuration(std::string_view text, const std::string& source,
                               const std::string& default_module, const Probes& probes);
// Reads and parses a file (an unreadable file is one issue).
LoadResult load_configuration_file(const std::string& path, const std::string& default_module,
                                   const Probes& probes);

// One Error (kInvalidArgument) whose message lists every issue, one per line.
base::Error to_error(const std::string& file, const std::vector<ConfigIssue>& issues);

// The configuration as TOML, every key written (defaults included), in the documented order.
// It holds no secrets: PINs and passwords appear only as the paths of their files.
std::string to_toml(const Configuration& configuration);
// The same as a JSON object ({"listen": {"https": ...}, "pkcs11": {"modules": [...]}, ...}).
std::string to_json(const Configuration& configuration);

}  // namespace signet::firmware_config
