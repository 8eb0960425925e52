#include "pki/internal/openssl_util.h"

#include <arpa/inet.h>
#include <openssl/asn1.h>
#include <openssl/bio.h>

#include <cctype>
#include <ctime>

#include "base/openssl.h"

namespace signet::pki::internal {

using base::Error;
using base::ErrorCode;

base::Result<base::Bytes> name_der(const X509_NAME* name) {
  const unsigned char* der = nullptr;
  size_t length = 0;
  if (name == nullptr || X509_NAME_get0_der(const_cast<X509_NAME*>(name), &der, &length) != 1) {
    return base::openssl_error(ErrorCode::kCryptoError, "cannot encode a distinguished name");
  }
  return base::Bytes(der, der + length);
}

base::Result<std::string> format_name(const X509_NAME* name) {
  base::BioPtr bio(BIO_new(BIO_s_mem()));
  if (!bio) return base::openssl_error(ErrorCode::kCryptoError, "cannot allocate a memory BIO");
  // `openssl x509 -nameopt RFC2253` passes exactly these flags to X509_NAME_print_ex.
  if (X509_NAME_print_ex(bio.get(), name, 0, XN_FLAG_RFC2253) < 0) {
    return base::openssl_error(ErrorCode::kCryptoError, "cannot print a distinguished name");
  }
  char* data = nullptr;
  const long length = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<std::size_t>(length));
}

base::Result<std::string> first_common_name(const X509_NAME* name) {
  const int index = X509_NAME_get_index_by_NID(name, NID_commonName, -1);
  if (index < 0) return std::string();
  const ASN1_STRING* value = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(name, index));
  unsigned char* utf8 = nullptr;
  const int length = ASN1_STRING_to_UTF8(&utf8, value);
  if (length < 0) {
    return base::openssl_error(ErrorCode::kInvalidArgument,
                               "the commonName is not a valid directory string");
  }
  std::string out(reinterpret_cast<const char*>(utf8), static_cast<std::size_t>(length));
  OPENSSL_free(utf8);
  return out;
}

namespace {

std::string_view type_name(int type) {
  switch (type) {
    case GEN_OTHERNAME:
      return "otherName";
    case GEN_X400:
      return "x400Address";
    case GEN_DIRNAME:
      return "directoryName";
    case GEN_EDIPARTY:
      return "ediPartyName";
    case GEN_RID:
      return "registeredID";
    default:
      return "unknown";
  }
}

// An otherName holding a Microsoft user principal name (1.3.6.1.4.1.311.20.2.3, UTF8String).
bool is_upn(const OTHERNAME* other) {
  if (other == nullptr || other->type_id == nullptr || other->value == nullptr) return false;
  char oid[64] = {};
  OBJ_obj2txt(oid, sizeof(oid), other->type_id, 1);
  return std::string_view(oid) == "1.3.6.1.4.1.311.20.2.3" &&
         other->value->type == V_ASN1_UTF8STRING;
}

std::string ia5_text(const ASN1_IA5STRING* s) {
  return std::string(reinterpret_cast<const char*>(ASN1_STRING_get0_data(s)),
                     static_cast<std::size_t>(ASN1_STRING_length(s)));
}

}  // namespace

base::Result<std::vector<GeneralName>> to_general_names(const GENERAL_NAMES* names, bool strict) {
  std::vector<GeneralName> out;
  const int count = sk_GENERAL_NAME_num(names);
  for (int i = 0; i < count; ++i) {
    const GENERAL_NAME* entry = sk_GENERAL_NAME_value(names, i);
    GeneralName name;
    switch (entry->type) {
      case GEN_DNS:
        name.type = GeneralName::Type::kDns;
        name.value = ia5_text(entry->d.dNSName);
        for (char& c : name.value)
          c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        break;
      case GEN_EMAIL:
        name.type = GeneralName::Type::kEmail;
        name.value = ia5_text(entry->d.rfc822Name);
        break;
      case GEN_URI:
        name.type = GeneralName::Type::kUri;
        name.value = ia5_text(entry->d.uniformResourceIdentifier);
        break;
      case GEN_IPADD: {
        name.type = GeneralName::Type::kIp;
        const ASN1_OCTET_STRING* ip = entry->d.iPAddress;
        name.ip_octets.assign(ASN1_STRING_get0_data(ip),
                              ASN1_STRING_get0_data(ip) + ASN1_STRING_length(ip));
        char text[INET6_ADDRSTRLEN] = {};
        const int family = name.ip_octets.size() == 4 ? AF_INET : AF_INET6;
        if (name.ip_octets.size() == 4 || name.ip_octets.size() == 16) {
          inet_ntop(family, name.ip_octets.data(), text, sizeof(text));
          name.value = text;
        } else if (strict) {
          return Error(ErrorCode::kInvalidArgument, "subjectAltName IP address has " +
                                                        std::to_string(name.ip_octets.size()) +
                                                        " octets (expected 4 or 16)");
        } else {
          continue;
        }
        break;
      }
      case GEN_OTHERNAME:
        if (is_upn(entry->d.otherName)) {
          name.type = GeneralName::Type::kUpn;
          const ASN1_STRING* text = entry->d.otherName->value->value.utf8string;
          name.value.assign(reinterpret_cast<const char*>(ASN1_STRING_get0_data(text)),
                            static_cast<std::size_t>(ASN1_STRING_length(text)));
          break;
        }
        [[fallthrough]];
      default:
        if (strict) {
          return Error(ErrorCode::kInvalidArgument,
                       "subjectAltName of type " + std::string(type_name(entry->type)) +
                           " is not supported (only DNS, IP, email, URI and UPN)");
        }
        continue;
    }
    if (strict) SIGNET_TRY(validate_general_name(name));
    out.push_back(std::move(name));
  }
  return out;
}

base::Result<base::TimePoint> to_time_point(const ASN1_TIME* time) {
  std::tm tm{};
  if (time == nullptr || ASN1_TIME_to_tm(time, &tm) != 1) {
    return base::openssl_error(ErrorCode::kInvalidArgument, "malformed certificate time");
  }
  return base::from_unix_seconds(static_cast<std::int64_t>(timegm(&tm)));
}

}  // namespace signet::pki::internal
