#!/usr/bin/env bash
# synapse.sh: a local Synapse homeserver for the Matrix tests, on 127.0.0.1 only.
#
#   tests/synapse/synapse.sh start [DIR]  install (cached), configure, start, wait,
#                                         register alice and bob, write DIR/synapse.env
#   tests/synapse/synapse.sh env   [DIR]  print the export lines again
#   tests/synapse/synapse.sh stop  [DIR]  stop what `start` started (SIGTERM, SIGKILL after 15 s)
#
# DIR holds everything (homeserver.yaml, signing key, SQLite database, media
# store, logs, pid file); default: $MXRTC_SYNAPSE_DIR or /tmp/mxrtc-synapse.
#
# Synapse comes from PyPI, pinned (SYNAPSE_VERSION), into a virtual
# environment cached across runs in $MXRTC_SYNAPSE_VENV, default
# ${MXRTC_CACHE:-$HOME/.cache/mxrtc}/synapse-venv; it is reused when it
# already holds the pinned version, so only the first run downloads.
#
# TURN: with MXRTC_COTURN_ENV pointing at tests/turn/coturn.sh's env file,
# turn_uris and turn_shared_secret name its `rest` instance (use-auth-secret),
# so /voip/turnServer hands out credentials that coturn accepts. Without it
# Synapse has no TURN and /voip/turnServer answers {}.
#
# Registration is closed (enable_registration: false); the users are made
# through the shared-secret admin API (/_synapse/admin/v1/register, HMAC-SHA1
# over nonce\0user\0password\0notadmin), which only this script knows the
# secret for. Nothing federates: one client listener, no federation resource,
# no key servers.
set -euo pipefail

CMD=${1:-}
DIR=${2:-${MXRTC_SYNAPSE_DIR:-/tmp/mxrtc-synapse}}
SYNAPSE_VERSION=1.163.2
SERVER_NAME=mxrtc.test
CACHE=${MXRTC_CACHE:-$HOME/.cache/mxrtc}
VENV=${MXRTC_SYNAPSE_VENV:-$CACHE/synapse-venv}
PYTHON=${MXRTC_PYTHON:-python3}
USERS=(alice bob)

die() { echo "synapse.sh: $*" >&2; exit 1; }

# A pid is ours only if it is a live Synapse started with this DIR's config
# (pid files can be stale and pids reused: never signal anything else).
is_our_synapse() {
  local pid=$1 state
  [[ -n "$pid" && -r /proc/$pid/cmdline ]] || return 1
  state=$(awk '{print $3}' /proc/$pid/stat 2>/dev/null || echo Z)
  [[ "$state" != Z ]] || return 1
  tr '\0' ' ' < /proc/$pid/cmdline 2>/dev/null | grep -qF -- "synapse.app.homeserver -c $DIR/homeserver.yaml"
}

port_busy() {   # port_busy PORT: 0 if something listens on it (TCP)
  [[ -n "$(ss -Hltn "sport = :$1" 2>/dev/null)" ]]
}

do_stop() {
  local pidfile="$DIR/synapse.pid" pid
  [[ -f "$pidfile" ]] || return 0
  pid=$(cat "$pidfile")
  if is_our_synapse "$pid"; then
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 1 150); do   # bounded: 15 s
      is_our_synapse "$pid" || break
      sleep 0.1
    done
    if is_our_synapse "$pid"; then
      echo "synapse.sh: pid $pid ignored SIGTERM for 15 s, sending SIGKILL" >&2
      kill -KILL "$pid" 2>/dev/null || true
      for _ in $(seq 1 50); do
        is_our_synapse "$pid" || break
        sleep 0.1
      done
    fi
    is_our_synapse "$pid" && die "pid $pid did not exit"
  fi
  rm -f "$pidfile"
}

installed_version() {
  "$VENV/bin/python" - <<'EOF' 2>/dev/null || true
import importlib.metadata as m
print(m.version("matrix-synapse"))
EOF
}

# Installs the pinned Synapse into the cached venv unless it is there already.
# flock: two runs sharing the cache must not install over each other.
ensure_venv() {
  mkdir -p "$(dirname "$VENV")"
  exec 9>"$VENV.lock"
  flock -w 900 9 || die "could not lock $VENV.lock within 15 minutes"
  if [[ -x "$VENV/bin/python" && "$(installed_version)" == "$SYNAPSE_VERSION" ]]; then
    exec 9>&-
    return 0
  fi
  command -v "$PYTHON" >/dev/null || die "$PYTHON not found (scripts/install-deps.sh)"
  echo "synapse.sh: installing matrix-synapse==$SYNAPSE_VERSION into $VENV" >&2
  rm -rf "$VENV"
  "$PYTHON" -m venv "$VENV" || die "python3 -m venv failed (apt-get install python3-venv)"
  "$VENV/bin/pip" install -q --disable-pip-version-check "matrix-synapse==$SYNAPSE_VERSION" \
    || { rm -rf "$VENV"; die "pip install matrix-synapse==$SYNAPSE_VERSION failed"; }
  [[ "$(installed_version)" == "$SYNAPSE_VERSION" ]] || die "venv does not hold $SYNAPSE_VERSION"
  exec 9>&-
}

# Reads KEY from the coturn env file (export KEY=VALUE lines).
coturn_get() {
  sed -n "s/^export $1=//p" "$MXRTC_COTURN_ENV" | head -1
}

write_config() {   # write_config PORT
  local port=$1 turn=""
  if [[ -n "${MXRTC_COTURN_ENV:-}" ]]; then
    [[ -f "$MXRTC_COTURN_ENV" ]] || die "MXRTC_COTURN_ENV=$MXRTC_COTURN_ENV: no such file (is coturn started?)"
    local host rport secret
    host=$(coturn_get MXRTC_COTURN_HOST); rport=$(coturn_get MXRTC_COTURN_REST_PORT)
    secret=$(coturn_get MXRTC_COTURN_REST_SECRET)
    [[ -n "$host" && -n "$rport" && -n "$secret" ]] || die "$MXRTC_COTURN_ENV lacks the rest instance"
    turn="turn_uris:
  - \"turn:$host:$rport?transport=udp\"
  - \"turn:$host:$rport?transport=tcp\"
turn_shared_secret: \"$secret\"
turn_user_lifetime: 1h
turn_allow_guests: false"
  fi
  local rs=$(openssl rand -hex 24) ms=$(openssl rand -hex 24) fs=$(openssl rand -hex 24)
  # Generous rate limits: tests send bursts from two users on one address.
  local rc="{per_second: 1000, burst_count: 10000}"
  cat > "$DIR/homeserver.yaml" <<EOF
# generated by tests/synapse/synapse.sh
server_name: "$SERVER_NAME"
public_baseurl: "http://127.0.0.1:$port/"
pid_file: "$DIR/homeserver.pid"
listeners:
  - port: $port
    bind_addresses: ["127.0.0.1"]
    type: http
    tls: false
    x_forwarded: false
    resources:
      - names: [client]
        compress: false
database:
  name: sqlite3
  args:
    database: "$DIR/homeserver.db"
log_config: "$DIR/log.config"
media_store_path: "$DIR/media_store"
signing_key_path: "$DIR/signing.key"
trusted_key_servers: []
suppress_key_server_warning: true
federation_domain_whitelist: []
report_stats: false
enable_registration: false
registration_shared_secret: "$rs"
macaroon_secret_key: "$ms"
form_secret: "$fs"
url_preview_enabled: false
presence:
  enabled: false
rc_message: $rc
rc_registration: $rc
rc_login:
  address: $rc
  account: $rc
  failed_attempts: $rc
rc_joins:
  local: $rc
  remote: $rc
rc_joins_per_room: $rc
rc_invites:
  per_room: $rc
  per_user: $rc
  per_issuer: $rc
rc_3pid_validation: $rc
rc_admin_redaction: $rc
rc_room_creation: $rc
$turn
EOF
  cat > "$DIR/log.config" <<EOF
version: 1
formatters:
  precise:
    format: '%(asctime)s - %(name)s - %(lineno)d - %(levelname)s - %(request)s - %(message)s'
handlers:
  file:
    class: logging.FileHandler
    formatter: precise
    filename: "$DIR/homeserver.log"
    encoding: utf8
root:
  level: INFO
  handlers: [file]
disable_existing_loggers: false
EOF
  echo "$rs" > "$DIR/registration_secret"
  chmod 600 "$DIR/homeserver.yaml" "$DIR/registration_secret"
}

# Registers USERS with the shared-secret admin API and prints
# "user_id password access_token device_id" lines. Python from the venv, so
# no other tool is needed; the secret and passwords never reach the log.
register_users() {   # register_users URL
  "$VENV/bin/python" - "$1" "$DIR/registration_secret" "${USERS[@]}" <<'EOF'
import hashlib, hmac, json, secrets, sys, urllib.request
url, secret_file, users = sys.argv[1], sys.argv[2], sys.argv[3:]
secret = open(secret_file).read().strip().encode()
def call(method, path, body=None):
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url + path, data=data, method=method,
                                 headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=30) as r:
        return json.load(r)
for user in users:
    nonce = call("GET", "/_synapse/admin/v1/register")["nonce"]
    password = secrets.token_hex(16)
    mac = hmac.new(secret, digestmod=hashlib.sha1)
    mac.update(b"\x00".join([nonce.encode(), user.encode(), password.encode(), b"notadmin"]))
    r = call("POST", "/_synapse/admin/v1/register", {
        "nonce": nonce, "username": user, "password": password,
        "admin": False, "mac": mac.hexdigest()})
    print(r["user_id"], password, r["access_token"], r.get("device_id", ""))
EOF
}

do_start() {
  command -v openssl >/dev/null || die "openssl not found (scripts/install-deps.sh)"
  command -v ss >/dev/null || die "ss not found (iproute2)"
  command -v setsid >/dev/null || die "setsid not found (util-linux)"
  command -v curl >/dev/null || die "curl not found (scripts/install-deps.sh)"
  mkdir -p "$DIR"
  do_stop   # a previous run's leftovers
  rm -rf "$DIR/homeserver.db" "$DIR/homeserver.db-"* "$DIR/media_store" "$DIR"/*.log \
         "$DIR/synapse.env" "$DIR/stdout"
  ensure_venv

  local port=18008 tries=0
  while port_busy "$port"; do
    port=$((port + 1)); tries=$((tries + 1))
    ((tries < 100)) || die "no free port between 18008 and $port"
  done
  write_config "$port"
  [[ -f "$DIR/signing.key" ]] || "$VENV/bin/generate_signing_key" -o "$DIR/signing.key" \
    || die "generate_signing_key failed"

  # setsid: out of the caller's process group, so CTest does not wait on or
  # signal it; all streams to files so no pipe is held open.
  setsid "$VENV/bin/python" -m synapse.app.homeserver -c "$DIR/homeserver.yaml" \
    </dev/null >"$DIR/stdout" 2>&1 &
  local pid=$!
  echo "$pid" > "$DIR/synapse.pid"

  # Wait until the client API answers (bounded: 600 polls of 100 ms; a cold
  # start creates the SQLite schema, which takes a few seconds).
  local url="http://127.0.0.1:$port" ok=0
  for _ in $(seq 1 600); do
    if [[ ! -r /proc/$pid/stat || "$(awk '{print $3}' /proc/$pid/stat 2>/dev/null)" == Z ]]; then
      echo "synapse.sh: synapse exited; its output:" >&2
      tail -30 "$DIR/stdout" "$DIR/homeserver.log" >&2 2>/dev/null || true
      rm -f "$DIR/synapse.pid"; exit 1
    fi
    if curl -fsS -m 2 "$url/_matrix/client/versions" >/dev/null 2>&1; then ok=1; break; fi
    sleep 0.1
  done
  ((ok)) || { echo "synapse.sh: no answer on $url within 60 s" >&2; do_stop; exit 1; }
  is_our_synapse "$pid" || { do_stop; die "pid $pid is not synapse"; }

  local regs
  regs=$(register_users "$url") || { do_stop; die "registering ${USERS[*]} failed (see $DIR/homeserver.log)"; }
  {
    echo "export MXRTC_SYNAPSE_DIR=$DIR"
    echo "export MXRTC_SYNAPSE_URL=$url"
    echo "export MXRTC_SYNAPSE_SERVER_NAME=$SERVER_NAME"
    echo "export MXRTC_SYNAPSE_TURN=$([[ -n "${MXRTC_COTURN_ENV:-}" ]] && echo 1 || echo 0)"
    local i=0 uid pw tok dev up
    # shellcheck disable=SC2034
    while read -r uid pw tok dev; do
      up=$(echo "${USERS[$i]}" | tr a-z A-Z)
      echo "export MXRTC_SYNAPSE_${up}_USER=$uid"
      echo "export MXRTC_SYNAPSE_${up}_PASSWORD=$pw"
      echo "export MXRTC_SYNAPSE_${up}_TOKEN=$tok"
      echo "export MXRTC_SYNAPSE_${up}_DEVICE=$dev"
      i=$((i + 1))
    done <<< "$regs"
  } > "$DIR/synapse.env"
  chmod 600 "$DIR/synapse.env"
  [[ $(grep -c '_TOKEN=' "$DIR/synapse.env") == "${#USERS[@]}" ]] || { do_stop; die "registration answered for fewer than ${#USERS[@]} users"; }
  # The env file holds secrets: print it without them.
  sed -E 's/(_PASSWORD|_TOKEN)=.*/\1=<redacted>/' "$DIR/synapse.env"
}

case "$CMD" in
  start) do_start ;;
  stop) do_stop ;;
  env) [[ -f "$DIR/synapse.env" ]] || die "not started ($DIR/synapse.env missing)"; cat "$DIR/synapse.env" ;;
  *) echo "usage: $0 start|stop|env [DIR]" >&2; exit 2 ;;
esac
