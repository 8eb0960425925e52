// Helpers shared by the OpenSSL-backed parts of pki/ (Certificate, Csr): owning pointers for
// OpenSSL stacks, and conversions from OpenSSL's types to ours. Plain functions, thread-safe.
#pragma once

#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <memory>
#include <string>
#include <vector>

#include "base/bytes.h"
#include "base/clock.h"
#include "base/result.h"
#include "pki/general_name.h"

namespace signet::pki::internal {

struct ExtensionStackDeleter {
  void operator()(STACK_OF(X509_EXTENSION) * stack) const noexcept {
    sk_X509_EXTENSION_pop_free(stack, X509_EXTENSION_free);
  }
};
using ExtensionStackPtr = std::unique_ptr<STACK_OF(X509_EXTENSION), ExtensionStackDeleter>;

// The DER of an X509_NAME as it was parsed (OpenSSL keeps the original encoding).
base::Result<base::Bytes> name_der(const X509_NAME* name);

// RFC 2253 text, exactly as `openssl x509 -nameopt RFC2253` prints it.
base::Result<std::string> format_name(const X509_NAME* name);

// The first commonName as UTF-8, "" when there is none.
base::Result<std::string> first_common_name(const X509_NAME* name);

// The DNS, IP, email and URI entries of `names`. With `strict`, any other type (otherName,
// directoryName...) or a syntactically invalid entry is an error naming it; without, other
// types are skipped and entries are taken as they are.
base::Result<std::vector<GeneralName>> to_general_names(const GENERAL_NAMES* names, bool strict);

// UTCTime or GeneralizedTime to a time point.
base::Result<base::TimePoint> to_time_point(const ASN1_TIME* time);

}  // namespace signet::pki::internal
