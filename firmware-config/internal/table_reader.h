// TableReader: reads one TOML table of the configuration into typed fields, collecting every
// problem (wrong type, out of range, unknown key) as a ConfigIssue with key path and line.
// Each accessor also declares its key as known; finish() then reports the table's other keys
// as unknown, naming the closest known one. toml11 stays inside this file and its .cpp.
// Not thread-safe; lives for one parse.
#pragma once

#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <toml.hpp>
#include <vector>

#include "firmware-config/loader.h"

namespace signet::firmware_config::internal {

using Value = toml::basic_value<toml::discard_comments, std::map, std::vector>;

class TableReader {
 public:
  TableReader(const Value& table, std::string path, std::vector<ConfigIssue>& issues)
      : table_(table), path_(std::move(path)), issues_(issues) {}

  const std::string& path() const { return path_; }
  unsigned line() const;
  std::string key_path(std::string_view key) const;
  void issue(std::string_view key, unsigned line, std::string message);
  unsigned line_of(std::string_view key) const;  // the value's line, or the table's

  // Each returns true when the key was present with the right type and valid value (and
  // then `out` is set); false when absent or wrong (then an issue was recorded).
  bool boolean(std::string_view key, bool& out);
  bool string(std::string_view key, std::string& out);
  bool strings(std::string_view key, std::vector<std::string>& out);
  // One string or an array of strings ("syslog" or ["syslog", "journald"]).
  bool string_or_strings(std::string_view key, std::vector<std::string>& out);
  bool integer(std::string_view key, long long min, long long max, long long& out);
  template <typename T>
  bool integer_into(std::string_view key, long long min, long long max, T& out) {
    long long v = 0;
    if (!integer(key, min, max, v)) return false;
    out = static_cast<T>(v);
    return true;
  }
  template <typename Rep, typename Period>
  bool duration(std::string_view key, long long min, long long max,
                std::chrono::duration<Rep, Period>& out) {
    long long v = 0;
    if (!integer(key, min, max, v)) return false;
    out = std::chrono::duration<Rep, Period>(v);
    return true;
  }
  // A sub-table; nullopt when absent or not a table.
  std::optional<TableReader> table(std::string_view key);
  // An array of tables (`[[key]]`); empty when absent or wrong.
  std::vector<TableReader> tables(std::string_view key, bool& present);

  // The whole table, every key then known: as JSON text, and as (key, inline TOML value)
  // pairs in key order (what to_toml writes back).
  std::string as_json();
  std::vector<std::pair<std::string, std::string>> as_inline_toml();

  // Reports every key of this table that no accessor asked for.
  void finish();

 private:
  const Value* find(std::string_view key);
  bool expect(std::string_view key, const Value& value, toml::value_t type);

  const Value& table_;
  std::string path_;
  std::vector<ConfigIssue>& issues_;
  std::vector<std::string> known_;
};

// A value as JSON (tables as objects; floats and dates as they print) and as an inline TOML
// value (tables as { k = v, ... }).
std::string to_json_text(const Value& value);
std::string to_inline_toml(const Value& value);

// Reports `issues` of a document that failed to parse as TOML (syntax), with its line.
ConfigIssue syntax_issue(const toml::exception& error);

// The known key closest to `key` (edit distance), or empty when none is close.
std::string closest_key(std::string_view key, const std::vector<std::string>& known);

}  // namespace signet::firmware_config::internal
