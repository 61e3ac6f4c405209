#!/usr/bin/env bash
# Fuzzes the GraftWeights readers with libFuzzer for a bounded time (not part of CI).
#   bash bench/fuzz/run.sh [seconds-per-target] [targets...]   (defaults: 60; pickle safetensors all)
# Each target is the library's sources plus FuzzEntry.swift, built with -sanitize=fuzzer,address.
# Inputs are capped at 64 KiB and any single allocation over 16 MB is reported as a crash,
# which checks "never allocate more than the file's size plus a small constant".
# Seeds come from Tests/Fixtures/weights; crashes land in .build-fuzz/crash-*.
set -euo pipefail
cd "$(dirname "$0")/../.."
SECS="${1:-60}"; shift || true
TARGETS=("${@:-pickle safetensors all}"); TARGETS=(${TARGETS[*]})
OUT=.build-fuzz
mkdir -p "$OUT"
mapfile -t SOURCES < <(find Sources/GraftWeights -name '*.swift' | sort)
FIX=Tests/Fixtures/weights

for target in "${TARGETS[@]}"; do
  flag="FUZZ_$(echo "$target" | tr a-z A-Z)"
  bin="$OUT/fuzz-$target"
  echo "== building $bin" >&2
  swiftc -sanitize=fuzzer,address -parse-as-library -O -module-name GraftWeightsFuzz -D "$flag" \
    "${SOURCES[@]}" bench/fuzz/FuzzEntry.swift -o "$bin"
  corpus="$OUT/corpus-$target"
  mkdir -p "$corpus"
  case "$target" in
    pickle) cp $FIX/*.pkl $FIX/*legacy.pth "$corpus"/ ;;
    safetensors) cp $FIX/*.safetensors "$corpus"/ ;;
    *) for f in $FIX/*; do [ "$(stat -c %s "$f")" -le 65536 ] && cp "$f" "$corpus"/; done ;;
  esac
  echo "== fuzzing $target for ${SECS}s" >&2
  "$bin" -max_total_time="$SECS" -max_len=65536 -malloc_limit_mb=16 -rss_limit_mb=2048 -timeout=5 \
    -artifact_prefix="$OUT/crash-$target-" -print_final_stats=1 "$corpus" 2>&1 \
    | grep -E "^#[0-9]+ *(DONE|INITED)|stat::number_of_executed_units|stat::peak_rss_mb|ERROR|SUMMARY|crash-" || true
done
ls "$OUT"/crash-* 2>/dev/null && { echo "fuzz: crashes found" >&2; exit 1; }
echo "fuzz: no crashes" >&2
