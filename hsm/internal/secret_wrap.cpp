#include "hsm/internal/secret_wrap.h"

#include <algorithm>
#include <utility>
#include <vector>

#include "hsm/internal/key_generation.h"

namespace signet::hsm::internal {
namespace {

using base::Error;
using base::ErrorCode;

constexpr CK_OBJECT_CLASS kSecretKeyClass = CKO_SECRET_KEY;
constexpr CK_KEY_TYPE kAesKeyType = CKK_AES;
constexpr CK_KEY_TYPE kGenericSecretType = CKK_GENERIC_SECRET;

// A session object destroyed when the guard goes, however the function that made it returns.
class SessionObject {
 public:
  SessionObject(Session& session, CK_OBJECT_HANDLE handle) : session_(session), handle_(handle) {}
  ~SessionObject() {
    if (handle_ != CK_INVALID_HANDLE) (void)session_.destroy_object(handle_);
  }
  SessionObject(const SessionObject&) = delete;
  SessionObject& operator=(const SessionObject&) = delete;
  CK_OBJECT_HANDLE handle() const { return handle_; }

 private:
  Session& session_;
  CK_OBJECT_HANDLE handle_;
};

base::Result<CK_MECHANISM_INFO> mechanism_info(const Pkcs11Module& module, const TokenInfo& token,
                                               CK_MECHANISM_TYPE mechanism) {
  CK_MECHANISM_INFO info{};
  auto status = SIGNET_P11_CALL(module.functions(), C_GetMechanismInfo, token.label,
                                Purpose::kGeneral, token.slot_id, mechanism, &info);
  if (status.rv() == CKR_MECHANISM_INVALID) {
    return Error(ErrorCode::kNotSupported, "not offered");
  }
  SIGNET_TRY(status.result());
  return info;
}

// The mechanism serves `needed` with AES-256 keys (sizes in bytes; 0 means not reported).
bool serves(const CK_MECHANISM_INFO& info, CK_FLAGS needed) {
  const bool size_ok =
      info.ulMaxKeySize == 0 || (info.ulMinKeySize <= kKekBytes && kKekBytes <= info.ulMaxKeySize);
  return (info.flags & needed) == needed && size_ok;
}

constexpr std::size_t kLengthPrefix = 4;
constexpr std::size_t kSemiblock = 8;

base::Result<CK_OBJECT_HANDLE> generate_kek(Session& session, base::ByteView id) {
  const CK_ULONG value_length = kKekBytes;
  std::vector<CK_ATTRIBUTE> key_template = {
      attr(CKA_CLASS, &kSecretKeyClass, sizeof(kSecretKeyClass)),
      attr(CKA_KEY_TYPE, &kAesKeyType, sizeof(kAesKeyType)),
      attr(CKA_VALUE_LEN, value_length),
      attr(CKA_TOKEN, kTrue),
      attr(CKA_PRIVATE, kTrue),
      attr(CKA_SENSITIVE, kTrue),
      attr(CKA_EXTRACTABLE, kFalse),
      attr(CKA_WRAP, kTrue),
      attr(CKA_UNWRAP, kTrue),
      attr(CKA_ENCRYPT, kFalse),
      attr(CKA_DECRYPT, kFalse),
      attr(CKA_SIGN, kFalse),
      attr(CKA_VERIFY, kFalse),
      attr(CKA_DERIVE, kFalse),
      attr(CKA_LABEL, kKekLabel),
      attr(CKA_ID, id),
  };
  CK_MECHANISM mechanism{CKM_AES_KEY_GEN, nullptr, 0};
  CK_OBJECT_HANDLE handle = CK_INVALID_HANDLE;
  SIGNET_TRY(session
                 .note(SIGNET_P11_CALL(session.functions(), C_GenerateKey, session.token_label(),
                                       Purpose::kKeyGeneration, session.handle(), &mechanism,
                                       key_template.data(), key_template.size(), &handle))
                 .result());
  // Trust, but verify: a token that ignored CKA_SENSITIVE/CKA_EXTRACTABLE loses the key again.
  auto sensitive = session.bool_attribute(handle, CKA_SENSITIVE);
  auto extractable = session.bool_attribute(handle, CKA_EXTRACTABLE);
  if (!sensitive || !extractable || !sensitive->value_or(false) || extractable->value_or(true)) {
    (void)session.destroy_object(handle);
    return Error(ErrorCode::kPolicyViolation,
                 "token '" + session.token_label() +
                     "' made a key-encryption key that is not sensitive or is extractable");
  }
  return handle;
}

}  // namespace

base::Result<CK_MECHANISM_TYPE> wrap_mechanism(const Pkcs11Module& module, const TokenInfo& token) {
  for (CK_MECHANISM_TYPE mechanism : {kCkmAesKeyWrapKwp, CK_MECHANISM_TYPE{CKM_AES_KEY_WRAP_PAD}}) {
    auto info = mechanism_info(module, token, mechanism);
    if (!info && info.error().code() != ErrorCode::kNotSupported) return info.error();
    if (info && serves(*info, CKF_WRAP | CKF_UNWRAP)) return mechanism;
  }
  return Error(ErrorCode::kNotSupported,
               token.describe() +
                   " offers neither CKM_AES_KEY_WRAP_KWP nor CKM_AES_KEY_WRAP_PAD (RFC 5649) for "
                   "wrapping and unwrapping with AES-256, which protecting a software key needs");
}

base::Result<void> check_kek_generation(const Pkcs11Module& module, const TokenInfo& token) {
  auto info = mechanism_info(module, token, CKM_AES_KEY_GEN);
  if (!info && info.error().code() != ErrorCode::kNotSupported) return info.error();
  if (!info || !serves(*info, CKF_GENERATE)) {
    return Error(ErrorCode::kNotSupported,
                 token.describe() +
                     " cannot generate AES-256 keys (CKM_AES_KEY_GEN), so it "
                     "cannot hold a key-encryption key");
  }
  return base::ok();
}

base::Result<std::optional<Kek>> find_kek(Session& session) {
  SIGNET_ASSIGN_OR_RETURN(
      auto handles,
      session.find_objects({attr(CKA_CLASS, &kSecretKeyClass, sizeof(kSecretKeyClass)),
                            attr(CKA_LABEL, kKekLabel)}));
  std::optional<Kek> lowest;
  for (CK_OBJECT_HANDLE handle : handles) {
    SIGNET_ASSIGN_OR_RETURN(auto id, session.attribute(handle, CKA_ID));
    if (!id || id->empty()) continue;  // not one of ours: we always set a CKA_ID
    if (!lowest || std::ranges::lexicographical_compare(*id, lowest->id)) {
      lowest = Kek{handle, std::move(*id)};
    }
  }
  return lowest;
}

base::Result<Kek> find_or_create_kek(Session& session, base::Rng& rng) {
  SIGNET_ASSIGN_OR_RETURN(auto existing, find_kek(session));
  if (existing) return std::move(*existing);
  SIGNET_ASSIGN_OR_RETURN(base::Bytes id, unique_key_id(session, rng));
  auto made = generate_kek(session, id);
  if (!made) {
    return std::move(made).error().with_context("creating the key-encryption key '" +
                                                std::string(kKekLabel) + "' on token '" +
                                                session.token_label() + "'");
  }
  SIGNET_ASSIGN_OR_RETURN(auto chosen, find_kek(session));
  if (!chosen) {
    return Error(ErrorCode::kInternal, "the key-encryption key just made on token '" +
                                           session.token_label() + "' cannot be found");
  }
  return std::move(*chosen);
}

base::Result<CK_OBJECT_HANDLE> kek_by_id(Session& session, base::ByteView id) {
  SIGNET_ASSIGN_OR_RETURN(
      auto handles,
      session.find_objects(
          {attr(CKA_CLASS, &kSecretKeyClass, sizeof(kSecretKeyClass)), attr(CKA_ID, id)}));
  if (handles.empty()) {
    return Error(ErrorCode::kNotFound, "token '" + session.token_label() +
                                           "' has no key-encryption key with CKA_ID " +
                                           base::to_hex(id) + " (was it deleted?)");
  }
  if (handles.size() > 1) {
    return Error(ErrorCode::kInvalidArgument, std::to_string(handles.size()) +
                                                  " secret keys on token '" +
                                                  session.token_label() + "' share CKA_ID " +
                                                  base::to_hex(id) + "; the KEK is ambiguous");
  }
  return handles.front();
}

base::Result<base::Bytes> wrap_secret(Session& session, CK_MECHANISM_TYPE mechanism,
                                      CK_OBJECT_HANDLE kek, base::ByteView secret) {
  if (secret.empty()) return Error(ErrorCode::kInvalidArgument, "there is no secret to wrap");
  if (secret.size() > 0xffffffffu - kLengthPrefix) {
    return Error(ErrorCode::kInvalidArgument, "the secret is too large to wrap");
  }
  base::SecureBuffer payload(kLengthPrefix + secret.size());
  auto framed = payload.mutable_view();
  const auto size = static_cast<std::uint32_t>(secret.size());
  framed[0] = static_cast<std::uint8_t>(size >> 24);
  framed[1] = static_cast<std::uint8_t>(size >> 16);
  framed[2] = static_cast<std::uint8_t>(size >> 8);
  framed[3] = static_cast<std::uint8_t>(size);
  std::copy(secret.begin(), secret.end(), framed.begin() + kLengthPrefix);

  // The secret enters the token only as a session object that lives for this function.
  std::vector<CK_ATTRIBUTE> object_template = {
      attr(CKA_CLASS, &kSecretKeyClass, sizeof(kSecretKeyClass)),
      attr(CKA_KEY_TYPE, &kGenericSecretType, sizeof(kGenericSecretType)),
      attr(CKA_TOKEN, kFalse),
      attr(CKA_PRIVATE, kTrue),
      attr(CKA_SENSITIVE, kFalse),
      attr(CKA_EXTRACTABLE, kTrue),
      attr(CKA_VALUE, payload.view()),
  };
  CK_OBJECT_HANDLE handle = CK_INVALID_HANDLE;
  SIGNET_TRY(session
                 .note(SIGNET_P11_CALL(session.functions(), C_CreateObject, session.token_label(),
                                       Purpose::kGeneral, session.handle(), object_template.data(),
                                       object_template.size(), &handle))
                 .result());
  SessionObject imported(session, handle);

  CK_MECHANISM wrap{mechanism, nullptr, 0};
  CK_ULONG length = 0;
  SIGNET_TRY(session
                 .note(SIGNET_P11_CALL(session.functions(), C_WrapKey, session.token_label(),
                                       Purpose::kGeneral, session.handle(), &wrap, kek,
                                       imported.handle(), nullptr, &length))
                 .result());
  base::Bytes wrapped(length);
  SIGNET_TRY(session
                 .note(SIGNET_P11_CALL(session.functions(), C_WrapKey, session.token_label(),
                                       Purpose::kGeneral, session.handle(), &wrap, kek,
                                       imported.handle(), wrapped.data(), &length))
                 .result());
  wrapped.resize(length);
  // RFC 5649 §4.1: the output is the input padded to a multiple of 8, plus one 8-byte block.
  const std::size_t expected =
      (payload.size() + kSemiblock - 1) / kSemiblock * kSemiblock + kSemiblock;
  if (wrapped.size() != expected) {
    return Error(ErrorCode::kTokenError, "token '" + session.token_label() + "' returned " +
                                             std::to_string(wrapped.size()) +
                                             " bytes for an RFC 5649 wrap of " +
                                             std::to_string(payload.size()) + " bytes; expected " +
                                             std::to_string(expected));
  }
  return wrapped;
}

base::Result<base::SecureBuffer> unwrap_secret(Session& session, CK_MECHANISM_TYPE mechanism,
                                               CK_OBJECT_HANDLE kek, base::ByteView wrapped) {
  std::vector<CK_ATTRIBUTE> object_template = {
      attr(CKA_CLASS, &kSecretKeyClass, sizeof(kSecretKeyClass)),
      attr(CKA_KEY_TYPE, &kGenericSecretType, sizeof(kGenericSecretType)),
      attr(CKA_TOKEN, kFalse),
      attr(CKA_PRIVATE, kTrue),
      attr(CKA_SENSITIVE, kFalse),
      attr(CKA_EXTRACTABLE, kTrue),
  };
  CK_MECHANISM unwrap{mechanism, nullptr, 0};
  CK_OBJECT_HANDLE handle = CK_INVALID_HANDLE;
  // C_UnwrapKey takes a non-const pointer; it does not write through it.
  auto* wrapped_bytes = const_cast<CK_BYTE*>(wrapped.data());
  SIGNET_TRY(session
                 .note(SIGNET_P11_CALL(session.functions(), C_UnwrapKey, session.token_label(),
                                       Purpose::kUnwrap, session.handle(), &unwrap, kek,
                                       wrapped_bytes, wrapped.size(), object_template.data(),
                                       object_template.size(), &handle))
                 .result());
  SessionObject unwrapped(session, handle);

  // Read CKA_VALUE straight into locked memory (Session::attribute would copy it to the heap).
  CK_ATTRIBUTE query{CKA_VALUE, nullptr, 0};
  SIGNET_TRY(
      session
          .note(SIGNET_P11_CALL(session.functions(), C_GetAttributeValue, session.token_label(),
                                Purpose::kGeneral, session.handle(), unwrapped.handle(), &query, 1))
          .result());
  if (query.ulValueLen == CK_UNAVAILABLE_INFORMATION) {
    return Error(ErrorCode::kTokenError,
                 "token '" + session.token_label() + "' did not reveal the unwrapped secret");
  }
  base::SecureBuffer payload(query.ulValueLen);
  query.pValue = payload.mutable_view().data();
  SIGNET_TRY(
      session
          .note(SIGNET_P11_CALL(session.functions(), C_GetAttributeValue, session.token_label(),
                                Purpose::kGeneral, session.handle(), unwrapped.handle(), &query, 1))
          .result());
  payload.truncate(query.ulValueLen);

  // The length prefix, then the secret, then at most RFC 5649's zero padding (see the header).
  const base::ByteView framed = payload.view();
  auto malformed = [&] {
    return Error(ErrorCode::kVerificationFailed,
                 "the secret unwrapped on token '" + session.token_label() +
                     "' is not a length-prefixed secret (it was not wrapped by Signet)");
  };
  if (framed.size() < kLengthPrefix) return malformed();
  const std::size_t size = (std::size_t{framed[0]} << 24) | (std::size_t{framed[1]} << 16) |
                           (std::size_t{framed[2]} << 8) | std::size_t{framed[3]};
  if (size == 0 || size > framed.size() - kLengthPrefix) return malformed();
  const auto padding = framed.subspan(kLengthPrefix + size);
  if (padding.size() >= kSemiblock ||
      !std::all_of(padding.begin(), padding.end(), [](std::uint8_t b) { return b == 0; })) {
    return malformed();
  }
  return base::SecureBuffer::copy_of(framed.subspan(kLengthPrefix, size));
}

}  // namespace signet::hsm::internal
