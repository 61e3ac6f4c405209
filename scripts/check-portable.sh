#!/usr/bin/env bash
# The C kernels compile without their x86-64 paths and without OpenMP (run by `make test`, ~2 s).
#  1. x86-64 with -DGRAFT_PORTABLE_ONLY -DGRAFT_NO_OPENMP: the objects hold no AVX/AVX-512 register
#     and call no OpenMP runtime, so nothing but the portable C is left.
#  2. arm64 Linux (clang's AArch64 backend, Debian's libc6-dev-arm64-cross headers, installed by
#     scripts/setup.sh), with OpenMP (libgomp exists there) and without it (what macOS compiles).
# Warnings are errors in every build. Usage: scripts/check-portable.sh
# (The greps read all their input: with pipefail, `grep -q` would stop early, SIGPIPE objdump and pass.)
set -euo pipefail
cd "$(dirname "$0")/.."
CC="${CC:-clang}"
SRC=Sources/CGraftKernels
OUT="$(mktemp -d)"
trap 'rm -rf "$OUT"' EXIT
FLAGS=(-std=gnu11 -O2 -Wall -Wextra -Werror -I"$SRC/include")

for f in "$SRC"/*.c; do
  obj="$OUT/$(basename "$f").o"
  "$CC" "${FLAGS[@]}" -DGRAFT_PORTABLE_ONLY -DGRAFT_NO_OPENMP -c "$f" -o "$obj"
  if objdump -d "$obj" | grep -E '%[xyz]mm(1[6-9]|2[0-9]|3[01])|%[yz]mm' >/dev/null; then
    echo "check-portable: $f still has AVX/AVX-512 code with GRAFT_PORTABLE_ONLY" >&2; exit 1
  fi
  if nm -u "$obj" | grep -E 'GOMP_|omp_' >/dev/null; then
    echo "check-portable: $f still calls the OpenMP runtime with GRAFT_NO_OPENMP" >&2; exit 1
  fi
done

SYSROOT=/usr/aarch64-linux-gnu/include
[ -d "$SYSROOT" ] || { echo "check-portable: no $SYSROOT (apt-get install libc6-dev-arm64-cross; make setup does)" >&2; exit 1; }
for openmp in "" -DGRAFT_NO_OPENMP; do
  for f in "$SRC"/*.c; do
    "$CC" --target=aarch64-linux-gnu -isystem "$SYSROOT" "${FLAGS[@]}" $openmp -c "$f" -o "$OUT/$(basename "$f").arm64.o"
  done
done
echo "check-portable: CGraftKernels compiles for x86-64 without its x86 paths and OpenMP, and for arm64 with and without OpenMP"
