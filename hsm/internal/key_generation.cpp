#include "hsm/internal/key_generation.h"

#include <algorithm>
#include <vector>

#include "hsm/internal/public_key.h"

namespace signet::hsm::internal {
namespace {

using base::Error;
using base::ErrorCode;
using base::KeyAlgorithm;

struct Mechanisms {
  CK_MECHANISM_TYPE generate;
  const char* generate_name;
  CK_MECHANISM_TYPE sign;
  const char* sign_name;
  unsigned long key_bits;
};

Mechanisms mechanisms_for(KeyAlgorithm algorithm) {
  if (base::is_rsa(algorithm)) {
    return {CKM_RSA_PKCS_KEY_PAIR_GEN, "CKM_RSA_PKCS_KEY_PAIR_GEN", CKM_RSA_PKCS, "CKM_RSA_PKCS",
            static_cast<unsigned long>(base::rsa_bits(algorithm))};
  }
  if (algorithm == KeyAlgorithm::kEd25519) {
    return {CKM_EC_EDWARDS_KEY_PAIR_GEN, "CKM_EC_EDWARDS_KEY_PAIR_GEN", CKM_EDDSA, "CKM_EDDSA",
            255};
  }
  return {CKM_EC_KEY_PAIR_GEN, "CKM_EC_KEY_PAIR_GEN", CKM_ECDSA, "CKM_ECDSA",
          algorithm == KeyAlgorithm::kEcP256 ? 256ul : 384ul};
}

base::Result<void> check_one(const Pkcs11Module& module, const TokenInfo& token,
                             const std::vector<CK_MECHANISM_TYPE>& offered,
                             CK_MECHANISM_TYPE mechanism, const char* name, CK_FLAGS needed,
                             KeyAlgorithm algorithm, unsigned long key_bits) {
  const std::string what = std::string(base::to_string(algorithm));
  if (std::ranges::find(offered, mechanism) == offered.end()) {
    return Error(ErrorCode::kNotSupported,
                 token.describe() + " does not offer " + name + ", which " + what + " keys need");
  }
  CK_MECHANISM_INFO info{};
  SIGNET_TRY(SIGNET_P11_CALL(module.functions(), C_GetMechanismInfo, token.label, Purpose::kGeneral,
                             token.slot_id, mechanism, &info)
                 .result());
  if ((info.flags & needed) != needed) {
    return Error(ErrorCode::kNotSupported, token.describe() + " offers " + name +
                                               " but not for the use " + what + " keys need");
  }
  // Sizes are in bits for RSA and EC; a token that leaves them 0 did not say.
  const bool reported = info.ulMaxKeySize != 0;
  // Ed25519 is reported as 255 or 256 (SoftHSM says 256..456): allow one bit of slack.
  if (reported && (key_bits + 1 < info.ulMinKeySize || key_bits > info.ulMaxKeySize)) {
    return Error(ErrorCode::kNotSupported,
                 token.describe() + " supports " + name + " only for keys of " +
                     std::to_string(info.ulMinKeySize) + " to " +
                     std::to_string(info.ulMaxKeySize) + " bits, not " + what);
  }
  return base::ok();
}

}  // namespace

base::Result<void> check_mechanisms(const Pkcs11Module& module, const TokenInfo& token,
                                    KeyAlgorithm algorithm) {
  CK_ULONG count = 0;
  SIGNET_TRY(SIGNET_P11_CALL(module.functions(), C_GetMechanismList, token.label, Purpose::kGeneral,
                             token.slot_id, nullptr, &count)
                 .result());
  std::vector<CK_MECHANISM_TYPE> offered(count);
  SIGNET_TRY(SIGNET_P11_CALL(module.functions(), C_GetMechanismList, token.label, Purpose::kGeneral,
                             token.slot_id, offered.data(), &count)
                 .result());
  offered.resize(count);
  const Mechanisms needed = mechanisms_for(algorithm);
  SIGNET_TRY(check_one(module, token, offered, needed.generate, needed.generate_name,
                       CKF_GENERATE_KEY_PAIR, algorithm, needed.key_bits));
  return check_one(module, token, offered, needed.sign, needed.sign_name, CKF_SIGN, algorithm,
                   needed.key_bits);
}

base::Result<void> check_room(const TokenInfo& token) {
  auto short_of = [](const std::optional<unsigned long>& free) {
    return free && *free < kMinimumFreeBytes;
  };
  std::string lacking;
  if (short_of(token.free_private_memory)) {
    lacking = std::to_string(*token.free_private_memory) + " bytes free for private objects";
  }
  if (short_of(token.free_public_memory)) {
    if (!lacking.empty()) lacking += " and ";
    lacking += std::to_string(*token.free_public_memory) + " bytes free for public objects";
  }
  if (!lacking.empty()) {
    return Error(ErrorCode::kResourceExhausted,
                 token.describe() + " has no room for another key pair: it reports only " +
                     lacking + ", and a key pair needs about " + std::to_string(kMinimumFreeBytes) +
                     " bytes of each");
  }
  return base::ok();
}

base::Result<base::Bytes> unique_key_id(Session& session, base::Rng& rng) {
  for (int attempt = 0; attempt < 4; ++attempt) {
    base::Bytes id(kKeyIdSize);
    SIGNET_TRY(rng.fill(id));
    SIGNET_ASSIGN_OR_RETURN(auto taken, session.find_objects({attr(CKA_ID, base::ByteView(id))}));
    if (taken.empty()) return id;
  }
  return Error(ErrorCode::kInternal, "could not find an unused CKA_ID on token '" +
                                         session.token_label() +
                                         "' (is the random source broken?)");
}

base::Result<GeneratedPair> generate_pair(Session& session, KeyAlgorithm algorithm,
                                          base::ByteView id, std::string_view label) {
  static constexpr CK_BYTE kExponent65537[] = {0x01, 0x00, 0x01};
  const CK_ULONG modulus_bits = static_cast<CK_ULONG>(base::rsa_bits(algorithm));
  std::vector<CK_ATTRIBUTE> public_template = {
      attr(CKA_TOKEN, kTrue),    attr(CKA_PRIVATE, kFalse), attr(CKA_VERIFY, kTrue),
      attr(CKA_ENCRYPT, kFalse), attr(CKA_WRAP, kFalse),    attr(CKA_ID, id),
      attr(CKA_LABEL, label),
  };
  std::vector<CK_ATTRIBUTE> private_template = {
      attr(CKA_TOKEN, kTrue),        attr(CKA_PRIVATE, kTrue), attr(CKA_SENSITIVE, kTrue),
      attr(CKA_EXTRACTABLE, kFalse), attr(CKA_SIGN, kTrue),    attr(CKA_DECRYPT, kFalse),
      attr(CKA_UNWRAP, kFalse),      attr(CKA_DERIVE, kFalse), attr(CKA_ID, id),
      attr(CKA_LABEL, label),
  };
  const Mechanisms mechanisms = mechanisms_for(algorithm);
  CK_MECHANISM mechanism{mechanisms.generate, nullptr, 0};

  // Ed25519's CKA_EC_PARAMS: the OID (SoftHSM 2.6) first, then PKCS#11 3.0's printable string.
  std::vector<base::ByteView> params_choices;
  if (base::is_rsa(algorithm)) {
    public_template.push_back(attr(CKA_MODULUS_BITS, modulus_bits));
    public_template.push_back(attr(CKA_PUBLIC_EXPONENT, kExponent65537, sizeof(kExponent65537)));
    params_choices.emplace_back();
  } else {
    params_choices.push_back(ec_params_for(algorithm));
    if (algorithm == KeyAlgorithm::kEd25519) params_choices.push_back(ed25519_printable_params());
    public_template.push_back(attr(CKA_EC_PARAMS, params_choices.front()));
  }

  for (std::size_t choice = 0;; ++choice) {
    if (!base::is_rsa(algorithm))
      public_template.back() = attr(CKA_EC_PARAMS, params_choices[choice]);
    GeneratedPair pair;
    auto generated = session.note(SIGNET_P11_CALL(
        session.functions(), C_GenerateKeyPair, session.token_label(), Purpose::kKeyGeneration,
        session.handle(), &mechanism, public_template.data(), public_template.size(),
        private_template.data(), private_template.size(), &pair.public_key, &pair.private_key));
    if (generated.ok()) return pair;
    const bool params_refused = generated.rv() == CKR_ATTRIBUTE_VALUE_INVALID ||
                                generated.rv() == CKR_DOMAIN_PARAMS_INVALID ||
                                generated.rv() == CKR_CURVE_NOT_SUPPORTED;
    if (!params_refused || choice + 1 >= params_choices.size()) {
      return generated.error().with_context("generating a " +
                                            std::string(base::to_string(algorithm)) +
                                            " key pair on token '" + session.token_label() + "'");
    }
    session.clear_failure();
  }
}

}  // namespace signet::hsm::internal
