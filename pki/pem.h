// PEM armour (RFC 7468). Plain functions, thread-safe.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "base/bytes.h"
#include "base/result.h"

namespace signet::pki {

std::string pem_encode(std::string_view label, base::ByteView der);

// Every block with the given label, in order. Fails when there is none or one is malformed.
base::Result<std::vector<base::Bytes>> pem_decode_all(std::string_view text,
                                                      std::string_view label);

// True when the text looks like PEM ("-----BEGIN " present).
bool looks_like_pem(base::ByteView data);

}  // namespace signet::pki
