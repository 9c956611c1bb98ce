#!/usr/bin/env bash
# bench/section6.sh RUNS OUT.json: benchmark section 6 (bench/README.md),
# Matrix call setup: invite sent -> first decoded audio, mxrtc calling Element
# versus Element calling Element, through one local Synapse (and coturn, only
# as Synapse's TURN server: the calls use host candidates), with the Matrix
# interop driver (tests/interop/matrix_run.js, scenario 1: A places a voice
# call, B = Element answers at once). The two pairs alternate, one call at a
# time, RUNS calls each. Needs root (network namespaces), as the interop
# tests do. Writes {"mxrtc_ms": [...], "element_ms": [...], "method", "command"}.
set -euo pipefail
RUNS=${1:?usage: section6.sh RUNS OUT.json}
OUT=${2:?usage: section6.sh RUNS OUT.json}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
MXRTC=${MXRTC_TOOL:-$ROOT/build-bench/tools/mxrtc}
TMP=$(mktemp -d /tmp/mxrtc-section6.XXXXXX)
cleanup() {
  "$ROOT/tests/synapse/synapse.sh" stop "$TMP/synapse" >/dev/null 2>&1 || true
  "$ROOT/tests/turn/coturn.sh" stop "$TMP/coturn" >/dev/null 2>&1 || true
  rm -rf "$TMP"
}
trap cleanup EXIT
[[ -x "$MXRTC" ]] || { echo "section6.sh: no mxrtc command at $MXRTC (MXRTC_TOOL)" >&2; exit 1; }
"$ROOT/tests/turn/coturn.sh" start "$TMP/coturn" >/dev/null
MXRTC_COTURN_ENV="$TMP/coturn/coturn.env" "$ROOT/tests/synapse/synapse.sh" start "$TMP/synapse" >/dev/null
for ((i = 1; i <= RUNS; i++)); do
  for a in mxrtc element; do
    node "$ROOT/tests/interop/matrix_run.js" --a "$a" --scenarios 1 --mxrtc "$MXRTC" \
      --synapse-env "$TMP/synapse/synapse.env" --json-summary "$TMP/$a.$i.json" >"$TMP/$a.$i.log" 2>&1 || true
  done
done
python3 - "$TMP" "$RUNS" "$OUT" <<'PY'
import json, os, sys
tmp, runs, out = sys.argv[1], int(sys.argv[2]), sys.argv[3]
res = {"mxrtc_ms": [], "element_ms": [], "mxrtc_callee_ms": [], "element_callee_ms": [], "failed": {"mxrtc": 0, "element": 0}}
for a in ("mxrtc", "element"):
    for i in range(1, runs + 1):
        try:
            s = json.load(open(os.path.join(tmp, f"{a}.{i}.json")))["scenarios"][0]
        except (OSError, ValueError, KeyError, IndexError):
            res["failed"][a] += 1
            continue
        if not s.get("pass") or not isinstance(s["A"].get("first_audio_ms"), (int, float)):
            res["failed"][a] += 1
            continue
        res[f"{a}_ms"].append(s["A"]["first_audio_ms"])
        if isinstance(s["B"].get("first_audio_ms"), (int, float)):
            res[f"{a}_callee_ms"].append(s["B"]["first_audio_ms"])
res["method"] = (
    "The caller's clock: from its `m.call.invite` being sent (mxrtc: the SEND_EVENT output handed to the "
    "sending thread; Element: MatrixCall's invite send) to the first decoded audio above -40 dBFS from the "
    "callee (mxrtc: its pulled playout; Element: a WebAudio analyser on the remote stream). Callee: Element "
    "(matrix-js-sdk's MatrixCall in headless Chromium) answering as soon as the call rings, in both pairs. "
    "Everything on this machine: one local Synapse on 127.0.0.1 (every event goes through it and /sync "
    "long-polls), each side in its own network namespace, host candidates, Opus. "
    f"{runs} calls per pair, alternating mxrtc→Element and Element→Element, one at a time; failed calls "
    f"(mxrtc: {res['failed']['mxrtc']}, Element: {res['failed']['element']}) are left out. For reference, "
    "the callee's own figure (from the invite received) is in the raw data.")
res["command"] = f"`bench/section6.sh {runs} OUT.json` (runs `node tests/interop/matrix_run.js --a mxrtc|element --scenarios 1`)"
json.dump(res, open(out, "w"), indent=1)
PY
