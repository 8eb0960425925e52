// PcscContext: one PC/SC resource manager context (SCardEstablishContext), released by the
// destructor (SCardReleaseContext). Move-only.
//
// Thread-safety: PC/SC contexts belong to the thread that uses them; only cancel() may be
// called from another thread, to interrupt a blocking call on this one (SCardCancel).
#pragma once

#include <winscard.h>

#include "base/result.h"

namespace signet::token {

class PcscContext {
 public:
  // kUnavailable "pcscd is not running" when the daemon cannot be reached.
  static base::Result<PcscContext> establish();

  PcscContext(PcscContext&& other) noexcept;
  PcscContext& operator=(PcscContext&& other) noexcept;
  PcscContext(const PcscContext&) = delete;
  PcscContext& operator=(const PcscContext&) = delete;
  ~PcscContext();

  SCARDCONTEXT handle() const { return handle_; }
  // Interrupts a blocking SCardGetStatusChange on this context (it answers SCARD_E_CANCELLED).
  void cancel() const;

 private:
  explicit PcscContext(SCARDCONTEXT handle) : handle_(handle), valid_(true) {}
  void release() noexcept;

  SCARDCONTEXT handle_ = 0;
  bool valid_ = false;
};

}  // namespace signet::token
