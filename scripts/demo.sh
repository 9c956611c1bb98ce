#!/usr/bin/env bash
# The main job: installs what is needed (with --interop: chromium, node, npm,
# the harness's playwright-core and matrix-js-sdk), builds mxrtc, and runs a
# real Matrix call on loopback: a local Synapse (PyPI, in a cached virtual
# environment) with a local coturn as its TURN server, and `mxrtc call`
# (alice) calling Element's call code (matrix-js-sdk's MatrixCall, bob) in
# headless Chromium, audio and video both ways, each side checking what it
# decodes (tests/interop/matrix_run.js, scenario "demo"). It prints the call
# summary (setup times, the tone and colour each side received against what
# the other sent, packets and frames) and where mxrtc's recordings of what it
# received are. Then two more parts: `mxrtc peer` <-> Chromium over plain
# JSON-lines signalling (interop case 1), and `mxrtc turn-demo` against a
# local coturn over UDP, TCP and TLS.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh --interop
LOCK_SUM=$(sha256sum tests/interop/package-lock.json | cut -d' ' -f1)
if [[ "$(cat tests/interop/node_modules/.mxrtc-lock.sha256 2>/dev/null)" != "$LOCK_SUM" ]]; then
  PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --prefix tests/interop --no-audit --no-fund
  echo "$LOCK_SUM" > tests/interop/node_modules/.mxrtc-lock.sha256
fi
BUILD=${MXRTC_BUILD_DIR:-build-demo}
cmake -S . -B "$BUILD" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DMXRTC_BUILD_TESTS=OFF >/dev/null
cmake --build "$BUILD" --target mxrtc_tool
status=0

# As root each side runs in its own network namespace (the drivers do it);
# otherwise both use this machine's interfaces.
NETNS=()
if [[ "$(id -u)" != 0 ]]; then NETNS=(--netns off); fi

# ---- part 1: a Matrix call, mxrtc -> Element, through Synapse ----
REC=${MXRTC_DEMO_RECORDINGS:-/tmp/mxrtc-demo-recordings}
echo "== a Matrix call: mxrtc call (alice: 1000 Hz, RGB 200,40,60) -> Element in Chromium (bob: 660 Hz, RGB 40,110,210), local Synapse + coturn"
LOG=$(mktemp /tmp/mxrtc-demo-matrix.XXXXXX)
if node tests/interop/matrix_run.js "${NETNS[@]}" --a mxrtc --scenarios demo --mxrtc "$BUILD/tools/mxrtc" \
     --record-dir "$REC" > "$LOG" 2>&1; then
  mcall=ok
else
  mcall=failed
  status=1
fi
grep -E '^A: |^  |^scenario |passed' "$LOG" || true
[[ $mcall == failed ]] && { echo "(full log: $LOG)"; } || rm -f "$LOG"
echo "matrix call: $mcall"

# ---- part 2: an mxrtc <-> Chromium call over plain JSON-lines signalling ----
echo "== a call: mxrtc peer (A, offers: 1000 Hz, RGB 200,40,60) <-> Chromium (B, answers: 660 Hz, RGB 40,110,210)"
LOG=$(mktemp /tmp/mxrtc-demo-call.XXXXXX)
if node tests/interop/run.js "${NETNS[@]}" --cases 1 "$BUILD/tools/mxrtc peer" \
     "node tests/interop/chromium_peer.js" > "$LOG" 2>&1; then
  call=ok
else
  call=failed
  status=1
fi
grep -E '^case |^  (offer to|A:|B:|failure)|passed' "$LOG" || true
[[ $call == failed ]] && { echo "(full log: $LOG)"; } || rm -f "$LOG"
echo "call: $call"

# ---- part 3: the TURN relay demo ----
DIR=$(mktemp -d /tmp/mxrtc-demo.XXXXXX)
trap 'tests/turn/coturn.sh stop "$DIR" >/dev/null 2>&1 || true; rm -rf "$DIR"' EXIT
tests/turn/coturn.sh start "$DIR" > "$DIR/env.sh"
# shellcheck disable=SC1091
. "$DIR/env.sh"
for uri in "turn:127.0.0.1:$MXRTC_COTURN_LT_PORT?transport=udp" \
           "turn:127.0.0.1:$MXRTC_COTURN_LT_PORT?transport=tcp" \
           "turns:127.0.0.1:$MXRTC_COTURN_LT_TLS_PORT"; do
  echo "== mxrtc turn-demo --uri $uri"
  "$BUILD/tools/mxrtc" turn-demo --uri "$uri" --user "$MXRTC_COTURN_LT_USER" --pass "$MXRTC_COTURN_LT_PASSWORD" \
      --ca "$MXRTC_COTURN_CA" --tls-name "$MXRTC_COTURN_TLS_NAME" --count 20 || status=1
done
exit $status
