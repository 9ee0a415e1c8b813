#!/usr/bin/env bash
# Every case of the test PKI through latch get against openssl s_server:
# accepted, or refused with the expected reason, exit code 60 and the alert
# as the server saw it.  (latch get against latch serve: test_verify.sh.)
source "$(dirname "$0")/lib.sh"
require_latch
require_pki
require_tool openssl

# cert_case NAME CERT HOST EXPECT_EXIT REASON_PART ALERT_AS_OPENSSL_PRINTS_IT [KEY]
cert_case() {
  local name=$1 cert=$2 host=$3 expect=$4 reason=$5 alert=$6 key=${7:-}
  ossl_cert_args "$cert"
  [ -n "$key" ] && OSSL_CERT_ARGS[3]="$PKI/$key.pem"
  if ! start_peer "s-server-$name" -- openssl s_server -accept "127.0.0.1:@PORT@" -www \
       "${OSSL_CERT_ARGS[@]}" -cipher "DEFAULT:@SECLEVEL=0"; then  # weak test certs load
    fail "$name" "openssl s_server did not start" "$PEER_LOG"; return
  fi
  local pid=$PEER_PID port=$PEER_PORT
  run_client "$name" /dev/null "$LATCH" get --cacert "$PKI/ca.pem" "https://$host:$port/"
  sleep 0.2
  stop_peer "$pid"
  if [ "$CLIENT_RC" -ne "$expect" ]; then
    fail "$name" "exit $CLIENT_RC, expected $expect" "$CLIENT_ERR" "$PEER_LOG"
  elif [ "$expect" -ne 0 ] && ! contains "$CLIENT_ERR" "$reason"; then
    fail "$name" "reason lacks '$reason'" "$CLIENT_ERR"
  elif [ "$expect" -ne 0 ] && ! grep -qi "alert $alert" "$PEER_LOG"; then
    fail "$name" "s_server did not see alert '$alert'" "$PEER_LOG"
  else
    pass "$name (exit $expect${reason:+, $reason}${alert:+, alert $alert at the server})"
  fi
}

cert_case good-p256 server-p256 localhost 0 "" ""
cert_case good-rsa2048 server-rsa2048 localhost 0 "" ""
cert_case good-ip server-p256 127.0.0.1 0 "" ""
cert_case expired expired localhost 60 "certificate has expired" "certificate expired"
cert_case not-yet-valid not-yet-valid localhost 60 "not yet valid" "certificate expired"
cert_case wrong-name wrong-name localhost 60 "hostname mismatch" "bad certificate"
cert_case ip-only-by-name ip-only localhost 60 "CN is not used" "bad certificate"
cert_case ip-only-by-ip ip-only 127.0.0.1 0 "" ""
cert_case missing-intermediate server-p256-leaf localhost 60 "unable to get local issuer" "unknown CA" server-p256-key
cert_case self-signed self-signed localhost 60 "self-signed certificate" "unknown CA"
cert_case client-eku-only client-only-eku localhost 60 "unsuitable certificate purpose" "unsupported certificate"
cert_case not-a-ca-intermediate under-not-a-ca localhost 60 "invalid CA certificate" "bad certificate"
cert_case leaf-is-ca leaf-is-ca localhost 60 "end-entity certificate is a CA" "bad certificate"
cert_case bad-wildcard bad-wildcard localhost 60 "malformed DNS name or wildcard" "bad certificate"
cert_case ku-encipher-only ku-encipher-only localhost 60 "key usage does not allow" "unsupported certificate"
cert_case weak-rsa1024 weak-rsa1024 localhost 60 "too weak" "bad certificate"
cert_case weak-sha1 weak-sha1 localhost 60 "too weak" "bad certificate"

summary
