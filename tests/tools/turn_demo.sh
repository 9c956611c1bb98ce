#!/usr/bin/env bash
# Runs `mxrtc turn-demo` against the coturn fixture over UDP, TCP and TLS and
# checks that every message went both ways; then a wrong password must fail.
set -euo pipefail
MXRTC=$1
# shellcheck disable=SC1090
. "$MXRTC_COTURN_ENV"
pass=0 fail=0
check() { if "$@"; then pass=$((pass + 1)); else echo "FAILED: $*"; fail=$((fail + 1)); fi; }
for uri in "turn:127.0.0.1:$MXRTC_COTURN_LT_PORT?transport=udp" \
           "turn:127.0.0.1:$MXRTC_COTURN_LT_PORT?transport=tcp" \
           "turns:127.0.0.1:$MXRTC_COTURN_LT_TLS_PORT"; do
  out=$("$MXRTC" turn-demo --uri "$uri" --user "$MXRTC_COTURN_LT_USER" --pass "$MXRTC_COTURN_LT_PASSWORD" \
        --ca "$MXRTC_COTURN_CA" --tls-name "$MXRTC_COTURN_TLS_NAME" --count 10 2>&1) || true
  echo "$out"
  check grep -q "A -> B: 10/10 delivered, 10/10 echoed back" <<<"$out"
  check grep -q "B -> A: 10/10 delivered, 10/10 echoed back" <<<"$out"
  check grep -q "^turn-demo: OK" <<<"$out"
done
if "$MXRTC" turn-demo --uri "turn:127.0.0.1:$MXRTC_COTURN_LT_PORT" --user "$MXRTC_COTURN_LT_USER" --pass wrong \
     > /tmp/mxrtc-wrongpass.$$ 2>&1; then
  echo "FAILED: a wrong password succeeded"; fail=$((fail + 1))
else
  check grep -q "STUN 401" /tmp/mxrtc-wrongpass.$$
fi
rm -f /tmp/mxrtc-wrongpass.$$
echo "$pass passed, $fail failed"
((fail == 0))
