#!/usr/bin/env bash
# Installs what is needed, builds mxrtc with AddressSanitizer + UBSan and
# warnings as errors, and runs every test (ctest). Extra arguments go to ctest,
# e.g. scripts/test.sh -L stun
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
BUILD=${MXRTC_BUILD_DIR:-build-test}
cmake -S . -B "$BUILD" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
      -DMXRTC_SANITIZE=ON -DMXRTC_WERROR=ON -DMXRTC_BUILD_TESTS=ON
cmake --build "$BUILD"
cd "$BUILD"
ctest --output-on-failure -j"$(nproc)" "$@"
