// Result<T> and Error: the one error channel across every module boundary.
//
// Result<T> is shaped like std::expected<T, Error> (we stay on C++20, see STYLE.md): it holds
// either a value or an Error. Error carries a closed code, one human sentence, and a stack of
// context strings added as it travels up ("while issuing for CA 'root'"). No exception crosses
// a module boundary; foreign error codes are translated once, at their choke point.
// Value types; not thread-safe to mutate concurrently, safe to copy between threads.
#pragma once

#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <variant>
#include <vector>

namespace signet::base {

enum class ErrorCode {
  kInvalidArgument,     // the caller's input is wrong (malformed CSR, bad DN, unknown algorithm)
  kNotFound,            // a named thing does not exist (CA, certificate, token, key, module)
  kAlreadyExists,       // a unique name or key is taken (CA name, serial number)
  kPermissionDenied,    // file modes, unwritable directory, refused PIN file
  kPolicyViolation,     // a request breaks a rule (key too small, forbidden curve)
  kVerificationFailed,  // a signature or chain does not verify
  kPinIncorrect,        // the token refused the PIN
  kPinLocked,           // the token's PIN is locked
  kNotSupported,        // the token or build cannot do this (e.g. Ed25519 on an old HSM)
  kTokenError,          // any other PKCS#11 failure
  kCryptoError,         // an OpenSSL failure
  kStorageFull,         // the disk or the map is full; nothing was half-written
  kStorageError,        // any other store failure
  kIoError,             // file system failures outside the store
  kConflict,            // the state changed underneath (concurrent update)
  kUnavailable,         // a resource is busy or locked by another process
  kResourceExhausted,   // a token has no room left for another object
  kInternal,            // a bug: an invariant did not hold
};

std::string_view to_string(ErrorCode code);

class Error {
 public:
  Error(ErrorCode code, std::string message) : code_(code), message_(std::move(message)) {}

  ErrorCode code() const { return code_; }
  // The one sentence a user sees, naming what was wrong.
  const std::string& message() const { return message_; }
  // What callers were doing when it happened, innermost first (in the order added).
  const std::vector<std::string>& context() const { return context_; }

  // Adds what the caller was doing; returns *this so that it chains in a return statement.
  Error& with_context(std::string what) & {
    context_.push_back(std::move(what));
    return *this;
  }
  Error&& with_context(std::string what) && {
    context_.push_back(std::move(what));
    return std::move(*this);
  }

  // "context: context: message", for logs and the CLI's stderr.
  std::string describe() const;

 private:
  ErrorCode code_;
  std::string message_;
  std::vector<std::string> context_;
};

template <typename T>
class [[nodiscard]] Result {
 public:
  using value_type = T;
  Result(T value) : state_(std::in_place_index<0>, std::move(value)) {}      // NOLINT: implicit
  Result(Error error) : state_(std::in_place_index<1>, std::move(error)) {}  // NOLINT: implicit
  template <typename U>
  requires(std::is_constructible_v<T, U&&> && !std::is_same_v<std::decay_t<U>, T> &&
           !std::is_same_v<std::decay_t<U>, Error> && !std::is_same_v<std::decay_t<U>, Result>)
      Result(U&& value)
      : state_(std::in_place_index<0>, std::forward<U>(value)) {}  // NOLINT

  bool has_value() const { return state_.index() == 0; }
  explicit operator bool() const { return has_value(); }

  T& value() & { return std::get<0>(state_); }
  const T& value() const& { return std::get<0>(state_); }
  T&& value() && { return std::get<0>(std::move(state_)); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T&& operator*() && { return std::move(*this).value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

  const Error& error() const& { return std::get<1>(state_); }
  Error&& error() && { return std::get<1>(std::move(state_)); }

  T value_or(T fallback) const& { return has_value() ? value() : std::move(fallback); }

 private:
  std::variant<T, Error> state_;
};

template <>
class [[nodiscard]] Result<void> {
 public:
  Result() = default;
  Result(Error error) : error_(std::move(error)), failed_(true) {}  // NOLINT: implicit

  bool has_value() const { return !failed_; }
  explicit operator bool() const { return has_value(); }
  void value() const {}
  const Error& error() const& { return error_; }
  Error&& error() && { return std::move(error_); }

 private:
  Error error_{ErrorCode::kInternal, ""};
  bool failed_ = false;
};

inline Result<void> ok() { return {}; }

}  // namespace signet::base

#define SIGNET_CONCAT_INNER(a, b) a##b
#define SIGNET_CONCAT(a, b) SIGNET_CONCAT_INNER(a, b)

// SIGNET_TRY(expr): evaluates a Result; returns its Error from the enclosing function on failure.
#define SIGNET_TRY(expr)                            \
  do {                                              \
    auto signet_try_result_ = (expr);               \
    if (!signet_try_result_) {                      \
      return std::move(signet_try_result_).error(); \
    }                                               \
  } while (false)

// SIGNET_ASSIGN_OR_RETURN(decl, expr): `decl = *expr` or return expr's Error.
#define SIGNET_ASSIGN_OR_RETURN(decl, expr) \
  SIGNET_ASSIGN_OR_RETURN_IMPL(SIGNET_CONCAT(signet_result_, __LINE__), decl, expr)
#define SIGNET_ASSIGN_OR_RETURN_IMPL(tmp, decl, expr) \
  auto tmp = (expr);                                  \
  if (!tmp) {                                         \
    return std::move(tmp).error();                    \
  }                                                   \
  decl = std::move(tmp).value()
