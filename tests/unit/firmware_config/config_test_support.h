// Shared by the firmware-config unit tests: probes that accept everything (or refuse one
// path), and a parse with them.
#pragma once

#include <string>

#include "firmware-config/loader.h"

namespace signet::firmware_config::test {

inline constexpr const char* kDefaultModule = "/usr/lib/softhsm/libsofthsm2.so";

inline Probes accepting_probes() {
  const auto accept = [](const std::string&) { return base::ok(); };
  return Probes{accept, accept, accept, accept, accept};
}

inline LoadResult parse(const std::string& text, const Probes& probes = accepting_probes()) {
  return parse_configuration(text, "test.toml", kDefaultModule, probes);
}

}  // namespace signet::firmware_config::test
