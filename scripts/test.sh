#!/usr/bin/env bash
# The README's second command: the same set-up, then every test through ctest, built with
# AddressSanitizer and UndefinedBehaviorSanitizer. Tests make their own SoftHSM tokens and
# LMDB stores in temporary directories; nothing on the machine is used or changed.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build_dir="${SIGNET_TEST_BUILD_DIR:-$here/build-asan}"
"$here/scripts/setup.sh" "$build_dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSIGNET_SANITIZE=ON

cd "$build_dir"
ctest --output-on-failure -j "$(nproc)" --timeout 900 "$@"
