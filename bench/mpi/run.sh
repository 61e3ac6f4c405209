#!/usr/bin/env bash
# Multi-rank costs on one machine (issue 17), each configuration right after its peer so load hits
# both alike: allreduce time and bandwidth between 2 ranks (TCP on loopback, what two machines
# use, and shared memory); a data-parallel fine-tuning step of EfficientNet-Lite0 (last 2 stages +
# head, global batch 32) with the allreduce left exposed after backward, buckets overlapped with
# backward (DDP) and not; 1 rank x 2 threads against 2 ranks x 1 thread for fine-tuning and for
# sharded extraction of 256 images.
# Usage: bash bench/mpi/run.sh     Env: BENCH_STEPS (6), BENCH_WARMUP (2), SCRATCH (.build),
#        GRAFT_BENCH_BIN (skip the build, use this binary).
set -euo pipefail
cd "$(dirname "$0")/../.."
SCRATCH="${SCRATCH:-.build}"
if [ -n "${GRAFT_BENCH_BIN:-}" ]; then
    BIN="$GRAFT_BENCH_BIN"
else
    swift build --package-path bench -c release --scratch-path "$SCRATCH" --product graft-bench-mpi >&2
    BIN="$(swift build --package-path bench -c release --scratch-path "$SCRATCH" --show-bin-path)/graft-bench-mpi"
fi
MPI=(mpirun --allow-run-as-root --oversubscribe --mca mpi_yield_when_idle 1)
TCP=(--mca btl tcp,self --mca btl_tcp_if_include lo)
SHM=(--mca btl vader,self)
row() { grep '^row' | cut -f2- ; }

echo "# load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "## allreduce, 2 ranks, TCP on loopback";   GRAFT_THREADS=1 "${MPI[@]}" -np 2 "${TCP[@]}" "$BIN" allreduce | row
echo "## allreduce, 2 ranks, shared memory";     GRAFT_THREADS=1 "${MPI[@]}" -np 2 "${SHM[@]}" "$BIN" allreduce | row
echo "## fine-tuning step, EfficientNet-Lite0, last 2 stages + head, global batch 32"
GRAFT_THREADS=2 "${MPI[@]}" --bind-to none -np 1 "$BIN" finetune efficientnet-lite0 2 | row
GRAFT_THREADS=1 "${MPI[@]}" -np 2 "${TCP[@]}" "$BIN" finetune efficientnet-lite0 2 | row
BENCH_OVERLAP=0 GRAFT_THREADS=1 "${MPI[@]}" -np 2 "${TCP[@]}" "$BIN" finetune efficientnet-lite0 2 | row
echo "## fine-tuning step, EfficientNet-Lite0 all trainable (frozen batch norm statistics not used: BN trains per rank)"
GRAFT_THREADS=2 "${MPI[@]}" --bind-to none -np 1 "$BIN" finetune efficientnet-lite0 all | row
GRAFT_THREADS=1 "${MPI[@]}" -np 2 "${TCP[@]}" "$BIN" finetune efficientnet-lite0 all | row
BENCH_OVERLAP=0 GRAFT_THREADS=1 "${MPI[@]}" -np 2 "${TCP[@]}" "$BIN" finetune efficientnet-lite0 all | row
echo "## extraction, EfficientNet-Lite0 penultimate, 256 images 64x64 -> 224"
GRAFT_THREADS=2 "${MPI[@]}" --bind-to none -np 1 "$BIN" extract efficientnet-lite0 256 | row
GRAFT_THREADS=1 "${MPI[@]}" -np 2 "${TCP[@]}" "$BIN" extract efficientnet-lite0 256 | row
echo "# load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
