#include "token/pcsc_context.h"

#include <utility>

#include "token/internal/pcsc_call.h"

namespace signet::token {

base::Result<PcscContext> PcscContext::establish() {
  SCARDCONTEXT handle = 0;
  const LONG rc = ::SCardEstablishContext(SCARD_SCOPE_SYSTEM, nullptr, nullptr, &handle);
  if (rc != SCARD_S_SUCCESS) return internal::pcsc_error(rc, "SCardEstablishContext");
  return PcscContext(handle);
}

PcscContext::PcscContext(PcscContext&& other) noexcept
    : handle_(std::exchange(other.handle_, 0)), valid_(std::exchange(other.valid_, false)) {}

PcscContext& PcscContext::operator=(PcscContext&& other) noexcept {
  if (this != &other) {
    release();
    handle_ = std::exchange(other.handle_, 0);
    valid_ = std::exchange(other.valid_, false);
  }
  return *this;
}

PcscContext::~PcscContext() { release(); }

void PcscContext::release() noexcept {
  // A context from before a pcscd restart answers SCARD_E_INVALID_HANDLE; nothing to do then.
  if (valid_) (void)::SCardReleaseContext(handle_);
  valid_ = false;
  handle_ = 0;
}

void PcscContext::cancel() const {
  if (valid_) (void)::SCardCancel(handle_);
}

}  // namespace signet::token
