// FMA throughput probe for bench/kernels: tells what the cores deliver right
// now (clock and neighbours vary on shared machines), so GFLOP/s rows can be
// read as a fraction of it.
#ifndef CGRAFTBENCHPEAK_H
#define CGRAFTBENCHPEAK_H
/// Runs `iterations` rounds of 12 independent 16-wide FMAs (AVX-512) on the
/// calling thread: 384 flops per round. Returns a value that depends on them.
float graft_bench_fma_probe(long iterations);
/// 1 when the CPU has AVX-512F.
int graft_bench_has_avx512(void);
#endif
