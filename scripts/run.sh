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

# The CAs publish their CRLs, certificates and OCSP at signetd's plain-HTTP listener.
http_listen="${SIGNET_HTTP_LISTEN:-127.0.0.1:8080}"
listen="${SIGNET_LISTEN:-127.0.0.1:8443}"
for ca in root issuing; do
  if ! "$signet" ca show "$ca" --json | grep -q '"base_url": *"http'; then
    "$signet" ca set "$ca" --base-url "http://$http_listen" >/dev/null
  fi
done
# CRLs for every CA that has none yet or whose CRL is due (signetd keeps them fresh from now on).
"$signet" crl refresh

echo
echo "== Signet CAs (state: $SIGNET_STATE)"
"$signet" ca list
cat <<EXAMPLE

== Starting signetd: the REST API on https://$listen, CRLs/OCSP on http://$http_listen
  The first start creates the administrator 'admin'; its password is in
  $SIGNET_STATE/initial-admin-password (mode 0600) unless SIGNET_ADMIN_PASSWORD_FILE names one.
  signetd's TLS certificate is issued by the appliance CA: $SIGNET_STATE/appliance-ca.pem

  # log in, make an API token, issue a certificate (in another shell):
  curl --cacert $SIGNET_STATE/appliance-ca.pem -c jar -H 'Content-Type: application/json' \\
    -d '{"name":"admin","password":"'"\$(cat $SIGNET_STATE/initial-admin-password)"'"}' \\
    https://$listen/api/v1/session          # prints the csrf_token for the next call
  curl --cacert $SIGNET_STATE/appliance-ca.pem -b jar -H "X-CSRF-Token: CSRF" \\
    -H 'Content-Type: application/json' -d '{"name":"me","role":"ra-officer"}' \\
    https://$listen/api/v1/api-tokens       # prints the token once: save it to a 0600 file
  # the signet CLI then works through signetd: SIGNET_API_TOKEN_FILE=token.txt $signet cert list
  # API reference: https://$listen/api/openapi.json     Stop signetd with Ctrl-C (SIGTERM).
EXAMPLE
exec "$build_dir/appliance/signetd" --listen "$listen" --http-listen "$http_listen"
