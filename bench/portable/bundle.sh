#!/usr/bin/env bash
# Packs bench binaries with every shared library they load (Swift runtime, oneDNN, libgomp, ...; not glibc) into one
# relocatable tar.xz, so the benchmarks run on another x86-64 Linux machine that has no Swift (a lent AMX Xeon, say;
# bench/RESULTS.md "Session 17"). Unpack anywhere: `tar xJf graft-bench.tar.xz -C DIR`, then run DIR/bin/NAME (a
# wrapper that points the loader at DIR/lib); the benches' run.sh scripts take it as GRAFT_BENCH_BIN.
# Usage: bash bench/portable/bundle.sh OUT.tar.xz [product ...]   (default: graft-bench-vision graft-bench-encoder;
#        `graft` packs the CLI itself, for end-to-end runs such as bench/extract/precision.sh)
# Env: SCRATCH (.build, the build folder `make build` uses).
set -euo pipefail
cd "$(dirname "$0")/../.."
OUT="$(realpath -m "${1:?usage: bundle.sh OUT.tar.xz [product ...]}")"; shift
PRODUCTS=("$@"); [ ${#PRODUCTS[@]} -eq 0 ] && PRODUCTS=(graft-bench-vision graft-bench-encoder)
SCRATCH="${SCRATCH:-.build}"
STAGE="$(mktemp -d)"; trap 'rm -rf "$STAGE"' EXIT
mkdir -p "$STAGE/bin" "$STAGE/lib"
for p in "${PRODUCTS[@]}"; do
    # The root build's manifest hides the bench targets from a single-product build: drop it first.
    rm -f "$SCRATCH/release.yaml"
    if [ "$p" = graft ]; then PKG=.; else PKG=bench; fi
    swift build --package-path "$PKG" -c release -Xswiftc -enable-testing --scratch-path "$SCRATCH" --product "$p" >&2
    cp "$SCRATCH/release/$p" "$STAGE/lib/$p.real"
    # Every library the loader resolves, except the C library's own parts (the target machine has its own glibc).
    ldd "$STAGE/lib/$p.real" | awk '$3 ~ /^\// { print $3 }' | while read -r lib; do
        case "$(basename "$lib")" in libc.so.*|libm.so.*|libresolv.so.*|libpthread.so.*|libdl.so.*|librt.so.*|ld-linux*) ;;
            *) cp -Ln "$lib" "$STAGE/lib/" ;;
        esac
    done
    printf '#!/bin/sh\nd="$(cd "$(dirname "$0")/.." && pwd)"\nLD_LIBRARY_PATH="$d/lib" exec "$d/lib/%s.real" "$@"\n' "$p" > "$STAGE/bin/$p"
    chmod +x "$STAGE/bin/$p"
done
# Symbols only help a debugger: stripped, three products fit a 40 MB bundle (61 MB unstripped).
strip --strip-unneeded "$STAGE"/lib/*
tar cf - -C "$STAGE" bin lib | xz -T0 -6 > "$OUT"
echo "$OUT: $(du -h "$OUT" | cut -f1), $(ls "$STAGE/lib" | wc -l) files in lib/" >&2
