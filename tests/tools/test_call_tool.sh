#!/usr/bin/env bash
# test_call_tool.sh MXRTC: `mxrtc call` (alice) against `mxrtc answer` (bob)
# through the local Synapse of the `synapse` fixture (tests/synapse/synapse.sh),
# on this machine's interfaces; TURN from Synapse's /voip/turnServer, which
# names the `coturn` fixture's REST instance. One fresh room per case, made
# by alice with bob invited (bob's `answer ROOM` joins it).
#
# Cases (docs/call_tool.md):
#   voice      tones both ways: each side hears the other's within 2 %
#   video      colours both ways (within 12 per channel) and tones
#   reject     bob rejects: alice ends with reason rejected, remote_ended
#   callee     bob hangs up after 2 s (--duration): alice sees remote_ended
#   relay      both --relay-only: the call connects and the tones pass through coturn
#   token      (in every case) bob logs in with an access token, alice with a password
#
# Real processes and real time (like the interop tests): each side is bounded
# by `timeout`; exit 77 only when the fixture's env file is missing.
set -uo pipefail
MXRTC=$1
if [[ -z "${MXRTC_SYNAPSE_ENV:-}" || ! -f "$MXRTC_SYNAPSE_ENV" ]]; then
  echo "SKIP: no Synapse env file (MXRTC_SYNAPSE_ENV=${MXRTC_SYNAPSE_ENV:-}); run through ctest (fixture synapse)"
  exit 77
fi
# shellcheck disable=SC1090
. "$MXRTC_SYNAPSE_ENV"
WORK=$(mktemp -d /tmp/mxrtc-calltool.XXXXXX)
PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT

pass=0 fail=0
ok() { pass=$((pass + 1)); echo "ok: $*"; }
bad() { fail=$((fail + 1)); echo "FAILED: $*"; }

# A room made by alice with bob invited; prints its id.
new_room() {
  curl -fsS -m 10 -X POST "$MXRTC_SYNAPSE_URL/_matrix/client/v3/createRoom" \
    -H "Authorization: Bearer $MXRTC_SYNAPSE_ALICE_TOKEN" -H 'Content-Type: application/json' \
    -d "{\"preset\":\"private_chat\",\"invite\":[\"$MXRTC_SYNAPSE_BOB_USER\"],\"is_direct\":true}" |
    jq -er .room_id
}

# The `result` object of a JSON-lines file (or null).
result() { jq -c 'select(.type == "result")' "$1" 2>/dev/null | tail -1; }
field() { jq -r "$2" <<<"$(result "$1")"; }

# run_case NAME "BOB ARGS" "ALICE ARGS": bob answers, alice calls; waits for
# both; leaves NAME.bob.{out,err,rc} and NAME.alice.{out,err,rc} in $WORK.
run_case() {
  local name=$1 bob_args=$2 alice_args=$3 room
  room=$(new_room) || { bad "$name: createRoom"; return 1; }
  echo "== $name in $room"
  # bob: the access token of the fixture (no password in his environment).
  env -u MXRTC_PASSWORD MXRTC_HOMESERVER="$MXRTC_SYNAPSE_URL" MXRTC_USER="$MXRTC_SYNAPSE_BOB_USER" \
    MXRTC_ACCESS_TOKEN="$MXRTC_SYNAPSE_BOB_TOKEN" \
    timeout -s INT -k 5 40 "$MXRTC" answer "$room" --json $bob_args \
    >"$WORK/$name.bob.out" 2>"$WORK/$name.bob.err" &
  local bob=$!
  PIDS+=("$bob")
  # alice starts once bob is ready (logged in, first sync done): bounded wait.
  for _ in $(seq 1 200); do
    grep -q '"type":"ready"' "$WORK/$name.bob.out" 2>/dev/null && break
    kill -0 "$bob" 2>/dev/null || break
    sleep 0.05
  done
  env -u MXRTC_ACCESS_TOKEN MXRTC_HOMESERVER="$MXRTC_SYNAPSE_URL" MXRTC_USER=alice \
    MXRTC_PASSWORD="$MXRTC_SYNAPSE_ALICE_PASSWORD" \
    timeout -s INT -k 5 40 "$MXRTC" call "$room" --json $alice_args \
    >"$WORK/$name.alice.out" 2>"$WORK/$name.alice.err"
  echo $? > "$WORK/$name.alice.rc"
  wait "$bob"
  echo $? > "$WORK/$name.bob.rc"
  for side in alice bob; do
    echo "-- $name $side (exit $(cat "$WORK/$name.$side.rc")):"
    cat "$WORK/$name.$side.out"
    tail -5 "$WORK/$name.$side.err" | sed 's/^/   /'
  done
}

rc_is() { [[ $(cat "$WORK/$1.rc") == "$2" ]] && ok "$1 exits $2" || bad "$1 exits $(cat "$WORK/$1.rc"), want $2"; }

# hz_near FILE WANT: the received tone within 2 % of WANT.
hz_near() {
  local got; got=$(field "$WORK/$1.out" .audio_hz)
  if [[ "$got" != null && -n "$got" ]] && awk -v g="$got" -v w="$2" 'BEGIN{d=g-w; if(d<0)d=-d; exit !(d <= w*0.02)}'; then
    ok "$1 heard $got Hz (sent $2)"
  else
    bad "$1 heard ${got:-nothing} Hz, want $2 +-2 %"
  fi
}

# rgb_near FILE R G B: the received colour within 12 per channel.
rgb_near() {
  local got; got=$(field "$WORK/$1.out" '.video_rgb | if . == null then "null" else join(" ") end')
  if [[ "$got" != null && -n "$got" ]] &&
     awk -v g="$got" -v w="$2 $3 $4" 'BEGIN{split(g,a," ");split(w,b," ");for(i=1;i<=3;i++){d=a[i]-b[i];if(d<0)d=-d;if(d>12)exit 1}}'; then
    ok "$1 saw rgb $got (sent $2 $3 $4)"
  else
    bad "$1 saw rgb ${got:-nothing}, want $2 $3 $4 +-12"
  fi
}

field_is() {
  local got; got=$(field "$WORK/$1.out" "$2")
  [[ "$got" == "$3" ]] && ok "$1 $2 = $3" || bad "$1 $2 = $got, want $3"
}

has_line() {
  grep -q "$2" "$WORK/$1.out" && ok "$1 printed $2" || bad "$1 did not print $2"
}

# ---- voice: tones both ways --------------------------------------------------
run_case voice "--audio-hz 660" "--audio-hz 440 --duration 3 --timeout 20"
rc_is voice.alice 0; rc_is voice.bob 0
has_line voice.bob '"type":"incoming"'
has_line voice.alice '"type":"invite_sent"'
has_line voice.alice '"state":"connected"'
hz_near voice.alice 660; hz_near voice.bob 440
field_is voice.alice .end_reason user_hangup; field_is voice.alice .remote_ended false
field_is voice.bob .end_reason user_hangup; field_is voice.bob .remote_ended true
[[ $(field "$WORK/voice.alice.out" .connect_ms) =~ ^[0-9]+$ ]] && ok "voice.alice connect_ms" || bad "voice.alice connect_ms"
grep -q "$MXRTC_SYNAPSE_ALICE_PASSWORD\|$MXRTC_SYNAPSE_BOB_TOKEN" "$WORK"/voice.* &&
  bad "a password or token was printed" || ok "no password or token printed"

# ---- video: colours both ways ------------------------------------------------------
run_case video "--video --audio-hz 500 --video-rgb 40,60,200" \
               "--video --audio-hz 700 --video-rgb 200,60,40 --duration 4 --timeout 20"
rc_is video.alice 0; rc_is video.bob 0
has_line video.bob '"video":true'
rgb_near video.alice 40 60 200; rgb_near video.bob 200 60 40
hz_near video.alice 500; hz_near video.bob 700
[[ $(field "$WORK/video.bob.out" .frames_decoded) -gt 30 ]] && ok "video.bob frames decoded" || bad "video.bob frames decoded"

# ---- reject -------------------------------------------------------------------------
run_case reject "--reject" "--timeout 15"
rc_is reject.alice 0; rc_is reject.bob 0
field_is reject.alice .end_reason rejected; field_is reject.alice .remote_ended true
field_is reject.alice .connect_ms null

# ---- hang-up from the callee ------------------------------------------------------------
run_case callee "--audio-hz 600 --duration 2" "--audio-hz 400 --timeout 20"
rc_is callee.alice 0; rc_is callee.bob 0
field_is callee.alice .end_reason user_hangup; field_is callee.alice .remote_ended true
field_is callee.bob .remote_ended false
hz_near callee.alice 600

# ---- relay only, TURN from /voip/turnServer ------------------------------------------------
if [[ "${MXRTC_SYNAPSE_TURN:-0}" == 1 ]]; then
  run_case relay "--relay-only --audio-hz 550" "--relay-only --audio-hz 350 --duration 3 --timeout 20"
  rc_is relay.alice 0; rc_is relay.bob 0
  hz_near relay.alice 550; hz_near relay.bob 350
  grep -q "TURN: [1-9][0-9]* URI(s) from /voip/turnServer" "$WORK/relay.alice.err" &&
    ok "relay.alice got TURN from /voip/turnServer" || bad "relay.alice got no TURN from /voip/turnServer"
else
  bad "relay: this Synapse has no TURN (start it with MXRTC_COTURN_ENV: the synapse fixture does)"
fi

# ---- usage errors -------------------------------------------------------------------------------
"$MXRTC" call >/dev/null 2>&1; [[ $? == 2 ]] && ok "call without ROOM exits 2" || bad "call without ROOM"
"$MXRTC" answer --bogus >/dev/null 2>&1; [[ $? == 2 ]] && ok "unknown option exits 2" || bad "unknown option"

echo "$pass passed, $fail failed"
((fail == 0))
