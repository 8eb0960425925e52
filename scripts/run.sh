#!/usr/bin/env bash
# The README's first command: set up, build, create the embedded default state on first run
# (a SoftHSM token and an LMDB store under $SIGNET_STATE, a root CA and an issuing CA with
# keys on the token), and show the appliance's CAs with a ready-to-paste issuance example.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build_dir="${SIGNET_BUILD_DIR:-$here/build}"
"$here/scripts/setup.sh" "$build_dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo

export SIGNET_STATE="${SIGNET_STATE:-$here/state}"
export SIGNET_TOKEN="${SIGNET_TOKEN:-signet}"
signet="$build_dir/appliance/signet"

if [[ ! -f "$SIGNET_STATE/pins/$SIGNET_TOKEN.user.pin" ]]; then
  echo "== Creating the default state in $SIGNET_STATE"
  "$signet" token init --label "$SIGNET_TOKEN"
fi
export SIGNET_PIN_FILE="${SIGNET_PIN_FILE:-$SIGNET_STATE/pins/$SIGNET_TOKEN.user.pin}"

if ! "$signet" ca show root >/dev/null 2>&1; then
  "$signet" ca create-root --name root --subject "CN=Signet Root CA,O=Signet" --key ec-p384
  "$signet" ca create-intermediate --name issuing --parent root \
    --subject "CN=Signet Issuing CA,O=Signet" --key ec-p256 --path-length 0
fi

# CRLs for every CA that has none yet or whose CRL is due (what a timer runs until signetd does).
"$signet" crl refresh

echo
echo "== Signet CAs (state: $SIGNET_STATE)"
"$signet" ca list
echo
"$signet" ca show issuing
cat <<EXAMPLE

== Issue a certificate (paste into this shell):
  export SIGNET_STATE='$SIGNET_STATE' SIGNET_TOKEN='$SIGNET_TOKEN' SIGNET_PIN_FILE='$SIGNET_PIN_FILE'
  openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout www.key \\
    -subj "/CN=www.example.test" -addext "subjectAltName=DNS:www.example.test" -out www.csr
  $signet cert issue --ca issuing --csr www.csr --chain --out www.pem
  $signet cert list
  $signet cert revoke SERIAL --reason keyCompromise      # the CRL is regenerated at once
  $signet crl export --ca issuing --out issuing.crl.pem
  openssl ocsp -issuer issuing.pem -cert www.pem -reqout req.der   # issuing.pem: ca export issuing
  $signet ocsp respond --in req.der --out resp.der
EXAMPLE
