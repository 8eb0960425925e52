#include "hsm/pkcs11_uri.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <vector>

namespace signet::hsm {
namespace {

using base::Error;
using base::ErrorCode;

constexpr std::string_view kScheme = "pkcs11:";

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// RFC 3986 §2.1 percent-decoding. Names the attribute (never its value) on error.
base::Result<base::Bytes> percent_decode(std::string_view text, std::string_view attribute) {
  base::Bytes out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '%') {
      out.push_back(static_cast<std::uint8_t>(text[i]));
      continue;
    }
    if (i + 2 >= text.size()) {
      return Error(
          ErrorCode::kInvalidArgument,
          "the PKCS#11 URI attribute '" + std::string(attribute) + "' has an incomplete %-escape");
    }
    const int hi = hex_value(text[i + 1]);
    const int lo = hex_value(text[i + 2]);
    if (hi < 0 || lo < 0) {
      return Error(ErrorCode::kInvalidArgument,
                   "the PKCS#11 URI attribute '" + std::string(attribute) + "' has a bad %-escape");
    }
    out.push_back(static_cast<std::uint8_t>(hi * 16 + lo));
    i += 2;
  }
  return out;
}

std::vector<std::string_view> split(std::string_view text, char separator) {
  std::vector<std::string_view> parts;
  if (text.empty()) return parts;
  std::size_t start = 0;
  for (;;) {
    std::size_t end = text.find(separator, start);
    parts.push_back(text.substr(start, end == std::string_view::npos ? end : end - start));
    if (end == std::string_view::npos) break;
    start = end + 1;
  }
  return parts;
}

template <typename T>
base::Result<void> set_once(std::optional<T>& field, T value, std::string_view name) {
  if (field) {
    return Error(ErrorCode::kInvalidArgument,
                 "the PKCS#11 URI repeats the attribute '" + std::string(name) + "'");
  }
  field = std::move(value);
  return base::ok();
}

base::Result<void> set_path_attribute(Pkcs11Uri& uri, std::string_view name, std::string_view raw) {
  SIGNET_ASSIGN_OR_RETURN(base::Bytes value, percent_decode(raw, name));
  std::string text(base::as_chars(value));
  if (name == "token") return set_once(uri.token, std::move(text), name);
  if (name == "manufacturer") return set_once(uri.manufacturer, std::move(text), name);
  if (name == "serial") return set_once(uri.serial, std::move(text), name);
  if (name == "model") return set_once(uri.model, std::move(text), name);
  if (name == "object") return set_once(uri.object, std::move(text), name);
  if (name == "id") return set_once(uri.id, std::move(value), name);
  if (name == "library-manufacturer")
    return set_once(uri.library_manufacturer, std::move(text), name);
  if (name == "library-description")
    return set_once(uri.library_description, std::move(text), name);
  if (name == "library-version") return base::ok();  // informational; not used to select
  if (name == "slot-description") return set_once(uri.slot_description, std::move(text), name);
  if (name == "slot-manufacturer") return set_once(uri.slot_manufacturer, std::move(text), name);
  if (name == "slot-id") {
    CK_SLOT_ID slot = 0;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), slot);
    if (ec != std::errc() || end != text.data() + text.size() || text.empty()) {
      return Error(ErrorCode::kInvalidArgument,
                   "the PKCS#11 URI attribute 'slot-id' is not a number: '" + text + "'");
    }
    return set_once(uri.slot_id, slot, name);
  }
  if (name == "type") {
    Pkcs11Uri::ObjectType type;
    if (text == "private")
      type = Pkcs11Uri::ObjectType::kPrivate;
    else if (text == "public")
      type = Pkcs11Uri::ObjectType::kPublic;
    else if (text == "cert")
      type = Pkcs11Uri::ObjectType::kCertificate;
    else if (text == "secret-key")
      type = Pkcs11Uri::ObjectType::kSecretKey;
    else if (text == "data")
      type = Pkcs11Uri::ObjectType::kData;
    else {
      return Error(ErrorCode::kInvalidArgument,
                   "the PKCS#11 URI has an unknown type '" + text +
                       "' (expected private, public, cert, secret-key or data)");
    }
    return set_once(uri.type, type, name);
  }
  if (name.starts_with("x-")) return base::ok();  // vendor attribute: RFC 7512 §2.3
  return Error(ErrorCode::kInvalidArgument,
               "the PKCS#11 URI has an unknown attribute '" + std::string(name) + "'");
}

base::Result<void> set_query_attribute(Pkcs11Uri& uri, std::string_view name,
                                       std::string_view raw) {
  SIGNET_ASSIGN_OR_RETURN(base::Bytes value, percent_decode(raw, name));
  std::string text(base::as_chars(value));
  if (name == "module-path") return set_once(uri.module_path, std::move(text), name);
  if (name == "module-name") return set_once(uri.module_name, std::move(text), name);
  if (name.starts_with("x-")) return base::ok();
  return Error(ErrorCode::kInvalidArgument,
               "the PKCS#11 URI has an unknown query attribute '" + std::string(name) + "'");
}

}  // namespace

base::Result<Pkcs11Uri> Pkcs11Uri::parse(std::string_view text) {
  if (text.size() < kScheme.size() ||
      !std::equal(kScheme.begin(), kScheme.end(), text.begin(), [](char a, char b) {
        return a == std::tolower(static_cast<unsigned char>(b));
      })) {
    return Error(ErrorCode::kInvalidArgument, "a PKCS#11 URI must start with 'pkcs11:'");
  }
  std::string_view rest = text.substr(kScheme.size());
  std::string_view path = rest;
  std::string_view query;
  if (auto mark = rest.find('?'); mark != std::string_view::npos) {
    path = rest.substr(0, mark);
    query = rest.substr(mark + 1);
  }
  // Refuse a PIN before anything else, and without echoing the URI (it holds the PIN).
  for (std::string_view part : split(query, '&')) {
    std::string_view name = part.substr(0, part.find('='));
    if (name == "pin-value" || name == "pin-source") {
      return Error(ErrorCode::kInvalidArgument, "PKCS#11 URIs may not carry a PIN (" +
                                                    std::string(name) +
                                                    " is refused); use --pin-file");
    }
  }
  for (std::string_view part : split(path, ';')) {
    std::string_view name = part.substr(0, part.find('='));
    if (name == "pin-value" || name == "pin-source") {
      return Error(ErrorCode::kInvalidArgument, "PKCS#11 URIs may not carry a PIN (" +
                                                    std::string(name) +
                                                    " is refused); use --pin-file");
    }
  }

  Pkcs11Uri uri;
  for (std::string_view part : split(path, ';')) {
    auto equals = part.find('=');
    if (equals == std::string_view::npos || equals == 0) {
      return Error(ErrorCode::kInvalidArgument, "the PKCS#11 URI has a malformed attribute '" +
                                                    std::string(part) + "' (expected name=value)");
    }
    SIGNET_TRY(set_path_attribute(uri, part.substr(0, equals), part.substr(equals + 1)));
  }
  for (std::string_view part : split(query, '&')) {
    auto equals = part.find('=');
    if (equals == std::string_view::npos || equals == 0) {
      return Error(ErrorCode::kInvalidArgument,
                   "the PKCS#11 URI has a malformed query attribute '" + std::string(part) +
                       "' (expected name=value)");
    }
    SIGNET_TRY(set_query_attribute(uri, part.substr(0, equals), part.substr(equals + 1)));
  }
  return uri;
}

bool Pkcs11Uri::matches(const TokenInfo& info) const {
  if (token && *token != info.label) return false;
  if (serial && *serial != info.serial) return false;
  if (manufacturer && *manufacturer != info.manufacturer) return false;
  if (model && *model != info.model) return false;
  if (slot_id && *slot_id != info.slot_id) return false;
  return true;
}

}  // namespace signet::hsm
