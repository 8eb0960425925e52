// The real system checks behind Probes: loading a PKCS#11 module, the mode of a file that
// holds a secret, and a trust anchor's PEM.
#include <dlfcn.h>
#include <sys/stat.h>

#include <cstdio>
#include <fstream>
#include <memory>
#include <sstream>

#include "firmware-config/loader.h"

namespace signet::firmware_config {
namespace {

using base::Error;
using base::ErrorCode;
using base::Result;

struct DlCloser {
  void operator()(void* handle) const noexcept { ::dlclose(handle); }
};

Result<void> probe_module(const std::string& path) {
  ::dlerror();
  // RTLD_NODELETE: the module stays mapped after dlclose, so memory its static constructors
  // allocated stays reachable (LeakSanitizer would report it once the mapping is gone), and
  // signetd, which loads the same module next, does not pay for a second load.
  std::unique_ptr<void, DlCloser> handle(
      ::dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL | RTLD_NODELETE));
  if (!handle) {
    const char* why = ::dlerror();
    return Error(ErrorCode::kNotFound, "the PKCS#11 module '" + path + "' does not load: " +
                                           (why != nullptr ? why : "unknown reason"));
  }
  if (::dlsym(handle.get(), "C_GetFunctionList") == nullptr) {
    return Error(ErrorCode::kNotSupported,
                 "'" + path + "' loads but is no PKCS#11 module (no C_GetFunctionList)");
  }
  return base::ok();
}

Result<void> probe_secret_file(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) {
    return Error(ErrorCode::kNotFound, "the file '" + path + "' does not exist or cannot be read");
  }
  if (!S_ISREG(st.st_mode)) {
    return Error(ErrorCode::kInvalidArgument, "'" + path + "' is not a regular file");
  }
  if ((st.st_mode & (S_IRWXG | S_IRWXO)) != 0) {
    char mode[8];
    std::snprintf(mode, sizeof mode, "%04o", static_cast<unsigned>(st.st_mode & 07777));
    return Error(ErrorCode::kPermissionDenied, "the file '" + path + "' has mode " + mode +
                                                   ": group and others must have no access "
                                                   "(chmod 600)");
  }
  return base::ok();
}

Result<std::string> read_public_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Error(ErrorCode::kNotFound, "the file '" + path + "' cannot be read");
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

// A trust anchor is public: only that it can be read and holds a PEM public key or
// certificate is checked here (`signet config import` parses it).
Result<void> probe_trust_anchor(const std::string& path) {
  SIGNET_ASSIGN_OR_RETURN(auto pem, read_public_file(path));
  if (pem.find("-----BEGIN PUBLIC KEY-----") == std::string::npos &&
      pem.find("-----BEGIN CERTIFICATE-----") == std::string::npos) {
    return Error(ErrorCode::kInvalidArgument,
                 "'" + path + "' holds no PEM public key or certificate");
  }
  return base::ok();
}

// A certificate to bind is public too; the appliance's probe parses it.
Result<void> probe_certificate(const std::string& path) {
  SIGNET_ASSIGN_OR_RETURN(auto pem, read_public_file(path));
  if (pem.find("-----BEGIN CERTIFICATE-----") == std::string::npos) {
    return Error(ErrorCode::kInvalidArgument, "'" + path + "' holds no PEM certificate");
  }
  return base::ok();
}

}  // namespace

Probes real_probes() {
  Probes probes;
  probes.module = probe_module;
  probes.pin_file = probe_secret_file;
  probes.trust_anchor = probe_trust_anchor;
  probes.certificate = probe_certificate;
  return probes;
}

}  // namespace signet::firmware_config
