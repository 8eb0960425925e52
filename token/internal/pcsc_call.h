// The one place where PC/SC return codes (LONG, SCARD_*) become base::Error: every SCard* call
// in token/ reports its failure through pcsc_error(), which names the daemon, the reader or the
// card in a sentence ("pcscd is not running", "no reader named ...") and keeps the SCARD_ code.
// Stateless and thread-safe.
#pragma once

#include <winscard.h>

#include <string>
#include <string_view>

#include "base/result.h"

namespace signet::token::internal {

// "SCARD_E_NO_SERVICE (0x8010001D)".
std::string pcsc_code_name(LONG rc);

// `call` is the function ("SCardListReaders"); `reader` the reader involved, if any.
base::Error pcsc_error(LONG rc, std::string_view call, std::string_view reader = {});

// pcscd is gone (not running, stopped, or restarted under our context): the context must be
// established again.
bool is_service_gone(LONG rc);

}  // namespace signet::token::internal
