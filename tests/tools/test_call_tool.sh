#!/usr/bin/env bash
# test_call_tool.sh MXRTC [blip]: `mxrtc call` (alice) against `mxrtc answer` (bob)
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
#   hold       alice holds, resumes, mutes and hangs up from stdin (--commands)
#   sigint     SIGINT to alice: she hangs up, both exit 0
#   noanswer   bob lets it ring: alice's invite times out (exit 1)
#   anyroom    `answer` without ROOM joins the room it is invited to and sees the call ring
#   blip       (only with the argument `blip`, ~25 s: its own CTest) alice drops
#              the network for 14 s: both restart ICE and hear each other again
#   token      (in every case) bob logs in with an access token, alice with a password
#
# Real processes and real time (like the interop tests): each side is bounded
# by `timeout`; exit 77 only when the fixture's env file is missing.
set -uo pipefail
trap "" PIPE   # a write to a side that has exited fails instead of killing the script
MXRTC=$1
if [[ -z "${MXRTC_SYNAPSE_ENV:-}" || ! -f "$MXRTC_SYNAPSE_ENV" ]]; then
  echo "SKIP: no Synapse env file (MXRTC_SYNAPSE_ENV=${MXRTC_SYNAPSE_ENV:-}); run through ctest (fixture synapse)"
  exit 77
fi
command -v jq >/dev/null || { echo "FAILED: jq not found (scripts/install-deps.sh)"; exit 1; }
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

# wait_line FILE PATTERN: until FILE has a line matching PATTERN (bounded: 20 s).
wait_line() {
  for _ in $(seq 1 400); do
    grep -q "$2" "$1" 2>/dev/null && return 0
    sleep 0.05
  done
  return 1
}

# start_case NAME "BOB ARGS" "ALICE ARGS": as run_case, but alice runs in the
# background too (pid in ALICE, stdin from the fifo $WORK/NAME.in when ALICE
# ARGS has --commands); finish_case NAME waits for both.
start_case() {
  local name=$1 bob_args=$2 alice_args=$3 room
  room=$(new_room) || { bad "$name: createRoom"; return 1; }
  echo "== $name in $room"
  env -u MXRTC_PASSWORD MXRTC_HOMESERVER="$MXRTC_SYNAPSE_URL" MXRTC_USER="$MXRTC_SYNAPSE_BOB_USER" \
    MXRTC_ACCESS_TOKEN="$MXRTC_SYNAPSE_BOB_TOKEN" \
    timeout -s INT -k 5 40 "$MXRTC" answer "$room" --json $bob_args \
    >"$WORK/$name.bob.out" 2>"$WORK/$name.bob.err" &
  BOB=$!
  PIDS+=("$BOB")
  wait_line "$WORK/$name.bob.out" '"type":"ready"' || bad "$name: bob not ready"
  mkfifo "$WORK/$name.in"
  env -u MXRTC_ACCESS_TOKEN MXRTC_HOMESERVER="$MXRTC_SYNAPSE_URL" MXRTC_USER=alice \
    MXRTC_PASSWORD="$MXRTC_SYNAPSE_ALICE_PASSWORD" \
    timeout -s INT -k 5 40 "$MXRTC" call "$room" --json $alice_args <"$WORK/$name.in" \
    >"$WORK/$name.alice.out" 2>"$WORK/$name.alice.err" &
  ALICE=$!
  PIDS+=("$ALICE")
  exec 7>"$WORK/$name.in"   # alice's stdin stays open until finish_case
}
finish_case() {
  local name=$1
  wait "$ALICE"; echo $? > "$WORK/$name.alice.rc"
  exec 7>&-
  wait "$BOB"; echo $? > "$WORK/$name.bob.rc"
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

# ---- blip: a network outage long enough for an ICE restart (its own CTest) ------------------------
if [[ "${2:-}" == blip ]]; then
  # mxrtc calls a path disconnected after 10 s without consent answers (RFC
  # 7675) and mxrtc_calls restarts ICE 2 s later: a 14 s outage.
  run_case blip "--audio-hz 640" "--audio-hz 420 --duration 22 --drop-network-at 1 --drop-network-for 14 --timeout 20"
  rc_is blip.alice 0; rc_is blip.bob 0
  has_line blip.alice '"type":"ice_restart"'; has_line blip.bob '"type":"ice_restart"'
  field_is blip.alice .audio_after_restart true; field_is blip.bob .audio_after_restart true
  grep -q "network back ([1-9][0-9]* datagrams dropped" "$WORK/blip.alice.err" &&
    ok "blip.alice dropped datagrams" || bad "blip.alice dropped nothing"
  echo "$pass passed, $fail failed"
  ((fail == 0))
  exit
fi

# ---- relay only, TURN from /voip/turnServer ------------------------------------------------
# First: every call takes TURN allocations (UDP and TCP), released at
# hang-up (Refresh LIFETIME 0, RFC 8656 §7.2) before the tool exits; the
# fixture's REST coturn has 40 relay ports.
if [[ "${MXRTC_SYNAPSE_TURN:-0}" == 1 ]]; then
  run_case relay "--relay-only --audio-hz 550" "--relay-only --audio-hz 350 --duration 3 --timeout 20"
  rc_is relay.alice 0; rc_is relay.bob 0
  hz_near relay.alice 550; hz_near relay.bob 350
  grep -q "TURN: [1-9][0-9]* URI(s) from /voip/turnServer" "$WORK/relay.alice.err" &&
    ok "relay.alice got TURN from /voip/turnServer" || bad "relay.alice got no TURN from /voip/turnServer"
  for who in alice bob; do
    grep -q "TURN allocations not all released" "$WORK/relay.$who.err" &&
      bad "relay.$who: TURN allocations not released before exiting" || ok "relay.$who released its TURN allocations"
  done
else
  bad "relay: this Synapse has no TURN (start it with MXRTC_COTURN_ENV: the synapse fixture does)"
fi

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

# ---- hold, mute and hang-up from stdin (--commands) ---------------------------------------------
start_case hold "--audio-hz 620" "--audio-hz 380 --commands --timeout 20"
wait_line "$WORK/hold.alice.out" '"state":"connected"' && wait_line "$WORK/hold.alice.err" 'received tone' &&
  echo '{"cmd":"hold","on":true}' >&7
wait_line "$WORK/hold.bob.out" '"remote_hold":true' && echo '{"cmd":"hold","on":false}' >&7
wait_line "$WORK/hold.bob.out" '"remote_hold":false' && echo '{"cmd":"mute","audio":true,"video":false}' >&7
wait_line "$WORK/hold.bob.out" '"audio_muted":true' && echo '{"cmd":"mute","audio":false,"video":false}' >&7
wait_line "$WORK/hold.bob.out" '"audio_muted":false,"video_muted":true}$' && sleep 1 && echo '{"cmd":"hangup"}' >&7
finish_case hold
rc_is hold.alice 0; rc_is hold.bob 0
has_line hold.alice '"local_hold":true,"remote_hold":false'
has_line hold.bob '"local_hold":false,"remote_hold":true'
field_is hold.bob .audio_after_resume true
field_is hold.alice .end_reason user_hangup; field_is hold.bob .remote_ended true

# ---- Ctrl-C: the caller hangs up cleanly ------------------------------------------------------------
start_case sigint "" "--timeout 20"
wait_line "$WORK/sigint.alice.out" '"state":"connected"' && kill -INT "$ALICE"
finish_case sigint
rc_is sigint.alice 0; rc_is sigint.bob 0
field_is sigint.alice .end_reason user_hangup; field_is sigint.bob .remote_ended true

# ---- nobody answers: the invite times out ------------------------------------------------------------
run_case noanswer "--no-answer" "--timeout 3"
rc_is noanswer.alice 1
field_is noanswer.alice .end_reason invite_timeout
has_line noanswer.bob '"type":"incoming"'

# ---- answer without ROOM: bob joins the room he is invited to and sees the call --------------------
# (--no-answer: other tests' calls may still ring in rooms bob shares with
# alice on this Synapse, and without ROOM the first that rings is taken.)
echo "== anyroom"
env -u MXRTC_PASSWORD MXRTC_HOMESERVER="$MXRTC_SYNAPSE_URL" MXRTC_USER="$MXRTC_SYNAPSE_BOB_USER" \
  MXRTC_ACCESS_TOKEN="$MXRTC_SYNAPSE_BOB_TOKEN" timeout -s INT -k 5 40 "$MXRTC" answer --json --no-answer \
  --timeout 6 >"$WORK/anyroom.bob.out" 2>"$WORK/anyroom.bob.err" &
BOB=$!
PIDS+=("$BOB")
wait_line "$WORK/anyroom.bob.out" '"type":"ready"' || bad "anyroom: bob not ready"
if room=$(new_room); then
  env -u MXRTC_ACCESS_TOKEN MXRTC_HOMESERVER="$MXRTC_SYNAPSE_URL" MXRTC_USER=alice \
    MXRTC_PASSWORD="$MXRTC_SYNAPSE_ALICE_PASSWORD" timeout -s INT -k 5 40 "$MXRTC" call "$room" --json \
    --timeout 4 >"$WORK/anyroom.alice.out" 2>"$WORK/anyroom.alice.err"
else
  bad "anyroom: createRoom"
fi
wait "$BOB"
cat "$WORK/anyroom.alice.out" "$WORK/anyroom.bob.out"
grep -q "invited to .*: join done" "$WORK/anyroom.bob.err" && ok "anyroom.bob joined" || bad "anyroom.bob did not join"
id=$(jq -r 'select(.type == "invite_sent") | .call_id' "$WORK/anyroom.alice.out" 2>/dev/null)
[[ -n "$id" && -n $(jq -c --arg id "$id" 'select(.type == "incoming" and .call_id == $id)' "$WORK/anyroom.bob.out") ]] &&
  ok "anyroom.bob saw alice's call ring" || bad "anyroom.bob did not see alice's call"

# ---- usage errors -------------------------------------------------------------------------------
"$MXRTC" call >/dev/null 2>&1; [[ $? == 2 ]] && ok "call without ROOM exits 2" || bad "call without ROOM"
"$MXRTC" answer --bogus >/dev/null 2>&1; [[ $? == 2 ]] && ok "unknown option exits 2" || bad "unknown option"

echo "$pass passed, $fail failed"
((fail == 0))
