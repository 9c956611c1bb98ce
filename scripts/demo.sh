#!/usr/bin/env bash
# The main job, until calls work: installs what is needed, builds mxrtc,
# starts a local coturn on 127.0.0.1, and runs `mxrtc turn-demo` over UDP,
# TCP and TLS: two TURN allocations relay numbered messages to each other
# both ways, with the round-trip time through the relay, then deallocate.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
BUILD=${MXRTC_BUILD_DIR:-build-demo}
cmake -S . -B "$BUILD" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DMXRTC_BUILD_TESTS=OFF >/dev/null
cmake --build "$BUILD" --target mxrtc_tool
DIR=$(mktemp -d /tmp/mxrtc-demo.XXXXXX)
trap 'tests/turn/coturn.sh stop "$DIR" >/dev/null 2>&1 || true; rm -rf "$DIR"' EXIT
tests/turn/coturn.sh start "$DIR" > "$DIR/env.sh"
# shellcheck disable=SC1091
. "$DIR/env.sh"
status=0
for uri in "turn:127.0.0.1:$MXRTC_COTURN_LT_PORT?transport=udp" \
           "turn:127.0.0.1:$MXRTC_COTURN_LT_PORT?transport=tcp" \
           "turns:127.0.0.1:$MXRTC_COTURN_LT_TLS_PORT"; do
  echo "== mxrtc turn-demo --uri $uri"
  "$BUILD/tools/mxrtc" turn-demo --uri "$uri" --user "$MXRTC_COTURN_LT_USER" --pass "$MXRTC_COTURN_LT_PASSWORD" \
      --ca "$MXRTC_COTURN_CA" --tls-name "$MXRTC_COTURN_TLS_NAME" --count 20 || status=1
done
exit $status
