#!/usr/bin/env bash
# The README's second command: the same set-up, then every test through ctest, built with
# AddressSanitizer and UndefinedBehaviorSanitizer. Tests make their own SoftHSM tokens and
# LMDB stores in temporary directories; nothing on the machine is used or changed.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build_dir="${SIGNET_TEST_BUILD_DIR:-$here/build-asan}"
# clang (installed by setup.sh) compiles the sanitizer build at -O0 in about a third of the time
# g++ takes at -O1 (CMakeLists.txt, SIGNET_SANITIZE). The README's first command builds with
# g++, so the code must compile warning-free with both.
"$here/scripts/setup.sh" "$build_dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSIGNET_SANITIZE=ON \
  -DCMAKE_CXX_COMPILER=clang++

cd "$build_dir"
ctest --output-on-failure -j "$(nproc)" --timeout 900 "$@"
