#!/bin/sh
# netns.sh PROGRAM [ARGS...]: runs PROGRAM inside a new network namespace
# holding only `lo` (up, multicast on, 224.0.0.0/4 routed to it), so that
# multicast from a test cannot reach the machine's real interfaces
# (TESTING.md). Needs root and unshare(1); exits 77 (CTest: skipped) without.
if [ "$(id -u)" != 0 ] || ! command -v unshare >/dev/null 2>&1 || ! command -v ip >/dev/null 2>&1; then
  echo "netns.sh: needs root, unshare and ip: skipped" >&2
  exit 77
fi
exec unshare -n sh -c '
  ip link set lo up && ip link set lo multicast on && ip route add 224.0.0.0/4 dev lo || exit 77
  MXRTC_IN_NETNS=1 exec "$@"' netns "$@"
