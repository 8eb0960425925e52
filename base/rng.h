// Rng: the random source for serial numbers and key identifiers, injected so that tests can
// seed it. SystemRng reads the kernel CSPRNG (getrandom). Implementations are thread-safe.
#pragma once

#include <cstdint>
#include <span>

#include "base/result.h"

namespace signet::base {

class Rng {
 public:
  virtual ~Rng() = default;
  virtual Result<void> fill(std::span<std::uint8_t> out) = 0;
};

class SystemRng final : public Rng {
 public:
  Result<void> fill(std::span<std::uint8_t> out) override;
};

}  // namespace signet::base
