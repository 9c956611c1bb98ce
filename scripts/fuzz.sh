#!/usr/bin/env bash
# Builds the libFuzzer targets with clang and runs each for SECONDS (default 60)
# starting from its seed corpus. New findings land in fuzz/findings/<target>/.
#   scripts/fuzz.sh [SECONDS] [target ...]
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
SECS=${1:-60}; shift || true
BUILD=build-fuzz
CC=clang cmake -S . -B "$BUILD" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
      -DMXRTC_BUILD_FUZZERS=ON -DMXRTC_BUILD_TESTS=OFF -DMXRTC_BUILD_TOOLS=ON -DMXRTC_BUILD_SHARED=OFF
cmake --build "$BUILD"
targets=("$@")
if ((${#targets[@]} == 0)); then
  for f in fuzz/fuzz_*.c; do targets+=("$(basename "$f" .c)"); done
fi
for t in "${targets[@]}"; do
  mkdir -p "fuzz/findings/$t" "$BUILD/corpus/$t"
  echo "== $t ($SECS s)"
  "$BUILD/fuzz/$t" -max_total_time="$SECS" -print_final_stats=1 \
      -artifact_prefix="fuzz/findings/$t/" "$BUILD/corpus/$t" "fuzz/corpus/$t" 2>&1 | tail -12
done
