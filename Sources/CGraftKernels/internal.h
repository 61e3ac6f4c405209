// Helpers shared by the C files of CGraftKernels (not part of the module's API).
#ifndef CGRAFTKERNELS_INTERNAL_H
#define CGRAFTKERNELS_INTERNAL_H
#include <stdint.h>
#include <math.h>
#include <string.h>

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

#if GRAFT_X86_64
#include <immintrin.h>
#define INLINE __attribute__((always_inline)) inline
/// Functions for AVX2 + FMA CPUs, picked at run time by the caller (inverted_residual.c, attention.c).
#define AVX2 __attribute__((target("avx2,fma")))

/// Lanes below `n` (clamped to 0...8) of an 8-lane mask.
static INLINE AVX2 __m256i lanes_below(int64_t n) {
    int v = n < 0 ? 0 : (n > 8 ? 8 : (int)n);
    return _mm256_cmpgt_epi32(_mm256_set1_epi32(v), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
}
#endif

/// exp(x) as Cephes' expf: a branch-free polynomial, so loops calling it vectorise (relative error ~1e-7;
/// clamped to [-87, 88]).
static inline float exp_poly(float x) {
    x = x < -87.0f ? -87.0f : (x > 88.0f ? 88.0f : x);
    const float n = floorf(x * 1.44269504088896341f + 0.5f);
    float r = x - n * 0.693359375f;           // ln 2 in two parts: the first exact in float
    r = r + n * 2.12194440e-4f;
    float p = 1.9875691500e-4f;
    p = p * r + 1.3981999507e-3f;
    p = p * r + 8.3334519073e-3f;
    p = p * r + 4.1665795894e-2f;
    p = p * r + 1.6666665459e-1f;
    p = p * r + 5.0000001201e-1f;
    const float y = p * r * r + r + 1.0f;
    const int32_t bits = ((int32_t)n + 127) << 23;
    float scale;
    memcpy(&scale, &bits, sizeof scale);
    return y * scale;
}

/// One row of graft_quantize_rows_u8 (quantize.c): its scale, zero point and u8 codes.
void graft_quantize_row_u8(const float *row, const float *col_scale, int64_t cols, float *scale, float *zero_point, uint8_t *out);

/// Elements per chunk below which splitting across threads costs more than it saves.
#define GRAFT_GRAIN ((int64_t)1 << 15)

typedef void (*graft_chunk_body)(void *context, int64_t chunk, int64_t begin, int64_t end);
/// How many chunks of at least min_chunk items [0, n) splits into (<= threads).
int64_t graft_chunk_count(int64_t n, int64_t min_chunk);
/// Calls body for chunk c = 0..<chunks covering [n*c/chunks, n*(c+1)/chunks).
void graft_parallel_chunks(int64_t n, int64_t chunks, void *context, graft_chunk_body body);
#endif
