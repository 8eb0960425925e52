// SecureBuffer: a move-only byte buffer for secrets (PINs, passwords, wrapped-key material).
//
// Its storage is locked in memory where the system allows, kept out of core dumps
// (MADV_DONTDUMP), and wiped on destruction and on move. It cannot be printed or streamed:
// the only way to the bytes is view(), which callers hand straight to the API that needs them.
// Not thread-safe; owned by one caller at a time.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

#include "base/bytes.h"

namespace signet::base {

class SecureBuffer {
 public:
  SecureBuffer() = default;
  explicit SecureBuffer(std::size_t size);
  static SecureBuffer copy_of(ByteView bytes);
  ~SecureBuffer();

  SecureBuffer(SecureBuffer&& other) noexcept;
  SecureBuffer& operator=(SecureBuffer&& other) noexcept;
  SecureBuffer(const SecureBuffer&) = delete;
  SecureBuffer& operator=(const SecureBuffer&) = delete;

  std::size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }
  ByteView view() const { return {data_, size_}; }
  std::span<std::uint8_t> mutable_view() { return {data_, size_}; }
  // Shrinks the visible length (e.g. to drop a trailing newline); the tail is wiped.
  void truncate(std::size_t new_size);

 private:
  void release() noexcept;

  std::uint8_t* data_ = nullptr;
  std::size_t size_ = 0;
  std::size_t capacity_ = 0;
};

}  // namespace signet::base
