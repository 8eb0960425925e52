#include "base/rng.h"

#include <sys/random.h>

#include <cerrno>
#include <cstring>
#include <string>

namespace signet::base {

Result<void> SystemRng::fill(std::span<std::uint8_t> out) {
  std::size_t done = 0;
  while (done < out.size()) {
    ssize_t n = ::getrandom(out.data() + done, out.size() - done, 0);
    if (n < 0) {
      if (errno == EINTR) continue;
      return Error(ErrorCode::kInternal,
                   std::string("the kernel random source failed: ") + std::strerror(errno));
    }
    done += static_cast<std::size_t>(n);
  }
  return ok();
}

}  // namespace signet::base
