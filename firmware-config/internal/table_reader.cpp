#include "firmware-config/internal/table_reader.h"

#include <algorithm>
#include <cctype>
#include <cstdio>

#include "firmware-config/internal/toml_text.h"

namespace signet::firmware_config::internal {
namespace {

std::string_view type_name(toml::value_t type) {
  switch (type) {
    case toml::value_t::boolean:
      return "a boolean";
    case toml::value_t::integer:
      return "an integer";
    case toml::value_t::floating:
      return "a floating-point number";
    case toml::value_t::string:
      return "a string";
    case toml::value_t::offset_datetime:
    case toml::value_t::local_datetime:
      return "a date-time";
    case toml::value_t::local_date:
      return "a date";
    case toml::value_t::local_time:
      return "a time";
    case toml::value_t::array:
      return "an array";
    case toml::value_t::table:
      return "a table";
    case toml::value_t::empty:
      break;
  }
  return "empty";
}

std::size_t edit_distance(std::string_view a, std::string_view b) {
  std::vector<std::size_t> row(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    std::size_t diagonal = row[0];
    row[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      const std::size_t above = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diagonal = above;
    }
  }
  return row[b.size()];
}

std::string json_string(const std::string& text) {
  std::string out = "\"";
  for (const unsigned char c : text) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += static_cast<char>(c);
    } else if (c < 0x20 || c == 0x7f) {
      char escape[8];
      std::snprintf(escape, sizeof escape, "\\u%04x", c);
      out += escape;
    } else {
      out += static_cast<char>(c);
    }
  }
  return out + "\"";
}

// A bare TOML key when it is one, else quoted.
std::string toml_key(const std::string& key) {
  const bool bare = !key.empty() && std::all_of(key.begin(), key.end(), [](unsigned char c) {
    return std::isalnum(c) || c == '_' || c == '-';
  });
  return bare ? key : toml_quoted(key);
}

void write_json(const Value& v, std::string& out) {
  if (v.is_table()) {
    out += "{";
    bool first = true;
    for (const auto& [key, item] : v.as_table()) {
      out += (first ? "" : ",") + json_string(key) + ":";
      write_json(item, out);
      first = false;
    }
    out += "}";
  } else if (v.is_array()) {
    out += "[";
    const auto& items = v.as_array();
    for (std::size_t i = 0; i < items.size(); ++i) {
      if (i) out += ",";
      write_json(items[i], out);
    }
    out += "]";
  } else if (v.is_string()) {
    out += json_string(v.as_string().str);
  } else if (v.is_integer()) {
    out += std::to_string(v.as_integer());
  } else if (v.is_boolean()) {
    out += v.as_boolean() ? "true" : "false";
  } else if (v.is_floating()) {
    out += toml::format(v);
  } else {
    out += json_string(toml::format(v));
  }
}

}  // namespace

std::string to_json_text(const Value& value) {
  std::string out;
  write_json(value, out);
  return out;
}

std::string to_inline_toml(const Value& v) {
  if (v.is_table()) {
    std::string out = "{";
    bool first = true;
    for (const auto& [key, item] : v.as_table()) {
      out += (first ? " " : ", ") + toml_key(key) + " = " + to_inline_toml(item);
      first = false;
    }
    return out + (first ? "}" : " }");
  }
  if (v.is_array()) {
    std::string out = "[";
    const auto& items = v.as_array();
    for (std::size_t i = 0; i < items.size(); ++i)
      out += (i ? ", " : "") + to_inline_toml(items[i]);
    return out + "]";
  }
  if (v.is_string()) return toml_quoted(v.as_string().str);
  if (v.is_boolean()) return v.as_boolean() ? "true" : "false";
  if (v.is_integer()) return std::to_string(v.as_integer());
  return toml::format(v);
}

std::string TableReader::as_json() {
  for (const auto& entry : table_.as_table()) known_.push_back(entry.first);
  return to_json_text(table_);
}

std::vector<std::pair<std::string, std::string>> TableReader::as_inline_toml() {
  std::vector<std::pair<std::string, std::string>> out;
  for (const auto& [key, item] : table_.as_table()) {
    known_.push_back(key);
    out.emplace_back(toml_key(key), to_inline_toml(item));
  }
  return out;
}

unsigned TableReader::line() const { return static_cast<unsigned>(table_.location().line()); }

std::string TableReader::key_path(std::string_view key) const {
  return path_.empty() ? std::string(key) : path_ + "." + std::string(key);
}

void TableReader::issue(std::string_view key, unsigned line, std::string message) {
  issues_.push_back({key.empty() ? path_ : key_path(key), line, std::move(message)});
}

unsigned TableReader::line_of(std::string_view key) const {
  const auto& t = table_.as_table();
  const auto it = t.find(std::string(key));
  if (it == t.end()) return line();
  return static_cast<unsigned>(it->second.location().line());
}

const Value* TableReader::find(std::string_view key) {
  known_.emplace_back(key);
  const auto& t = table_.as_table();
  const auto it = t.find(std::string(key));
  return it == t.end() ? nullptr : &it->second;
}

bool TableReader::expect(std::string_view key, const Value& value, toml::value_t type) {
  if (value.type() == type) return true;
  issue(
      key, static_cast<unsigned>(value.location().line()),
      "must be " + std::string(type_name(type)) + ", not " + std::string(type_name(value.type())));
  return false;
}

bool TableReader::boolean(std::string_view key, bool& out) {
  const Value* v = find(key);
  if (v == nullptr || !expect(key, *v, toml::value_t::boolean)) return false;
  out = v->as_boolean();
  return true;
}

bool TableReader::string(std::string_view key, std::string& out) {
  const Value* v = find(key);
  if (v == nullptr || !expect(key, *v, toml::value_t::string)) return false;
  out = v->as_string().str;
  return true;
}

bool TableReader::strings(std::string_view key, std::vector<std::string>& out) {
  const Value* v = find(key);
  if (v == nullptr || !expect(key, *v, toml::value_t::array)) return false;
  std::vector<std::string> items;
  bool good = true;
  const auto& array = v->as_array();
  for (std::size_t i = 0; i < array.size(); ++i) {
    if (!array[i].is_string()) {
      issues_.push_back({key_path(key) + "[" + std::to_string(i) + "]",
                         static_cast<unsigned>(array[i].location().line()),
                         "must be a string, not " + std::string(type_name(array[i].type()))});
      good = false;
      continue;
    }
    items.push_back(array[i].as_string().str);
  }
  if (good) out = std::move(items);
  return good;
}

bool TableReader::string_or_strings(std::string_view key, std::vector<std::string>& out) {
  const Value* v = find(key);
  if (v != nullptr && v->is_string()) {
    out = {v->as_string().str};
    return true;
  }
  return strings(key, out);
}

bool TableReader::integer(std::string_view key, long long min, long long max, long long& out) {
  const Value* v = find(key);
  if (v == nullptr || !expect(key, *v, toml::value_t::integer)) return false;
  const long long value = v->as_integer();
  if (value < min || value > max) {
    issue(key, static_cast<unsigned>(v->location().line()),
          "must be between " + std::to_string(min) + " and " + std::to_string(max) + ", not " +
              std::to_string(value));
    return false;
  }
  out = value;
  return true;
}

std::optional<TableReader> TableReader::table(std::string_view key) {
  const Value* v = find(key);
  if (v == nullptr || !expect(key, *v, toml::value_t::table)) return std::nullopt;
  return TableReader(*v, key_path(key), issues_);
}

std::vector<TableReader> TableReader::tables(std::string_view key, bool& present) {
  std::vector<TableReader> out;
  const Value* v = find(key);
  present = v != nullptr;
  if (v == nullptr || !expect(key, *v, toml::value_t::array)) return out;
  const auto& array = v->as_array();
  for (std::size_t i = 0; i < array.size(); ++i) {
    const std::string path = key_path(key) + "[" + std::to_string(i) + "]";
    if (!array[i].is_table()) {
      issues_.push_back({path, static_cast<unsigned>(array[i].location().line()),
                         "must be a table, not " + std::string(type_name(array[i].type()))});
      continue;
    }
    out.emplace_back(array[i], path, issues_);
  }
  return out;
}

void TableReader::finish() {
  for (const auto& [key, value] : table_.as_table()) {
    if (std::find(known_.begin(), known_.end(), key) != known_.end()) continue;
    std::string message = "unknown key";
    if (const auto near = closest_key(key, known_); !near.empty()) {
      message += "; did you mean '" + key_path(near) + "'?";
    }
    issue(key, static_cast<unsigned>(value.location().line()), std::move(message));
  }
}

ConfigIssue syntax_issue(const toml::exception& error) {
  // toml11's message spans several lines with a source excerpt; keep its first line.
  std::string what = error.what();
  if (const auto newline = what.find('\n'); newline != std::string::npos) what.resize(newline);
  if (what.rfind("[error] ", 0) == 0) what.erase(0, 8);
  return {"", static_cast<unsigned>(error.location().line()), "not valid TOML: " + what};
}

std::string closest_key(std::string_view key, const std::vector<std::string>& known) {
  std::string best;
  std::size_t best_distance = std::max<std::size_t>(2, key.size() / 3) + 1;
  for (const auto& candidate : known) {
    const auto d = edit_distance(key, candidate);
    if (d < best_distance) {
      best_distance = d;
      best = candidate;
    }
  }
  return best;
}

}  // namespace signet::firmware_config::internal
