#!/usr/bin/env bash
# Installs what mxrtc needs on Debian 12, idempotently: nothing is fetched when
# every package is already there. Run as root (or with sudo available).
#
#   scripts/install-deps.sh            build + test dependencies (incl. coturn, clang)
#   scripts/install-deps.sh --interop  also what the interop tests need (later issues)
#   scripts/install-deps.sh --bench    --interop's set plus GStreamer's -dev packages
#                                      (bench/webrtcbin_peer.c, bench/run.sh sections 1, 3)
set -euo pipefail

PKGS=(
  # toolchain
  gcc libc6-dev cmake ninja-build pkg-config make git ca-certificates
  # libraries the core links (DESIGN.md: Debian 12 packages only)
  libmbedtls-dev libsrtp2-dev libopus-dev libvpx-dev libusrsctp-dev
  libcjson-dev libjansson-dev
  # tools/ only
  libcurl4-openssl-dev
  # tests, fuzzing, sanitizers
  libcmocka-dev clang libclang-rt-14-dev coturn iproute2 util-linux
  # bench/: callgrind.h for the benchmark programs, callgrind/massif for bench/run.sh
  valgrind
  # coturn.sh (TLS certificate) and the dtls interop test (s_server/s_client)
  openssl
  # tests/synapse/synapse.sh: Synapse itself comes from PyPI into a cached venv
  python3 python3-venv curl
  # tests/tools/test_call_tool.sh: reads the JSON lines of `mxrtc call`/`answer`
  jq
)
if [[ "${1:-}" == "--interop" || "${1:-}" == "--bench" ]]; then
  PKGS+=(chromium)
  # Node.js and npm: whatever provides the commands will do. These machines
  # carry NodeSource's nodejs, which bundles npm and conflicts with Debian's
  # npm package (apt refuses: "nodejs : Conflicts: npm").
  command -v node >/dev/null 2>&1 || PKGS+=(nodejs)
  command -v npm >/dev/null 2>&1 || PKGS+=(npm)
  # tests/dtls/capture: GStreamer webrtcbin (Nheko's engine) as a live peer
  PKGS+=(gstreamer1.0-plugins-bad gstreamer1.0-plugins-good gstreamer1.0-nice python3-gst-1.0 gir1.2-gst-plugins-bad-1.0)
  # tests/dtls/capture: Firefox ESR (headless) as a live peer
  PKGS+=(firefox-esr)
fi
if [[ "${1:-}" == "--bench" ]]; then
  # bench/webrtcbin_peer.c: GStreamer's public API (gst, gst-sdp, gst-webrtc)
  # and the plugins of its pipelines (audiotestsrc/opus: -base; vpx: -good)
  PKGS+=(libgstreamer1.0-dev libgstreamer-plugins-base1.0-dev libgstreamer-plugins-bad1.0-dev
         gstreamer1.0-plugins-base)
fi

missing=()
for p in "${PKGS[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if ((${#missing[@]} == 0)); then
  echo "install-deps: all ${#PKGS[@]} packages present"
  exit 0
fi

SUDO=""
if [[ $(id -u) -ne 0 ]]; then
  command -v sudo >/dev/null || { echo "install-deps: need root or sudo to install: ${missing[*]}" >&2; exit 1; }
  SUDO="sudo"
fi
echo "install-deps: installing ${missing[*]}"
$SUDO apt-get update -q
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
# coturn's package may start a system-wide turnserver; the tests start their own.
if command -v systemctl >/dev/null 2>&1 && systemctl is-active --quiet coturn 2>/dev/null; then
  $SUDO systemctl stop coturn || true
fi
