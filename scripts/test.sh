#!/usr/bin/env bash
# Installs what is needed, builds mxrtc with AddressSanitizer + UBSan and
# warnings as errors, and runs every test (ctest). Extra arguments go to ctest,
# e.g. scripts/test.sh -L stun
set -euo pipefail
cd "$(dirname "$0")/.."
# --interop: chromium, node and npm for tests/interop (label interop).
scripts/install-deps.sh --interop
# The interop harness's one npm dependency (playwright-core, pinned by the
# lockfile; it never downloads a browser: the tests use Debian's chromium).
# Skipped when node_modules was installed from this very lockfile.
LOCK_SUM=$(sha256sum tests/interop/package-lock.json | cut -d' ' -f1)
if [[ "$(cat tests/interop/node_modules/.mxrtc-lock.sha256 2>/dev/null)" != "$LOCK_SUM" ]]; then
  PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --prefix tests/interop --no-audit --no-fund
  echo "$LOCK_SUM" > tests/interop/node_modules/.mxrtc-lock.sha256
fi
BUILD=${MXRTC_BUILD_DIR:-build-test}
cmake -S . -B "$BUILD" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
      -DMXRTC_SANITIZE=ON -DMXRTC_WERROR=ON -DMXRTC_BUILD_TESTS=ON
cmake --build "$BUILD"
cd "$BUILD"
ctest --output-on-failure -j"$(nproc)" "$@"
