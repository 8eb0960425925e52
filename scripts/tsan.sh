#!/usr/bin/env bash
# The test suite under ThreadSanitizer (not part of CI: SoftHSM and OpenSSL are not built
# with TSan, so reports inside them need reading with care). Usage: scripts/tsan.sh [ctest args]
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build_dir="${SIGNET_TSAN_BUILD_DIR:-$here/build-tsan}"
"$here/scripts/setup.sh" "$build_dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSIGNET_SANITIZE_THREAD=ON \
  -DSIGNET_BUILD_BENCH=OFF
cd "$build_dir"
TSAN_OPTIONS="halt_on_error=0 second_deadlock_stack=1" ctest --output-on-failure "$@"
