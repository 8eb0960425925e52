// Writing TOML text: a string as a TOML basic string (quoted and escaped). Shared by to_toml()
// and the version records. Stateless.
#pragma once

#include <string>
#include <string_view>

namespace signet::firmware_config::internal {

std::string toml_quoted(std::string_view text);

}  // namespace signet::firmware_config::internal
