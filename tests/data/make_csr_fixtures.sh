#!/bin/sh
# Makes the PKCS#10 fixtures in tests/data/csr with independent tools (openssl req, python3).
# The private keys are thrown away. Re-run from anywhere: sh tests/data/make_csr_fixtures.sh
set -eu
out="$(cd "$(dirname "$0")" && pwd)/csr"
mkdir -p "$out"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

req() {  # req NAME KEYGEN-ARGS... ; writes NAME.pem
  name="$1"; shift
  openssl genpkey "$@" -out "$work/$name.key" 2>/dev/null
  openssl req -new -key "$work/$name.key" -subj "/C=DE/O=Signet Test/CN=$name.example.com" \
    -out "$out/$name.pem"
}

req rsa2048 -algorithm RSA -pkeyopt rsa_keygen_bits:2048
req rsa1024 -algorithm RSA -pkeyopt rsa_keygen_bits:1024
req ec_p256 -algorithm EC -pkeyopt ec_paramgen_curve:P-256
req ec_p384 -algorithm EC -pkeyopt ec_paramgen_curve:P-384
req ed25519 -algorithm ED25519
req secp256k1 -algorithm EC -pkeyopt ec_paramgen_curve:secp256k1

# DER form of the P-384 request.
openssl req -in "$out/ec_p384.pem" -outform DER -out "$out/ec_p384.der"

# The old "NEW CERTIFICATE REQUEST" label (Netscape, Microsoft certreq).
sed 's/CERTIFICATE REQUEST/NEW CERTIFICATE REQUEST/' "$out/ec_p256.pem" > "$out/ec_p256_new_label.pem"

# A request with subjectAltNames in its extensionRequest.
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$work/sans.key"
openssl req -new -key "$work/sans.key" -subj "/CN=www.example.com" \
  -addext "subjectAltName=DNS:www.example.com,DNS:Example.COM,IP:192.0.2.1,IP:2001:db8::1,email:ops@example.com,URI:https://example.com/" \
  -out "$out/with_sans.pem"

# A request asking for an invalid DNS name (underscore).
openssl req -new -key "$work/sans.key" -subj "/CN=bad" \
  -addext "subjectAltName=DNS:bad_name.example.com" -out "$out/bad_san.pem"

# The P-256 request with one bit of its signature flipped: parses, fails proof of possession.
openssl req -in "$out/ec_p256.pem" -outform DER -out "$work/ec_p256.der"
/usr/bin/python3 - "$work/ec_p256.der" "$out/corrupt_signature.der" <<'PY'
import sys
data = bytearray(open(sys.argv[1], "rb").read())
data[-5] ^= 0x01  # inside the ECDSA signature's s INTEGER (the BIT STRING is last)
open(sys.argv[2], "wb").write(data)
PY

# The RSA-2048 request cut short, and the same with bytes appended.
openssl req -in "$out/rsa2048.pem" -outform DER -out "$work/rsa2048.der"
head -c 200 "$work/rsa2048.der" > "$out/truncated.der"
cat "$work/rsa2048.der" > "$out/trailing.der"
printf 'junk' >> "$out/trailing.der"

# Not a request at all.
printf 'This is not a certificate request.\n' > "$out/garbage.txt"
