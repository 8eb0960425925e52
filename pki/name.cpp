#include "pki/name.h"

#include <openssl/objects.h>
#include <openssl/x509.h>

#include <algorithm>
#include <cctype>
#include <vector>

#include "base/openssl.h"
#include "pki/internal/der_writer.h"
#include "pki/internal/openssl_util.h"

namespace signet::pki {

using base::Error;
using base::ErrorCode;

namespace {

enum class StringKind { kUtf8, kPrintable, kIa5, kCountry };

// The attribute types operators may name, with the string type we encode and the upper bound
// on their length in characters (RFC 5280 Appendix A, ub-*; 0: none).
struct AttributeType {
  int nid;
  StringKind kind;
  std::size_t max_length;
  const char* alias;  // accepted besides OpenSSL's short and long names
};

constexpr AttributeType kAttributeTypes[] = {
    {NID_commonName, StringKind::kUtf8, 64, nullptr},
    {NID_countryName, StringKind::kCountry, 2, nullptr},
    {NID_organizationName, StringKind::kUtf8, 64, nullptr},
    {NID_organizationalUnitName, StringKind::kUtf8, 64, nullptr},
    {NID_localityName, StringKind::kUtf8, 128, nullptr},
    {NID_stateOrProvinceName, StringKind::kUtf8, 128, "S"},
    {NID_streetAddress, StringKind::kUtf8, 0, nullptr},
    {NID_domainComponent, StringKind::kIa5, 63, nullptr},
    {NID_userId, StringKind::kUtf8, 0, nullptr},
    // X.520 / RFC 5280 Appendix A: serialNumber and dnQualifier are PrintableString.
    {NID_serialNumber, StringKind::kPrintable, 64, nullptr},
    {NID_pkcs9_emailAddress, StringKind::kIa5, 255, "E"},
    {NID_title, StringKind::kUtf8, 64, nullptr},
    {NID_givenName, StringKind::kUtf8, 0, nullptr},
    {NID_surname, StringKind::kUtf8, 0, nullptr},
    {NID_initials, StringKind::kUtf8, 0, nullptr},
    {NID_pseudonym, StringKind::kUtf8, 128, nullptr},
    {NID_dnQualifier, StringKind::kPrintable, 0, nullptr},
    {NID_postalCode, StringKind::kUtf8, 40, nullptr},
    {NID_businessCategory, StringKind::kUtf8, 128, nullptr},
    {NID_organizationIdentifier, StringKind::kUtf8, 0, nullptr},
    {NID_jurisdictionCountryName, StringKind::kCountry, 2, nullptr},
    {NID_jurisdictionStateOrProvinceName, StringKind::kUtf8, 128, nullptr},
    {NID_jurisdictionLocalityName, StringKind::kUtf8, 128, nullptr},
};

bool iequals(std::string_view a, const char* b) {
  if (b == nullptr) return false;
  const std::string_view other(b);
  return a.size() == other.size() &&
         std::equal(a.begin(), a.end(), other.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

// One attribute as typed: its type keyword or OID, and its value after unescaping.
struct Ava {
  std::string type;
  std::string value;
  bool is_hex = false;  // RFC 4514 §2.4 "#" followed by the BER of the value
};
using Rdn = std::vector<Ava>;

class NameParser {
 public:
  explicit NameParser(std::string_view text) : text_(text) {}

  Error error(const std::string& problem) const {
    return Error(ErrorCode::kInvalidArgument, problem + " in '" + std::string(text_) + "'");
  }

  // RFC 4514: RDNs separated by ',', AVAs by '+', most significant RDN last.
  base::Result<std::vector<Rdn>> parse_rfc4514() {
    std::vector<Rdn> rdns(1);
    std::size_t pos = 0;
    while (true) {
      SIGNET_ASSIGN_OR_RETURN(Ava ava, parse_ava(pos, ",+", true));
      rdns.back().push_back(std::move(ava));
      if (pos >= text_.size()) break;
      const char separator = text_[pos++];
      if (separator == ',') rdns.emplace_back();
    }
    std::reverse(rdns.begin(), rdns.end());
    return rdns;
  }

  // OpenSSL's "/C=DE/O=Example/CN=www": most significant first, '\' escapes the next
  // character, '+' joins AVAs of one RDN.
  base::Result<std::vector<Rdn>> parse_slash() {
    std::vector<Rdn> rdns;
    std::size_t pos = 1;  // after the leading '/'
    if (pos >= text_.size()) return error("empty distinguished name");
    rdns.emplace_back();
    while (true) {
      SIGNET_ASSIGN_OR_RETURN(Ava ava, parse_ava(pos, "/+", false));
      rdns.back().push_back(std::move(ava));
      if (pos >= text_.size()) break;
      const char separator = text_[pos++];
      if (separator == '/') rdns.emplace_back();
    }
    return rdns;
  }

 private:
  // Reads "type=value" from `pos` up to one of `stops` (unescaped) or the end.
  base::Result<Ava> parse_ava(std::size_t& pos, std::string_view stops, bool rfc4514) {
    const std::size_t start = pos;
    const std::size_t equals = text_.find('=', pos);
    const std::size_t stop = text_.find_first_of(stops, pos);
    if (equals == std::string_view::npos || (stop != std::string_view::npos && stop < equals)) {
      const std::string_view part = text_.substr(
          start, stop == std::string_view::npos ? std::string_view::npos : stop - start);
      if (part.find_first_not_of(' ') == std::string_view::npos) {
        return error("empty relative distinguished name");
      }
      return error("'" + std::string(part) + "' is not TYPE=value");
    }
    Ava ava;
    ava.type = std::string(text_.substr(pos, equals - pos));
    if (rfc4514) trim(ava.type);
    if (ava.type.empty()) return error("missing attribute type before '='");
    pos = equals + 1;
    if (rfc4514) {
      while (pos < text_.size() && text_[pos] == ' ') ++pos;
      if (pos < text_.size() && text_[pos] == '#') {
        ava.is_hex = true;
        ++pos;
      }
    }
    std::size_t kept = 0;  // value length up to and including the last escaped character
    while (pos < text_.size() && stops.find(text_[pos]) == std::string_view::npos) {
      const char c = text_[pos];
      if (c != '\\') {
        if (rfc4514 && !ava.is_hex && (c == '"' || c == ';' || c == '<' || c == '>')) {
          return error("unescaped '" + std::string(1, c) + "' in the value of '" + ava.type +
                       "' (write '\\" + std::string(1, c) + "')");
        }
        ava.value.push_back(c);
        ++pos;
        continue;
      }
      if (pos + 1 >= text_.size()) return error("a '\\' at the end has nothing to escape");
      const char next = text_[pos + 1];
      if (!rfc4514) {
        ava.value.push_back(next);
        pos += 2;
      } else if (std::isxdigit(static_cast<unsigned char>(next))) {
        // RFC 4514 §2.4: "\" hexpair is one octet (OpenSSL prints UTF-8 bytes this way).
        if (pos + 2 >= text_.size() || !std::isxdigit(static_cast<unsigned char>(text_[pos + 2]))) {
          return error("bad escape '\\" + std::string(text_.substr(pos + 1, 2)) +
                       "' in the value of '" + ava.type + "'");
        }
        ava.value.push_back(static_cast<char>(hex_digit(next) * 16 + hex_digit(text_[pos + 2])));
        pos += 3;
      } else if (std::string_view(" \"#+,;<=>\\").find(next) != std::string_view::npos) {
        ava.value.push_back(next);
        pos += 2;
      } else {
        return error("bad escape '\\" + std::string(1, next) + "' in the value of '" + ava.type +
                     "'");
      }
      kept = ava.value.size();
    }
    if (rfc4514) {
      while (ava.value.size() > kept && ava.value.back() == ' ') ava.value.pop_back();
    }
    if (ava.value.empty()) return error("empty value for '" + ava.type + "'");
    return ava;
  }

  static int hex_digit(char c) {
    return c <= '9' ? c - '0' : (std::tolower(static_cast<unsigned char>(c)) - 'a' + 10);
  }

  static void trim(std::string& text) {
    const auto first = text.find_first_not_of(' ');
    const auto last = text.find_last_not_of(' ');
    text = first == std::string::npos ? std::string() : text.substr(first, last - first + 1);
  }

  std::string_view text_;
};

bool valid_utf8(std::string_view text, std::size_t& characters) {
  characters = 0;
  for (std::size_t i = 0; i < text.size(); ++characters) {
    const auto c = static_cast<unsigned char>(text[i]);
    std::size_t extra = 0;
    std::uint32_t code = 0;
    if (c < 0x80) {
      extra = 0, code = c;
    } else if ((c & 0xe0) == 0xc0) {
      extra = 1, code = c & 0x1f;
    } else if ((c & 0xf0) == 0xe0) {
      extra = 2, code = c & 0x0f;
    } else if ((c & 0xf8) == 0xf0) {
      extra = 3, code = c & 0x07;
    } else {
      return false;
    }
    if (i + extra >= text.size()) return false;
    for (std::size_t k = 1; k <= extra; ++k) {
      const auto d = static_cast<unsigned char>(text[i + k]);
      if ((d & 0xc0) != 0x80) return false;
      code = (code << 6) | (d & 0x3f);
    }
    // Overlong forms, surrogates and code points past U+10FFFF are not UTF-8 (RFC 3629 §3).
    static constexpr std::uint32_t kMin[] = {0, 0x80, 0x800, 0x10000};
    if (code < kMin[extra] || (code >= 0xd800 && code <= 0xdfff) || code > 0x10ffff) return false;
    i += extra + 1;
  }
  return true;
}

bool printable_string_char(char c) {
  // X.680 §41.4: PrintableString characters.
  return std::isalnum(static_cast<unsigned char>(c)) ||
         std::string_view(" '()+,-./:=?").find(c) != std::string_view::npos;
}

// The ASN.1 string type and checks for one attribute; returns the V_ASN1_* type.
base::Result<int> string_type_for(const AttributeType* attribute, const Ava& ava,
                                  const NameParser& parser) {
  const StringKind kind = attribute != nullptr ? attribute->kind : StringKind::kUtf8;
  const std::string& value = ava.value;
  switch (kind) {
    case StringKind::kCountry:
      if (value.size() != 2 || !std::isalpha(static_cast<unsigned char>(value[0])) ||
          !std::isalpha(static_cast<unsigned char>(value[1]))) {
        return parser.error("'" + ava.type + "' must be a two-letter country code, not '" + value +
                            "'");
      }
      return V_ASN1_PRINTABLESTRING;
    case StringKind::kPrintable:
      if (!std::all_of(value.begin(), value.end(), printable_string_char)) {
        return parser.error("the value of '" + ava.type +
                            "' may hold only letters, digits, spaces and '()+,-./:=? (it is a "
                            "PrintableString)");
      }
      break;
    case StringKind::kIa5:
      if (!std::all_of(value.begin(), value.end(),
                       [](char c) { return static_cast<unsigned char>(c) < 0x80; })) {
        return parser.error("the value of '" + ava.type + "' must be ASCII (it is an IA5String)");
      }
      break;
    case StringKind::kUtf8:
      break;
  }
  std::size_t characters = 0;
  if (!valid_utf8(value, characters)) {
    return parser.error("the value of '" + ava.type + "' is not valid UTF-8");
  }
  if (attribute != nullptr && attribute->max_length != 0 && characters > attribute->max_length) {
    return parser.error("the value of '" + ava.type + "' is longer than " +
                        std::to_string(attribute->max_length) + " characters");
  }
  return kind == StringKind::kPrintable ? V_ASN1_PRINTABLESTRING
         : kind == StringKind::kIa5     ? V_ASN1_IA5STRING
                                        : V_ASN1_UTF8STRING;
}

const AttributeType* find_by_nid(int nid) {
  for (const auto& attribute : kAttributeTypes) {
    if (attribute.nid == nid) return &attribute;
  }
  return nullptr;
}

// Resolves a keyword (CN, commonName, ...) or a dotted OID.
base::Result<base::Asn1ObjectPtr> resolve_type(const Ava& ava, const NameParser& parser,
                                               const AttributeType** attribute) {
  *attribute = nullptr;
  for (const auto& candidate : kAttributeTypes) {
    if (iequals(ava.type, OBJ_nid2sn(candidate.nid)) ||
        iequals(ava.type, OBJ_nid2ln(candidate.nid)) || iequals(ava.type, candidate.alias)) {
      *attribute = &candidate;
      return base::Asn1ObjectPtr(OBJ_nid2obj(candidate.nid));
    }
  }
  std::string dotted = ava.type;
  if (dotted.size() > 4 && iequals(std::string_view(dotted).substr(0, 4), "oid.")) {
    dotted = dotted.substr(4);  // RFC 2253 legacy "OID.2.5.4.3"
  }
  if (!dotted.empty() && std::isdigit(static_cast<unsigned char>(dotted[0])) &&
      internal::encode_oid(dotted)) {
    base::Asn1ObjectPtr object(OBJ_txt2obj(dotted.c_str(), 1));
    if (object) {
      *attribute = find_by_nid(OBJ_obj2nid(object.get()));
      return object;
    }
  }
  base::drain_openssl_errors();
  return parser.error("unknown attribute type '" + ava.type + "'");
}

// RFC 4514 §2.4 "#hex": the DER of a string-typed value.
base::Result<std::pair<int, std::string>> decode_hex_value(const Ava& ava,
                                                           const NameParser& parser) {
  auto der = base::from_hex(ava.value);
  auto bad = [&] {
    return parser.error("the '#' value of '" + ava.type + "' is not the hex DER of a string");
  };
  if (!der) return bad();
  internal::DerReader reader(*der);
  auto element = reader.next();
  if (!element || !reader.at_end()) return bad();
  switch (element->tag) {
    case V_ASN1_UTF8STRING:
    case V_ASN1_PRINTABLESTRING:
    case V_ASN1_IA5STRING:
    case V_ASN1_T61STRING:
    case V_ASN1_BMPSTRING:
    case V_ASN1_UNIVERSALSTRING:
    case V_ASN1_VISIBLESTRING:
    case V_ASN1_NUMERICSTRING:
      return std::make_pair(static_cast<int>(element->tag),
                            std::string(base::as_chars(element->content)));
    default:
      return bad();
  }
}

base::Result<base::Bytes> encode_rdns(const std::vector<Rdn>& rdns, const NameParser& parser) {
  base::X509NamePtr name(X509_NAME_new());
  if (!name) return base::openssl_error(ErrorCode::kCryptoError, "cannot allocate a name");
  for (const Rdn& rdn : rdns) {
    bool first = true;
    for (const Ava& ava : rdn) {
      const AttributeType* attribute = nullptr;
      SIGNET_ASSIGN_OR_RETURN(auto object, resolve_type(ava, parser, &attribute));
      int type = 0;
      std::string value;
      if (ava.is_hex) {
        SIGNET_ASSIGN_OR_RETURN(auto decoded, decode_hex_value(ava, parser));
        type = decoded.first;
        value = std::move(decoded.second);
      } else {
        SIGNET_ASSIGN_OR_RETURN(type, string_type_for(attribute, ava, parser));
        value = ava.value;
      }
      // loc -1 appends; set 0 starts a new RDN, -1 joins the previous one (multi-valued).
      if (X509_NAME_add_entry_by_OBJ(name.get(), object.get(), type,
                                     reinterpret_cast<const unsigned char*>(value.data()),
                                     static_cast<int>(value.size()), -1, first ? 0 : -1) != 1) {
        return base::openssl_error(ErrorCode::kInvalidArgument,
                                   "cannot add '" + ava.type + "' to the name");
      }
      first = false;
    }
  }
  unsigned char* der = nullptr;
  const int length = i2d_X509_NAME(name.get(), &der);
  if (length <= 0) return base::openssl_error(ErrorCode::kCryptoError, "cannot encode the name");
  base::Bytes out(der, der + length);
  OPENSSL_free(der);
  return out;
}

base::Result<base::X509NamePtr> decode_name(base::ByteView name_der) {
  const unsigned char* p = name_der.data();
  base::X509NamePtr name(d2i_X509_NAME(nullptr, &p, static_cast<long>(name_der.size())));
  if (!name) {
    return base::openssl_error(ErrorCode::kInvalidArgument, "not a DER distinguished name");
  }
  if (p != name_der.data() + name_der.size()) {
    return Error(ErrorCode::kInvalidArgument, "trailing data after the distinguished name");
  }
  return name;
}

}  // namespace

base::Result<base::Bytes> parse_distinguished_name(std::string_view text) {
  NameParser parser(text);
  if (text.find_first_not_of(" /") == std::string_view::npos) {
    return parser.error("empty distinguished name");
  }
  std::vector<Rdn> rdns;
  if (text.front() == '/') {
    SIGNET_ASSIGN_OR_RETURN(rdns, parser.parse_slash());
  } else {
    SIGNET_ASSIGN_OR_RETURN(rdns, parser.parse_rfc4514());
  }
  return encode_rdns(rdns, parser);
}

base::Result<std::string> format_distinguished_name(base::ByteView name_der) {
  SIGNET_ASSIGN_OR_RETURN(auto name, decode_name(name_der));
  return internal::format_name(name.get());
}

base::Result<std::string> common_name_of(base::ByteView name_der) {
  SIGNET_ASSIGN_OR_RETURN(auto name, decode_name(name_der));
  return internal::first_common_name(name.get());
}

bool is_empty_name(base::ByteView name_der) {
  return name_der.size() == 2 && name_der[0] == 0x30 && name_der[1] == 0x00;
}

base::Result<std::vector<NameAttribute>> name_attributes(base::ByteView name_der) {
  SIGNET_ASSIGN_OR_RETURN(auto name, decode_name(name_der));
  std::vector<NameAttribute> out;
  const int count = X509_NAME_entry_count(name.get());
  for (int i = 0; i < count; ++i) {
    const X509_NAME_ENTRY* entry = X509_NAME_get_entry(name.get(), i);
    const ASN1_OBJECT* object = X509_NAME_ENTRY_get_object(entry);
    NameAttribute attribute;
    const int nid = OBJ_obj2nid(object);
    if (nid != NID_undef) {
      attribute.type = OBJ_nid2sn(nid);
    } else {
      char dotted[128];
      const int length = OBJ_obj2txt(dotted, sizeof(dotted), object, 1);
      if (length <= 0 || static_cast<std::size_t>(length) >= sizeof(dotted)) {
        return base::openssl_error(ErrorCode::kInvalidArgument,
                                   "an attribute type in the name is not a valid OID");
      }
      attribute.type.assign(dotted, static_cast<std::size_t>(length));
    }
    unsigned char* utf8 = nullptr;
    const int length = ASN1_STRING_to_UTF8(&utf8, X509_NAME_ENTRY_get_data(entry));
    if (length < 0) {
      return base::openssl_error(ErrorCode::kInvalidArgument, "the value of '" + attribute.type +
                                                                  "' in the name is not a string");
    }
    attribute.value.assign(reinterpret_cast<const char*>(utf8), static_cast<std::size_t>(length));
    OPENSSL_free(utf8);
    out.push_back(std::move(attribute));
  }
  return out;
}

base::Result<base::Bytes> encode_name(const std::vector<NameAttribute>& attributes) {
  // Messages quote the attributes in OpenSSL's slash form.
  std::string text;
  for (const auto& attribute : attributes) text += "/" + attribute.type + "=" + attribute.value;
  const NameParser parser(text);
  std::vector<Rdn> rdns;
  for (const auto& attribute : attributes) {
    if (attribute.type.empty()) return parser.error("missing attribute type");
    if (attribute.value.empty()) return parser.error("empty value for '" + attribute.type + "'");
    Ava ava{attribute.type, attribute.value, false};
    // name_attributes() names every type OpenSSL knows by its short name: accept those too.
    const AttributeType* known = nullptr;
    if (!resolve_type(ava, parser, &known) && OBJ_sn2nid(ava.type.c_str()) != NID_undef) {
      base::drain_openssl_errors();
      char dotted[128];
      const int length =
          OBJ_obj2txt(dotted, sizeof(dotted), OBJ_nid2obj(OBJ_sn2nid(ava.type.c_str())), 1);
      if (length > 0 && static_cast<std::size_t>(length) < sizeof(dotted)) ava.type = dotted;
    }
    rdns.push_back(Rdn{std::move(ava)});
  }
  return encode_rdns(rdns, parser);
}

}  // namespace signet::pki
