#!/usr/bin/env bash
# Regenerate the test PKI in this directory (needs the openssl 3.x CLI).
# The layout and names are fixed; keys and serial-independent bytes differ on
# each run.  Validity is 100 years, except expired.pem (2020-01-01..2021-01-01).
#
#   ca.pem / ca-key.pem                     root CA, ECDSA P-256
#   intermediate.pem / intermediate-key.pem intermediate CA signed by the root
#   server-{p256,p384,rsa2048,ed25519}.pem  leaf + intermediate (chain to send)
#   server-*-leaf.pem, server-*-key.pem     leaf alone, its key
#     p256 key: PKCS#8 PEM; p384 key: traditional "EC PRIVATE KEY" PEM;
#     rsa2048 and ed25519 keys: PKCS#8 PEM
#   server-p256-leaf.der, server-p256-key.der   DER copies of the P-256 leaf/key
#   expired.pem         leaf + intermediate, notAfter 2021-01-01
#   wrong-name.pem      leaf + intermediate, SAN DNS:wrong.example only
#   client-only-eku.pem leaf + intermediate, EKU clientAuth only
#   weak-rsa1024.pem    leaf + intermediate, RSA-1024 key (refused at level 2)
#   weak-sha1.pem       leaf + intermediate, signed with ECDSA-SHA1
#   self-signed.pem     self-signed leaf for localhost (not under ca.pem)
#   other-ca.pem        an unrelated root CA ("unknown CA" tests)
# Each bad certificate has a matching *-key.pem.
set -euo pipefail
# Usage: make-pki.sh OUTPUT_DIR   (CMake runs it at configure time into
# BUILD/testdata/pki: test keys are generated, never committed)
mkdir -p "${1:-$(dirname "$0")}"
cd "${1:-$(dirname "$0")}"

DAYS=36500
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT

SAN="DNS:localhost,IP:127.0.0.1,IP:::1"

# ext_file NAME SAN EKU KEYUSAGE: leaf extension section in $TMP/NAME.ext
ext_file() {
    cat >"$TMP/$1.ext" <<EOF
[leaf]
basicConstraints = critical,CA:FALSE
keyUsage = critical,$4
extendedKeyUsage = $3
subjectAltName = $2
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
EOF
}

cat >"$TMP/ca.ext" <<EOF
[root]
basicConstraints = critical,CA:TRUE
keyUsage = critical,keyCertSign,cRLSign
subjectKeyIdentifier = hash
[intermediate]
basicConstraints = critical,CA:TRUE,pathlen:0
keyUsage = critical,keyCertSign,cRLSign
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
EOF

ec_key() { openssl genpkey -quiet -algorithm EC -pkeyopt ec_paramgen_curve:"$1" -out "$2"; }

# root_ca NAME CN: self-signed root NAME.pem / NAME-key.pem
root_ca() {
    ec_key P-256 "$1-key.pem"
    openssl req -new -x509 -key "$1-key.pem" -subj "/CN=$2" -days $DAYS -sha256 \
        -set_serial 1 -config "$TMP/ca.ext" -extensions root \
        -out "$1.pem"
}

# leaf OUT KEY CN EXTNAME SERIAL [extra x509 args]: sign OUT-leaf.pem with the
# intermediate; OUT.pem = leaf + intermediate
leaf() {
    local out=$1 key=$2 cn=$3 ext=$4 serial=$5
    shift 5
    openssl req -new -key "$key" -subj "/CN=$cn" -config /dev/null -out "$TMP/$out.csr"
    openssl x509 -req -in "$TMP/$out.csr" -CA intermediate.pem -CAkey intermediate-key.pem \
        -set_serial "$serial" -days $DAYS -extfile "$TMP/$ext.ext" -extensions leaf \
        "$@" -out "$out-leaf.pem"
    cat "$out-leaf.pem" intermediate.pem >"$out.pem"
}

rm -f ./*.pem ./*.der

# --- CAs -------------------------------------------------------------------
root_ca ca "latch test root CA"
ec_key P-256 intermediate-key.pem
openssl req -new -key intermediate-key.pem -subj "/CN=latch test intermediate CA" \
    -config /dev/null -out "$TMP/intermediate.csr"
openssl x509 -req -in "$TMP/intermediate.csr" -CA ca.pem -CAkey ca-key.pem -set_serial 2 \
    -days $DAYS -sha256 -extfile "$TMP/ca.ext" -extensions intermediate -out intermediate.pem
root_ca other-ca "latch unrelated root CA"

# --- good server leaves ------------------------------------------------------
ext_file ec "$SAN" serverAuth digitalSignature
ext_file rsa "$SAN" serverAuth digitalSignature,keyEncipherment

ec_key P-256 server-p256-key.pem                       # PKCS#8
leaf server-p256 server-p256-key.pem localhost ec 100 -sha256

openssl ecparam -name secp384r1 -genkey -noout -out server-p384-key.pem  # traditional
leaf server-p384 server-p384-key.pem localhost ec 101 -sha256

openssl genpkey -quiet -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out server-rsa2048-key.pem
leaf server-rsa2048 server-rsa2048-key.pem localhost rsa 102 -sha256

openssl genpkey -quiet -algorithm ED25519 -out server-ed25519-key.pem
leaf server-ed25519 server-ed25519-key.pem localhost ec 103 -sha256

openssl x509 -in server-p256-leaf.pem -outform DER -out server-p256-leaf.der
openssl pkey -in server-p256-key.pem -outform DER -out server-p256-key.der

# --- bad ones ------------------------------------------------------------------
ext_file wrong "DNS:wrong.example" serverAuth digitalSignature
ec_key P-256 wrong-name-key.pem
leaf wrong-name wrong-name-key.pem wrong.example wrong 200 -sha256

ext_file client "$SAN" clientAuth digitalSignature
ec_key P-256 client-only-eku-key.pem
leaf client-only-eku client-only-eku-key.pem localhost client 201 -sha256

openssl genpkey -quiet -algorithm RSA -pkeyopt rsa_keygen_bits:1024 -out weak-rsa1024-key.pem
leaf weak-rsa1024 weak-rsa1024-key.pem localhost rsa 202 -sha256

ec_key P-256 weak-sha1-key.pem
leaf weak-sha1 weak-sha1-key.pem localhost ec 203 -sha1

ec_key P-256 self-signed-key.pem
openssl req -new -x509 -key self-signed-key.pem -subj "/CN=localhost" -days $DAYS -sha256 \
    -set_serial 204 -config "$TMP/ec.ext" -extensions leaf \
    -out self-signed.pem

# Expired: `openssl x509 -req` in 3.0 cannot set a past notBefore, `openssl ca` can.
ec_key P-256 expired-key.pem
openssl req -new -key expired-key.pem -subj "/CN=localhost" -config /dev/null \
    -out "$TMP/expired.csr"
mkdir "$TMP/ca"
touch "$TMP/ca/index.txt"
echo 0100 >"$TMP/ca/serial"   # must be unique for this CA: 0x100 = 256
cat >"$TMP/ca.cnf" <<EOF
[ca]
default_ca = ca_section
[ca_section]
dir = $TMP/ca
database = \$dir/index.txt
serial = \$dir/serial
new_certs_dir = \$dir
default_md = sha256
policy = policy_any
copy_extensions = none
unique_subject = no
[policy_any]
commonName = supplied
EOF
cat "$TMP/ec.ext" >>"$TMP/ca.cnf"
openssl ca -batch -notext -config "$TMP/ca.cnf" -cert intermediate.pem \
    -keyfile intermediate-key.pem -extensions leaf -startdate 20200101000000Z \
    -enddate 20210101000000Z -in "$TMP/expired.csr" -out expired-leaf.pem 2>/dev/null
cat expired-leaf.pem intermediate.pem >expired.pem

# ---- cases for the checks beyond libcrypto (docs/CERTIFICATES.md) ----
ec_leaf_with_ext() { # NAME SERIAL EXT-SECTION-TEXT
    printf '[leaf]\n%s\n' "$3" >"$TMP/$1.ext"
    ec_key P-256 "$1-key.pem"
    leaf "$1" "$1-key.pem" localhost "$1" "$2" -sha256
}
ec_leaf_with_ext leaf-is-ca 300 "basicConstraints = critical,CA:TRUE
keyUsage = critical,digitalSignature,keyCertSign
extendedKeyUsage = serverAuth
subjectAltName = $SAN"
ec_leaf_with_ext no-san 301 "basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature
extendedKeyUsage = serverAuth"
ec_leaf_with_ext bad-wildcard 302 "basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature
extendedKeyUsage = serverAuth
subjectAltName = DNS:a.*.example.test,$SAN"
ec_leaf_with_ext wildcard 303 "basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature
extendedKeyUsage = serverAuth
subjectAltName = DNS:*.example.test"
ec_leaf_with_ext ip-only 304 "basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature
extendedKeyUsage = serverAuth
subjectAltName = IP:127.0.0.1"
ec_leaf_with_ext ku-encipher-only 305 "basicConstraints = critical,CA:FALSE
keyUsage = critical,keyEncipherment
extendedKeyUsage = serverAuth
subjectAltName = $SAN"

# a leaf under an "intermediate" that is not a CA (CA:FALSE)
ec_key P-256 not-a-ca-key.pem
openssl req -new -key not-a-ca-key.pem -subj "/CN=latch not-a-CA intermediate" \
    -config /dev/null -out "$TMP/not-a-ca.csr"
printf '[mid]\nbasicConstraints = critical,CA:FALSE\nkeyUsage = critical,digitalSignature,keyCertSign\n' \
    >"$TMP/not-a-ca.ext"
openssl x509 -req -in "$TMP/not-a-ca.csr" -CA ca.pem -CAkey ca-key.pem -set_serial 306 \
    -days $DAYS -sha256 -extfile "$TMP/not-a-ca.ext" -extensions mid -out not-a-ca.pem
ec_key P-256 under-not-a-ca-key.pem
openssl req -new -key under-not-a-ca-key.pem -subj "/CN=localhost" -config /dev/null \
    -out "$TMP/under.csr"
openssl x509 -req -in "$TMP/under.csr" -CA not-a-ca.pem -CAkey not-a-ca-key.pem -set_serial 307 \
    -days $DAYS -sha256 -extfile "$TMP/ec.ext" -extensions leaf -out under-not-a-ca-leaf.pem
cat under-not-a-ca-leaf.pem not-a-ca.pem >under-not-a-ca.pem

# not yet valid: from 2099
ec_key P-256 not-yet-valid-key.pem
openssl req -new -key not-yet-valid-key.pem -subj "/CN=localhost" -config /dev/null \
    -out "$TMP/nyv.csr"
openssl ca -batch -notext -config "$TMP/ca.cnf" -cert intermediate.pem \
    -keyfile intermediate-key.pem -extensions leaf -startdate 20990101000000Z \
    -enddate 21000101000000Z -in "$TMP/nyv.csr" -out not-yet-valid-leaf.pem 2>/dev/null
cat not-yet-valid-leaf.pem intermediate.pem >not-yet-valid.pem

echo "PKI written to $(pwd)"
