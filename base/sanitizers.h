// Whether this build runs under AddressSanitizer, for the few places that must behave
// differently there (the seccomp filter kills syscalls ASan's runtime makes). g++ defines
// __SANITIZE_ADDRESS__; clang answers __has_feature(address_sanitizer) instead.
#pragma once

#if defined(__SANITIZE_ADDRESS__)
#define SIGNET_ADDRESS_SANITIZER 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SIGNET_ADDRESS_SANITIZER 1
#endif
#endif
