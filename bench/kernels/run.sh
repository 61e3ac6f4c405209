#!/usr/bin/env bash
# Kernel throughput, Graft vs PyTorch, in one run (issue 2).
# Usage: bash bench/kernels/run.sh
#   GRAFT_THREADS=N   threads for both sides (default: all cores)
#   BENCH_REPEATS=N   timed calls per row (median reported; default 15)
#   BENCH_PREFIX=...  command prefix for both runs, e.g. "chrt -f 10" on a machine
#                     other jobs keep busy (OpenMP barriers stall when a thread is preempted)
set -euo pipefail
cd "$(dirname "$0")/../.."
THREADS="${GRAFT_THREADS:-$(nproc)}"
PYTHON="${PYTHON:-/root/.venvs/fixtures/bin/python}"
SCRATCH="${SCRATCH:-.build-kernels}"

swift build --package-path bench -c release --scratch-path "$SCRATCH" --product graft-bench-kernels >&2
BIN="$(swift build --package-path bench -c release --scratch-path "$SCRATCH" --show-bin-path)/graft-bench-kernels"

PREFIX=(${BENCH_PREFIX:-})
GRAFT_OUT="$(GRAFT_THREADS="$THREADS" "${PREFIX[@]}" "$BIN")"
PEER_OUT="$("${PREFIX[@]}" "$PYTHON" bench/kernels/peer.py "$THREADS")"

"$PYTHON" - "$GRAFT_OUT" "$PEER_OUT" <<'PY'
import sys
def rows(text):
    out, notes = {}, []
    for line in text.splitlines():
        if line.startswith("#"):
            notes.append(line[2:])
        elif line.startswith("row\t"):
            parts = line.split("\t")
            out[parts[1]] = (float(parts[2]), parts[3] if len(parts) > 3 else "")
    return out, notes
graft, gnotes = rows(sys.argv[1])
peer, pnotes = rows(sys.argv[2])
print("Graft: " + "; ".join(gnotes) + " | PyTorch: " + "; ".join(pnotes))
print(f"| {'op':<22} | {'Graft GFLOP/s':>13} | {'PyTorch GFLOP/s':>15} | {'ratio':>5} | Graft impl |")
print(f"|{'-'*24}|{'-'*15}|{'-'*17}|{'-'*7}|------------|")
for name, (g, impl) in graft.items():
    p = peer.get(name, (float("nan"), ""))[0]
    print(f"| {name:<22} | {g:>13.1f} | {p:>15.1f} | {g / p:>5.2f} | {impl} |")
PY
