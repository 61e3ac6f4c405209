// Helpers shared by the C files of CGraftKernels (not part of the module's API).
#ifndef CGRAFTKERNELS_INTERNAL_H
#define CGRAFTKERNELS_INTERNAL_H
#include <stdint.h>

/// 1 where the x86-64 paths (per-ISA clones, AVX-512 micro-kernels) compile; elsewhere (arm64) and with
/// -DGRAFT_PORTABLE_ONLY (scripts/check-portable.sh) only the portable C does.
#if defined(__x86_64__) && !defined(GRAFT_PORTABLE_ONLY)
#define GRAFT_X86_64 1
#else
#define GRAFT_X86_64 0
#endif

/// 1 where libgomp (oneDNN's OpenMP runtime on Linux) is linked; elsewhere, and with -DGRAFT_NO_OPENMP,
/// the parallel-for runs every chunk on the calling thread.
#if defined(__linux__) && !defined(GRAFT_NO_OPENMP)
#define GRAFT_OPENMP 1
#else
#define GRAFT_OPENMP 0
#endif

#if GRAFT_X86_64
/// Compiled three times; the loader picks the best the CPU supports.
#define GRAFT_CLONES __attribute__((target_clones("avx512f", "avx2", "default")))
/// The same with FMA in the AVX2 clone, for polynomial-heavy loops ("avx2" alone has none; "arch=x86-64-v3"
/// dispatches on features, so AMD CPUs get it too).
#define GRAFT_CLONES_FMA __attribute__((target_clones("avx512f", "arch=x86-64-v3", "default")))
#else
/// One portable build; the compiler vectorises for the target's baseline (NEON on arm64).
#define GRAFT_CLONES
#define GRAFT_CLONES_FMA
#endif

/// One row of graft_quantize_rows_u8 (quantize.c): its scale, zero point and u8 codes.
void graft_quantize_row_u8(const float *row, int64_t cols, float *scale, float *zero_point, uint8_t *out);

/// Elements per chunk below which splitting across threads costs more than it saves.
#define GRAFT_GRAIN ((int64_t)1 << 15)

typedef void (*graft_chunk_body)(void *context, int64_t chunk, int64_t begin, int64_t end);
/// How many chunks of at least min_chunk items [0, n) splits into (<= threads).
int64_t graft_chunk_count(int64_t n, int64_t min_chunk);
/// Calls body for chunk c = 0..<chunks covering [n*c/chunks, n*(c+1)/chunks).
void graft_parallel_chunks(int64_t n, int64_t chunks, void *context, graft_chunk_body body);
#endif
