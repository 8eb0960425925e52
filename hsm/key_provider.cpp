#include "hsm/key_provider.h"

#include <algorithm>

#include "hsm/internal/key_generation.h"
#include "hsm/internal/public_key.h"
#include "hsm/internal/secret_wrap.h"
#include "hsm/internal/token.h"
#include "hsm/pkcs11_uri.h"

namespace signet::hsm {
namespace {

using base::Error;
using base::ErrorCode;
using internal::Session;

std::string key_type_name(CK_ULONG type) {
  switch (type) {
    case CKK_RSA:
      return "RSA";
    case CKK_EC:
      return "EC";
    case CKK_EC_EDWARDS:
      return "EC_EDWARDS";
    case CKK_DSA:
      return "DSA";
    default:
      return "CKK " + std::to_string(type);
  }
}

std::string text_of(const std::optional<base::Bytes>& value) {
  return value ? std::string(base::as_chars(*value)) : std::string();
}

// The private keys with a given CKA_ID.
base::Result<std::vector<CK_OBJECT_HANDLE>> private_keys_with_id(Session& session,
                                                                 base::ByteView id) {
  return session.find_objects(
      {internal::attr(CKA_CLASS, internal::kPrivateKeyClass), internal::attr(CKA_ID, id)});
}

// The private and public keys with a given CKA_ID (a key slot's contents).
base::Result<std::vector<CK_OBJECT_HANDLE>> objects_with_id(Session& session, base::ByteView id) {
  SIGNET_ASSIGN_OR_RETURN(auto keys, private_keys_with_id(session, id));
  SIGNET_ASSIGN_OR_RETURN(
      auto publics, session.find_objects({internal::attr(CKA_CLASS, internal::kPublicKeyClass),
                                          internal::attr(CKA_ID, id)}));
  keys.insert(keys.end(), publics.begin(), publics.end());
  return keys;
}

base::Result<CK_OBJECT_HANDLE> one_private_key(Session& session, const base::KeyRef& ref,
                                               const TokenInfo& token) {
  SIGNET_ASSIGN_OR_RETURN(auto found, private_keys_with_id(session, ref.id));
  if (found.empty()) {
    return Error(ErrorCode::kNotFound, "there is no private key with CKA_ID " +
                                           base::to_hex(ref.id) + " on " + token.describe());
  }
  if (found.size() > 1) {
    return Error(ErrorCode::kInvalidArgument,
                 std::to_string(found.size()) + " private keys on " + token.describe() +
                     " share CKA_ID " + base::to_hex(ref.id) + "; the reference is ambiguous");
  }
  return found.front();
}

// A signer for a private key object found in `session`.
base::Result<std::shared_ptr<base::Signer>> make_signer(std::shared_ptr<internal::Token> token,
                                                        Session& session,
                                                        CK_OBJECT_HANDLE private_key) {
  SIGNET_ASSIGN_OR_RETURN(auto id, session.attribute(private_key, CKA_ID));
  if (!id || id->empty()) {
    return Error(ErrorCode::kNotSupported, "a private key on " + token->info().describe() +
                                               " has no CKA_ID, so it cannot be referenced; "
                                               "give it one (pkcs11-tool --set-id)");
  }
  SIGNET_ASSIGN_OR_RETURN(auto label, session.attribute(private_key, CKA_LABEL));
  SIGNET_ASSIGN_OR_RETURN(auto algorithm, internal::key_algorithm(session, private_key));
  SIGNET_ASSIGN_OR_RETURN(auto spki,
                          internal::private_key_spki(session, private_key, *id, algorithm));
  base::KeyRef ref;
  ref.token_serial = token->serial();
  ref.token_label = token->label();
  ref.id = std::move(*id);
  ref.object_label = text_of(label);
  SIGNET_ASSIGN_OR_RETURN(auto signer,
                          Pkcs11Signer::create(std::move(token), std::move(ref), algorithm,
                                               std::move(spki), private_key));
  return std::shared_ptr<base::Signer>(std::move(signer));
}

}  // namespace

Pkcs11KeyProvider::Pkcs11KeyProvider(std::vector<std::shared_ptr<Pkcs11Module>> modules,
                                     std::string default_token, PinSource pins, Options options)
    : modules_(std::move(modules)),
      default_token_(std::move(default_token)),
      pins_(std::move(pins)),
      options_(std::move(options)) {}

Pkcs11KeyProvider::~Pkcs11KeyProvider() = default;

base::Result<std::shared_ptr<Pkcs11KeyProvider>> Pkcs11KeyProvider::create(
    std::vector<std::shared_ptr<Pkcs11Module>> modules, std::string default_token, PinSource pins,
    Options options) {
  if (modules.empty()) {
    return Error(ErrorCode::kInvalidArgument, "a PKCS#11 key provider needs at least one module");
  }
  if (!pins) return Error(ErrorCode::kInvalidArgument, "a PKCS#11 key provider needs a PIN source");
  if (!options.rng) options.rng = std::make_shared<base::SystemRng>();
  std::shared_ptr<Pkcs11KeyProvider> provider(new Pkcs11KeyProvider(
      std::move(modules), std::move(default_token), std::move(pins), std::move(options)));
  SIGNET_ASSIGN_OR_RETURN(auto all, provider->tokens());
  auto chosen = select_token(all, provider->default_token_);
  if (!chosen) return std::move(chosen).error().with_context("choosing the default token");
  return provider;
}

base::Result<std::vector<TokenInfo>> Pkcs11KeyProvider::tokens() const {
  std::vector<TokenInfo> all;
  for (const auto& module : modules_) {
    SIGNET_ASSIGN_OR_RETURN(auto some, module->tokens());
    all.insert(all.end(), some.begin(), some.end());
  }
  return all;
}

base::Result<void> Pkcs11KeyProvider::log_in(std::string_view label_or_serial,
                                             const base::SecureBuffer& pin) {
  SIGNET_ASSIGN_OR_RETURN(auto found, token(label_or_serial));
  return found->log_in_with(pin);
}

bool Pkcs11KeyProvider::logged_in(const TokenInfo& info) {
  if (!info.login_required) return true;
  std::lock_guard lock(mutex_);
  const auto it = tokens_.find(info.module_path + '\0' + info.serial);
  return it != tokens_.end() && it->second && it->second->logged_in();
}

std::shared_ptr<internal::Token> Pkcs11KeyProvider::token_for(const TokenInfo& info) {
  const std::string key = info.module_path + '\0' + info.serial;
  std::lock_guard lock(mutex_);
  auto& slot = tokens_[key];
  if (!slot) {
    std::shared_ptr<Pkcs11Module> module;
    for (const auto& candidate : modules_) {
      if (candidate->path() == info.module_path) module = candidate;
    }
    slot = std::make_shared<internal::Token>(
        std::move(module), info, pins_, options_.max_sessions_per_token, options_.token_events);
  }
  return slot;
}

base::Result<std::shared_ptr<internal::Token>> Pkcs11KeyProvider::token(
    std::string_view label_or_serial) {
  SIGNET_ASSIGN_OR_RETURN(auto all, tokens());
  SIGNET_ASSIGN_OR_RETURN(
      TokenInfo info, select_token(all, label_or_serial.empty() ? std::string_view(default_token_)
                                                                : label_or_serial));
  return token_for(info);
}

base::Result<std::shared_ptr<internal::Token>> Pkcs11KeyProvider::token_for_ref(
    const base::KeyRef& ref) {
  if (ref.id.empty()) {
    return Error(ErrorCode::kInvalidArgument, "the key reference " + ref.to_uri() + " has no id");
  }
  // The serial is what we persist; the label is a fallback for hand-written references.
  return token(!ref.token_serial.empty() ? ref.token_serial : ref.token_label);
}

base::Result<std::shared_ptr<base::Signer>> Pkcs11KeyProvider::generate_key(
    const base::KeyGenerationRequest& request) {
  return generate_key_with_id(request, {});
}

base::Result<std::shared_ptr<base::Signer>> Pkcs11KeyProvider::generate_key_with_id(
    const base::KeyGenerationRequest& request, base::ByteView fixed_id, bool replace) {
  const std::string what = "generating a " + std::string(base::to_string(request.algorithm)) +
                           " key '" + request.label + "'";
  auto made = [&]() -> base::Result<std::shared_ptr<base::Signer>> {
    SIGNET_ASSIGN_OR_RETURN(auto token, token(request.token));
    SIGNET_ASSIGN_OR_RETURN(TokenInfo info, token->current_info());
    SIGNET_TRY(internal::check_mechanisms(*token->module(), info, request.algorithm));
    SIGNET_TRY(internal::check_room(info));

    struct Generated {
      internal::GeneratedPair pair;
      base::Bytes id;
    };
    SIGNET_ASSIGN_OR_RETURN(
        Generated generated,
        token->run_administration([&](Session& session) -> base::Result<Generated> {
          base::Bytes id(fixed_id.begin(), fixed_id.end());
          std::vector<CK_OBJECT_HANDLE> previous;
          if (id.empty()) {
            SIGNET_ASSIGN_OR_RETURN(id, internal::unique_key_id(session, *options_.rng));
          } else {
            SIGNET_ASSIGN_OR_RETURN(auto taken, private_keys_with_id(session, id));
            if (!taken.empty() && !replace) {
              return Error(ErrorCode::kAlreadyExists,
                           token->info().describe() + " already holds a private key with CKA_ID " +
                               base::to_hex(id));
            }
            SIGNET_ASSIGN_OR_RETURN(previous, objects_with_id(session, id));
          }
          SIGNET_ASSIGN_OR_RETURN(
              auto pair, internal::generate_pair(session, request.algorithm, id, request.label));
          // A PIV card's generation replaced the slot's key already; a token that keeps both
          // (a software stand-in) loses the previous one here, as the card would.
          SIGNET_ASSIGN_OR_RETURN(auto now, objects_with_id(session, id));
          for (CK_OBJECT_HANDLE handle : now) {
            const bool is_new = handle == pair.private_key || handle == pair.public_key;
            const bool was_there = std::ranges::find(previous, handle) != previous.end();
            if (!is_new && was_there) SIGNET_TRY(session.destroy_object(handle));
          }
          return Generated{pair, std::move(id)};
        }));

    // Found again by its CKA_ID: an administration login (SO) has ended since, and a token
    // may invalidate the handles of private objects at logout (SoftHSM does).
    base::KeyRef made_ref;
    made_ref.id = generated.id;
    auto signer = token->run([&](Session& session) -> base::Result<std::shared_ptr<base::Signer>> {
      SIGNET_ASSIGN_OR_RETURN(CK_OBJECT_HANDLE key,
                              one_private_key(session, made_ref, token->info()));
      // Trust, but verify: a token that ignored CKA_SENSITIVE/CKA_EXTRACTABLE gets its key back.
      SIGNET_ASSIGN_OR_RETURN(auto sensitive, session.bool_attribute(key, CKA_SENSITIVE));
      SIGNET_ASSIGN_OR_RETURN(auto extractable, session.bool_attribute(key, CKA_EXTRACTABLE));
      if (!sensitive.value_or(false) || extractable.value_or(true)) {
        return Error(ErrorCode::kPolicyViolation,
                     token->info().describe() +
                         " made a private key that is not sensitive or is extractable");
      }
      return make_signer(token, session, key);
    });
    if (!signer) {
      // Leave nothing half-made behind.
      (void)token->run_administration([&](Session& session) -> base::Result<void> {
        SIGNET_ASSIGN_OR_RETURN(auto made_objects, objects_with_id(session, generated.id));
        for (CK_OBJECT_HANDLE handle : made_objects) (void)session.destroy_object(handle);
        return base::ok();
      });
    }
    return signer;
  }();
  if (!made) return std::move(made).error().with_context(what);
  return made;
}

base::Result<std::shared_ptr<base::Signer>> Pkcs11KeyProvider::find_key(const base::KeyRef& ref) {
  auto found = [&]() -> base::Result<std::shared_ptr<base::Signer>> {
    SIGNET_ASSIGN_OR_RETURN(auto token, token_for_ref(ref));
    return token->run([&](Session& session) -> base::Result<std::shared_ptr<base::Signer>> {
      SIGNET_ASSIGN_OR_RETURN(CK_OBJECT_HANDLE key, one_private_key(session, ref, token->info()));
      return make_signer(token, session, key);
    });
  }();
  if (!found) return std::move(found).error().with_context("finding key " + ref.to_uri());
  return found;
}

base::Result<std::shared_ptr<base::Signer>> Pkcs11KeyProvider::find_key_by_uri(
    std::string_view text) {
  SIGNET_ASSIGN_OR_RETURN(Pkcs11Uri uri, Pkcs11Uri::parse(text));
  const std::string quoted = "'" + std::string(text) + "'";  // parse refused any PIN in it
  if (uri.type && *uri.type != Pkcs11Uri::ObjectType::kPrivate) {
    return Error(ErrorCode::kInvalidArgument,
                 "the PKCS#11 URI " + quoted + " names no private key (type= must be private)");
  }
  if (!uri.object && !uri.id) {
    return Error(ErrorCode::kInvalidArgument,
                 "the PKCS#11 URI " + quoted + " names no key: give object= or id=");
  }
  std::vector<TokenInfo> candidates;
  bool module_seen = false;
  for (const auto& module : modules_) {
    if (uri.module_path && *uri.module_path != module->path()) continue;
    module_seen = true;
    SIGNET_ASSIGN_OR_RETURN(auto some, module->tokens());
    for (auto& info : some) {
      if (uri.matches(info)) candidates.push_back(std::move(info));
    }
  }
  if (!module_seen) {
    return Error(ErrorCode::kNotFound, "the PKCS#11 URI " + quoted + " names module '" +
                                           *uri.module_path + "', which is not configured");
  }
  if (candidates.empty()) {
    return Error(ErrorCode::kNotFound, "no PKCS#11 token matches the URI " + quoted);
  }

  struct Match {
    std::shared_ptr<internal::Token> token;
    CK_OBJECT_HANDLE handle;
  };
  std::vector<Match> matches;
  for (const auto& info : candidates) {
    auto token = token_for(info);
    SIGNET_ASSIGN_OR_RETURN(
        auto handles,
        token->run([&](Session& session) -> base::Result<std::vector<CK_OBJECT_HANDLE>> {
          std::vector<CK_ATTRIBUTE> match = {internal::attr(CKA_CLASS, internal::kPrivateKeyClass)};
          if (uri.object) match.push_back(internal::attr(CKA_LABEL, std::string_view(*uri.object)));
          if (uri.id) match.push_back(internal::attr(CKA_ID, base::ByteView(*uri.id)));
          return session.find_objects(std::move(match));
        }));
    for (CK_OBJECT_HANDLE handle : handles) matches.push_back({token, handle});
  }
  if (matches.empty()) {
    return Error(ErrorCode::kNotFound, "no private key matches the PKCS#11 URI " + quoted);
  }
  if (matches.size() > 1) {
    return Error(ErrorCode::kInvalidArgument,
                 "the PKCS#11 URI " + quoted + " is ambiguous: it matches " +
                     std::to_string(matches.size()) +
                     " private keys; add id= or serial= to name exactly one");
  }
  Match& only = matches.front();
  auto signer = only.token->run(
      [&](Session& session) { return make_signer(only.token, session, only.handle); });
  if (!signer) return std::move(signer).error().with_context("using key " + quoted);
  return signer;
}

base::Result<void> Pkcs11KeyProvider::destroy_key(const base::KeyRef& ref) {
  auto destroyed = [&]() -> base::Result<void> {
    SIGNET_ASSIGN_OR_RETURN(auto token, token_for_ref(ref));
    return token->run_administration([&](Session& session) -> base::Result<void> {
      SIGNET_ASSIGN_OR_RETURN(CK_OBJECT_HANDLE key, one_private_key(session, ref, token->info()));
      SIGNET_ASSIGN_OR_RETURN(
          auto publics, session.find_objects({internal::attr(CKA_CLASS, internal::kPublicKeyClass),
                                              internal::attr(CKA_ID, base::ByteView(ref.id))}));
      SIGNET_TRY(session.destroy_object(key));
      for (CK_OBJECT_HANDLE handle : publics) SIGNET_TRY(session.destroy_object(handle));
      return base::ok();
    });
  }();
  if (!destroyed)
    return std::move(destroyed).error().with_context("destroying key " + ref.to_uri());
  return destroyed;
}

base::Result<void> Pkcs11KeyProvider::relabel_key(const base::KeyRef& ref, std::string_view label) {
  auto relabelled = [&]() -> base::Result<void> {
    SIGNET_ASSIGN_OR_RETURN(auto token, token_for_ref(ref));
    return token->run([&](Session& session) -> base::Result<void> {
      SIGNET_ASSIGN_OR_RETURN(CK_OBJECT_HANDLE key, one_private_key(session, ref, token->info()));
      SIGNET_ASSIGN_OR_RETURN(
          auto publics, session.find_objects({internal::attr(CKA_CLASS, internal::kPublicKeyClass),
                                              internal::attr(CKA_ID, base::ByteView(ref.id))}));
      SIGNET_TRY(session.set_label(key, label));
      for (CK_OBJECT_HANDLE handle : publics) SIGNET_TRY(session.set_label(handle, label));
      return base::ok();
    });
  }();
  if (!relabelled) {
    return std::move(relabelled).error().with_context("relabelling key " + ref.to_uri());
  }
  return relabelled;
}

base::Result<void> Pkcs11KeyProvider::check_room(std::string_view token_name) {
  SIGNET_ASSIGN_OR_RETURN(auto token, token(token_name));
  SIGNET_ASSIGN_OR_RETURN(TokenInfo info, token->current_info());
  return internal::check_room(info);
}

base::Result<base::WrappedSecret> Pkcs11KeyProvider::wrap_secret(std::string_view token_name,
                                                                 base::ByteView secret) {
  auto wrapped = [&]() -> base::Result<base::WrappedSecret> {
    SIGNET_ASSIGN_OR_RETURN(auto token, token(token_name));
    SIGNET_ASSIGN_OR_RETURN(TokenInfo info, token->current_info());
    SIGNET_ASSIGN_OR_RETURN(CK_MECHANISM_TYPE mechanism,
                            internal::wrap_mechanism(*token->module(), info));
    SIGNET_TRY(internal::check_kek_generation(*token->module(), info));
    return token->run([&](Session& session) -> base::Result<base::WrappedSecret> {
      internal::Kek kek;
      {
        std::lock_guard lock(kek_mutex_);
        SIGNET_ASSIGN_OR_RETURN(kek, internal::find_or_create_kek(session, *options_.rng));
      }
      SIGNET_ASSIGN_OR_RETURN(auto bytes,
                              internal::wrap_secret(session, mechanism, kek.handle, secret));
      base::WrappedSecret out;
      out.kek.token_serial = token->serial();
      out.kek.token_label = token->label();
      out.kek.id = std::move(kek.id);
      out.kek.object_label = std::string(internal::kKekLabel);
      out.wrapped = std::move(bytes);
      return out;
    });
  }();
  if (!wrapped) {
    return std::move(wrapped).error().with_context(
        "wrapping a secret under the key-encryption key of token '" +
        std::string(token_name.empty() ? default_token_ : token_name) + "'");
  }
  return wrapped;
}

base::Result<base::SecureBuffer> Pkcs11KeyProvider::unwrap_secret(
    const base::WrappedSecret& wrapped) {
  auto secret = [&]() -> base::Result<base::SecureBuffer> {
    SIGNET_ASSIGN_OR_RETURN(auto token, token_for_ref(wrapped.kek));
    SIGNET_ASSIGN_OR_RETURN(TokenInfo info, token->current_info());
    SIGNET_ASSIGN_OR_RETURN(CK_MECHANISM_TYPE mechanism,
                            internal::wrap_mechanism(*token->module(), info));
    return token->run([&](Session& session) -> base::Result<base::SecureBuffer> {
      SIGNET_ASSIGN_OR_RETURN(CK_OBJECT_HANDLE kek, internal::kek_by_id(session, wrapped.kek.id));
      return internal::unwrap_secret(session, mechanism, kek, wrapped.wrapped);
    });
  }();
  if (!secret) {
    return std::move(secret).error().with_context("unwrapping a secret with key-encryption key " +
                                                  wrapped.kek.to_uri());
  }
  return secret;
}

base::Result<std::vector<KeyInfo>> Pkcs11KeyProvider::list_keys(std::string_view token_name) {
  SIGNET_ASSIGN_OR_RETURN(auto token, token(token_name));
  return token->run([&](Session& session) -> base::Result<std::vector<KeyInfo>> {
    SIGNET_ASSIGN_OR_RETURN(
        auto handles,
        session.find_objects({internal::attr(CKA_CLASS, internal::kPrivateKeyClass)}));
    std::vector<KeyInfo> keys;
    for (CK_OBJECT_HANDLE handle : handles) {
      KeyInfo key;
      key.ref.token_serial = token->serial();
      key.ref.token_label = token->label();
      SIGNET_ASSIGN_OR_RETURN(auto id, session.attribute(handle, CKA_ID));
      SIGNET_ASSIGN_OR_RETURN(auto label, session.attribute(handle, CKA_LABEL));
      SIGNET_ASSIGN_OR_RETURN(auto type, session.ulong_attribute(handle, CKA_KEY_TYPE));
      key.ref.id = id.value_or(base::Bytes());
      key.ref.object_label = text_of(label);
      key.key_type = type ? key_type_name(*type) : "unknown";
      if (auto algorithm = internal::key_algorithm(session, handle)) key.algorithm = *algorithm;
      if (!key.ref.id.empty()) {
        SIGNET_ASSIGN_OR_RETURN(
            auto publics,
            session.find_objects({internal::attr(CKA_CLASS, internal::kPublicKeyClass),
                                  internal::attr(CKA_ID, base::ByteView(key.ref.id))}));
        key.has_public_key = !publics.empty();
      }
      keys.push_back(std::move(key));
    }
    return keys;
  });
}

base::Result<PrivateKeyAttributes> Pkcs11KeyProvider::read_private_key_attributes(
    const base::KeyRef& ref) {
  SIGNET_ASSIGN_OR_RETURN(auto token, token_for_ref(ref));
  return token->run([&](Session& session) -> base::Result<PrivateKeyAttributes> {
    SIGNET_ASSIGN_OR_RETURN(CK_OBJECT_HANDLE key, one_private_key(session, ref, token->info()));
    CK_BBOOL values[7] = {};
    const CK_ATTRIBUTE_TYPE types[7] = {
        CKA_SENSITIVE, CKA_ALWAYS_SENSITIVE, CKA_EXTRACTABLE, CKA_NEVER_EXTRACTABLE, CKA_LOCAL,
        CKA_TOKEN,     CKA_PRIVATE};
    std::vector<CK_ATTRIBUTE> query;
    for (int i = 0; i < 7; ++i) query.push_back({types[i], &values[i], sizeof(CK_BBOOL)});
    SIGNET_TRY(session
                   .note(SIGNET_P11_CALL(session.functions(), C_GetAttributeValue, token->label(),
                                         internal::Purpose::kGeneral, session.handle(), key,
                                         query.data(), query.size()))
                   .result());
    PrivateKeyAttributes out;
    out.sensitive = values[0] != CK_FALSE;
    out.always_sensitive = values[1] != CK_FALSE;
    out.extractable = values[2] != CK_FALSE;
    out.never_extractable = values[3] != CK_FALSE;
    out.local = values[4] != CK_FALSE;
    out.token_object = values[5] != CK_FALSE;
    out.is_private = values[6] != CK_FALSE;
    return out;
  });
}

}  // namespace signet::hsm
