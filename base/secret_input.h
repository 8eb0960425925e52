// Reading secrets (PINs, passwords) from where an operator keeps them: a file that only its
// owner can read, or a terminal prompt with echo off. Never from argv or the environment's
// values (the environment may name a file, never hold the secret). Thread-safe.
#pragma once

#include <string>
#include <string_view>

#include "base/result.h"
#include "base/secure_buffer.h"

namespace signet::base {

// Reads the whole file (one trailing newline is dropped). Refuses a file that group or others
// can read or write, a file that is not a regular file, an empty file, and files over 4 KiB.
Result<SecureBuffer> read_secret_file(const std::string& path);

// Prompts on /dev/tty with echo off. Fails with kUnavailable when there is no terminal.
Result<SecureBuffer> prompt_secret(std::string_view prompt);

// Writes a secret to a new file of mode 0600 (refuses to replace an existing file).
Result<void> write_secret_file(const std::string& path, ByteView secret);

}  // namespace signet::base
