#include "base/secure_buffer.h"

#include <sys/mman.h>
#include <unistd.h>

#include <cstring>
#include <new>

namespace signet::base {
namespace {

std::size_t page_rounded(std::size_t size) {
  const auto page = static_cast<std::size_t>(sysconf(_SC_PAGESIZE));
  return (size + page - 1) / page * page;
}

}  // namespace

SecureBuffer::SecureBuffer(std::size_t size) : size_(size) {
  if (size == 0) return;
  capacity_ = page_rounded(size);
  void* mem = mmap(nullptr, capacity_, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (mem == MAP_FAILED) throw std::bad_alloc();
  // Best effort: both can fail under rlimits or in containers, and the buffer still works.
  (void)mlock(mem, capacity_);
  (void)madvise(mem, capacity_, MADV_DONTDUMP);
  data_ = static_cast<std::uint8_t*>(mem);
}

SecureBuffer SecureBuffer::copy_of(ByteView bytes) {
  SecureBuffer out(bytes.size());
  if (!bytes.empty()) std::memcpy(out.data_, bytes.data(), bytes.size());
  return out;
}

SecureBuffer::~SecureBuffer() { release(); }

SecureBuffer::SecureBuffer(SecureBuffer&& other) noexcept
    : data_(other.data_), size_(other.size_), capacity_(other.capacity_) {
  other.data_ = nullptr;
  other.size_ = other.capacity_ = 0;
}

SecureBuffer& SecureBuffer::operator=(SecureBuffer&& other) noexcept {
  if (this != &other) {
    release();
    data_ = other.data_;
    size_ = other.size_;
    capacity_ = other.capacity_;
    other.data_ = nullptr;
    other.size_ = other.capacity_ = 0;
  }
  return *this;
}

void SecureBuffer::truncate(std::size_t new_size) {
  if (new_size >= size_) return;
  explicit_bzero(data_ + new_size, size_ - new_size);
  size_ = new_size;
}

void SecureBuffer::release() noexcept {
  if (data_ == nullptr) return;
  explicit_bzero(data_, capacity_);
  munlock(data_, capacity_);
  munmap(data_, capacity_);
  data_ = nullptr;
  size_ = capacity_ = 0;
}

}  // namespace signet::base
