// Pkcs11Uri: an RFC 7512 PKCS#11 URI that names keys, e.g.
//   pkcs11:token=signet;object=root-ca;type=private
//   pkcs11:serial=1a2b3c;id=%01%02?module-path=/usr/lib/softhsm/libsofthsm2.so
// An attribute that is absent matches everything (RFC 7512 §2.3). Values are
// percent-decoded; `id` is raw bytes, the others UTF-8 text.
//
// URIs may not carry a PIN: `pin-value` and `pin-source` are refused (PINs come from a PIN file
// or a prompt, never from a string that ends up in configuration, argv or logs), and that
// error never repeats the URI. Plain value type; thread-safe to share.
#pragma once

#include <p11-kit/pkcs11.h>

#include <optional>
#include <string>
#include <string_view>

#include "base/bytes.h"
#include "base/result.h"
#include "hsm/module.h"

namespace signet::hsm {

struct Pkcs11Uri {
  enum class ObjectType { kPrivate, kPublic, kCertificate, kSecretKey, kData };

  // Path attributes (RFC 7512 §2.3).
  std::optional<std::string> token;         // CKA token label
  std::optional<std::string> manufacturer;  // token manufacturer
  std::optional<std::string> serial;        // token serial
  std::optional<std::string> model;         // token model
  std::optional<std::string> object;        // CKA_LABEL
  std::optional<base::Bytes> id;            // CKA_ID
  std::optional<ObjectType> type;
  std::optional<CK_SLOT_ID> slot_id;
  std::optional<std::string> library_manufacturer;
  std::optional<std::string> library_description;
  std::optional<std::string> slot_description;
  std::optional<std::string> slot_manufacturer;
  // Query attributes.
  std::optional<std::string> module_path;
  std::optional<std::string> module_name;

  // kInvalidArgument for anything that is not a PKCS#11 URI, a repeated attribute, a bad
  // percent-escape, an unknown standard attribute, and any PIN in the URI.
  static base::Result<Pkcs11Uri> parse(std::string_view uri);

  // Whether a token matches the token attributes (token, manufacturer, serial, model, slot-id).
  bool matches(const TokenInfo& token_info) const;
};

}  // namespace signet::hsm
