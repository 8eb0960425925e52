#!/usr/bin/env bash
# Signet set-up shared by the README's two commands: installs the Debian 12 packages that are
# missing, then configures and builds with CMake + Ninja.
#
#   scripts/setup.sh BUILD_DIR [extra cmake arguments...]
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build_dir="${1:?usage: setup.sh BUILD_DIR [cmake args...]}"
shift

# Build tools, libraries, the default token (SoftHSMv2), and the independent tools the tests
# use to check what we emit (openssl, GnuTLS certtool, python3-cryptography, OpenSC, curl), and
# pkill/setsid for the tests that kill and detach processes; libseccomp for signetd's syscall
# filter and systemd for `systemd-analyze verify` of the unit file; Chromium and NSS's certutil
# for the web console's browser tests; PC/SC (pcscd, its client library) with vsmartcard's
# virtual reader (vpcd) and virtual card (vicc) for the smart-card tests.
packages=(
  build-essential cmake ninja-build pkg-config git clang libclang-rt-14-dev
  libssl-dev openssl liblmdb-dev lmdb-utils libp11-kit-dev
  softhsm2 opensc
  catch2 libcli11-dev nlohmann-json3-dev libboost1.74-dev libargon2-dev libtoml11-dev
  libseccomp-dev systemd
  gnutls-bin python3 python3-cryptography procps util-linux curl
  chromium libnss3-tools
  pcscd libpcsclite-dev vsmartcard-vpcd vsmartcard-vpicc python3-virtualsmartcard
  python3-pycryptodome
)

missing=()
for package in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" \
    || missing+=("$package")
done
if ((${#missing[@]} > 0)); then
  echo "signet setup: installing ${missing[*]}"
  sudo=""
  if [[ $(id -u) -ne 0 ]]; then sudo="sudo"; fi
  $sudo env DEBIAN_FRONTEND=noninteractive apt-get update -qq
  $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
    "${missing[@]}" >/dev/null
fi

# playwright-core for the console's browser tests, pinned by package-lock.json, with the
# machine's own Node.js and npm (Debian's npm package conflicts with them).
# Skipped when node_modules already holds the pinned version (setup.sh also runs offline).
if command -v npm >/dev/null; then
  (
    cd "$here/tests/e2e/console"
    pinned=$(node -p "require('./package-lock.json').packages['node_modules/playwright-core'].version")
    have=$(node -p "try { require('./node_modules/playwright-core/package.json').version } catch { '' }")
    if [[ "$pinned" != "$have" ]]; then
      npm ci --no-audit --no-fund --loglevel=error >/dev/null
    fi
  )
else
  echo "signet setup: npm not found: the console's browser tests will not run" >&2
fi

cmake -S "$here" -B "$build_dir" -G Ninja "$@" >/dev/null
cmake --build "$build_dir" -j "$(nproc)"
