// Pkcs11KeyProvider: what smart-card enrollment needs beyond keys — the algorithms a token
// supports, an early login, and the token's objects: listing them, writing certificates beside
// a key, removing them again.
#include <algorithm>

#include "hsm/internal/key_generation.h"
#include "hsm/internal/token.h"
#include "hsm/key_provider.h"
#include "pki/certificate.h"

namespace signet::hsm {
namespace {

using base::Error;
using base::ErrorCode;
using internal::Session;

constexpr base::KeyAlgorithm kAllAlgorithms[] = {
    base::KeyAlgorithm::kEcP256,  base::KeyAlgorithm::kEcP384,  base::KeyAlgorithm::kRsa2048,
    base::KeyAlgorithm::kRsa3072, base::KeyAlgorithm::kRsa4096, base::KeyAlgorithm::kEd25519};

TokenObject::Kind kind_of(CK_OBJECT_CLASS object_class) {
  switch (object_class) {
    case CKO_PRIVATE_KEY:
      return TokenObject::Kind::kPrivateKey;
    case CKO_PUBLIC_KEY:
      return TokenObject::Kind::kPublicKey;
    case CKO_CERTIFICATE:
      return TokenObject::Kind::kCertificate;
    default:
      return TokenObject::Kind::kData;
  }
}

// DER INTEGER of a certificate's serial, as CKA_SERIAL_NUMBER holds it.
base::Bytes serial_integer(const pki::Certificate& certificate) {
  const base::Bytes content = certificate.serial().der_content();
  base::Bytes out;
  out.reserve(content.size() + 2);
  out.push_back(0x02);
  out.push_back(static_cast<std::uint8_t>(content.size()));
  for (std::uint8_t b : content) out.push_back(b);
  return out;
}

}  // namespace

std::string_view to_string(TokenObject::Kind kind) {
  switch (kind) {
    case TokenObject::Kind::kPrivateKey:
      return "private-key";
    case TokenObject::Kind::kPublicKey:
      return "public-key";
    case TokenObject::Kind::kCertificate:
      return "certificate";
    case TokenObject::Kind::kData:
      break;
  }
  return "data";
}

base::Result<std::vector<base::KeyAlgorithm>> Pkcs11KeyProvider::supported_algorithms(
    std::string_view token_name) {
  SIGNET_ASSIGN_OR_RETURN(auto token, token(token_name));
  SIGNET_ASSIGN_OR_RETURN(TokenInfo info, token->current_info());
  std::vector<base::KeyAlgorithm> out;
  for (auto algorithm : kAllAlgorithms) {
    auto checked = internal::check_mechanisms(*token->module(), info, algorithm);
    if (checked) {
      out.push_back(algorithm);
    } else if (checked.error().code() != ErrorCode::kNotSupported) {
      return std::move(checked).error();
    }
  }
  return out;
}

base::Result<void> Pkcs11KeyProvider::log_in(std::string_view token_name) {
  SIGNET_ASSIGN_OR_RETURN(auto token, token(token_name));
  return token->ensure_logged_in();
}

base::Result<std::vector<TokenObject>> Pkcs11KeyProvider::list_objects(
    std::string_view token_name) {
  SIGNET_ASSIGN_OR_RETURN(auto token, token(token_name));
  return token->run([&](Session& session) -> base::Result<std::vector<TokenObject>> {
    std::vector<TokenObject> out;
    for (CK_OBJECT_CLASS object_class : {CKO_PRIVATE_KEY, CKO_PUBLIC_KEY, CKO_CERTIFICATE,
                                         static_cast<CK_OBJECT_CLASS>(CKO_DATA)}) {
      SIGNET_ASSIGN_OR_RETURN(auto handles,
                              session.find_objects({internal::attr(CKA_CLASS, object_class)}));
      for (CK_OBJECT_HANDLE handle : handles) {
        TokenObject object;
        object.kind = kind_of(object_class);
        SIGNET_ASSIGN_OR_RETURN(auto id, session.attribute(handle, CKA_ID));
        SIGNET_ASSIGN_OR_RETURN(auto label, session.attribute(handle, CKA_LABEL));
        if (id) object.id = std::move(*id);
        if (label) object.label.assign(base::as_chars(*label));
        if (object_class == CKO_CERTIFICATE) {
          SIGNET_ASSIGN_OR_RETURN(auto value, session.attribute(handle, CKA_VALUE));
          if (value) object.value = std::move(*value);
        }
        out.push_back(std::move(object));
      }
    }
    return out;
  });
}

base::Result<void> Pkcs11KeyProvider::put_certificate(std::string_view token_name,
                                                      base::ByteView id, std::string_view label,
                                                      base::ByteView der) {
  SIGNET_ASSIGN_OR_RETURN(auto certificate, pki::Certificate::from_der(der));
  const base::Bytes serial = serial_integer(certificate);
  SIGNET_ASSIGN_OR_RETURN(auto token, token(token_name));
  auto written = token->run_administration([&](Session& session) -> base::Result<void> {
    static constexpr CK_CERTIFICATE_TYPE kX509 = CKC_X_509;
    std::vector<CK_ATTRIBUTE> object = {
        internal::attr(CKA_CLASS, internal::kCertificateClass),
        internal::attr(CKA_CERTIFICATE_TYPE, kX509),
        internal::attr(CKA_TOKEN, internal::kTrue),
        internal::attr(CKA_PRIVATE, internal::kFalse),
        internal::attr(CKA_MODIFIABLE, internal::kTrue),
        internal::attr(CKA_ID, id),
        internal::attr(CKA_LABEL, label),
        internal::attr(CKA_SUBJECT, base::ByteView(certificate.subject_der())),
        internal::attr(CKA_ISSUER, base::ByteView(certificate.issuer_der())),
        internal::attr(CKA_SERIAL_NUMBER, base::ByteView(serial)),
        internal::attr(CKA_VALUE, der),
    };
    CK_OBJECT_HANDLE handle = CK_INVALID_HANDLE;
    return session
        .note(SIGNET_P11_CALL(session.functions(), C_CreateObject, token->label(),
                              internal::Purpose::kGeneral, session.handle(), object.data(),
                              object.size(), &handle))
        .result();
  });
  if (!written) {
    return std::move(written).error().with_context(
        "writing certificate " + certificate.serial().to_hex() + " to " + token->info().describe());
  }
  return written;
}

base::Result<std::size_t> Pkcs11KeyProvider::destroy_certificates(
    std::string_view token_name, base::ByteView id, std::optional<base::ByteView> der) {
  SIGNET_ASSIGN_OR_RETURN(auto token, token(token_name));
  return token->run_administration([&](Session& session) -> base::Result<std::size_t> {
    std::vector<CK_ATTRIBUTE> match = {internal::attr(CKA_CLASS, internal::kCertificateClass),
                                       internal::attr(CKA_ID, id)};
    if (der) match.push_back(internal::attr(CKA_VALUE, *der));
    SIGNET_ASSIGN_OR_RETURN(auto handles, session.find_objects(std::move(match)));
    for (CK_OBJECT_HANDLE handle : handles) SIGNET_TRY(session.destroy_object(handle));
    return handles.size();
  });
}

base::Result<void> Pkcs11KeyProvider::set_administrator_pins(std::string_view token_name,
                                                             PinSource so_pins) {
  SIGNET_ASSIGN_OR_RETURN(auto token, token(token_name));
  token->set_administrator_pins(std::move(so_pins));
  return base::ok();
}

}  // namespace signet::hsm
