// Multi-head self-attention for inference in one pass per (sequence, head): softmax(Q K^T * scale + mask) V.
// A block of query rows' scores stays in per-thread scratch (L1/L2) between the two products, so the
// [heads, L, L] score tensor oneDNN's matmul + softmax + matmul write and read back never goes to memory (at
// 32 x 128 tokens that is 25 MB per layer, at 512 tokens 400 MB). Each sequence has its own row offset, query
// count and key count, so a ragged batch needs no padding keys (and, packed, no padding rows at all).
//
// Products on an AVX2 + FMA 6 x 16 micro-kernel (as inverted_residual.c's), the softmax on 8-lane Cephes exp;
// a portable path of the same arithmetic elsewhere. The probabilities are left unnormalised and each output row
// is scaled by 1 / sum once (d multiplications per row instead of one per key).
#include "CGraftKernels.h"
#include "internal.h"
#if GRAFT_X86_64
#include <immintrin.h>
#endif
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

enum { QUERY_BLOCK = 48, PANEL = 16 };

static int64_t round_panel(int64_t n) { return (n + PANEL - 1) / PANEL * PANEL; }

typedef struct {
    const float *q, *k, *v;
    int64_t qkv_stride, heads, d;
    float scale;
    const int64_t *offsets, *query_counts, *key_counts;
    const float *key_mask;
    int64_t mask_stride;
    float *out;
    int64_t out_stride, items, max_keys;
    _Atomic int64_t next;
    _Atomic int32_t failed;
    int simd;
} attention_args;

/// Per-thread scratch: K transposed [d][keys padded to 16], one block of scores [QUERY_BLOCK][same], 1 / sums.
typedef struct { float *kt, *scores, *inverse; int64_t ld; } scratch;

// ---- portable ------------------------------------------------------------------------------------------------
/// c[r][n] = (sum_k a[r][k] b[k][n]) * (row_scale ? row_scale[r] : 1) for r < rows, n < cols.
static void gemm_portable(int64_t rows, int64_t cols, int64_t K, const float *a, int64_t lda, const float *b, int64_t ldb,
                          const float *row_scale, float *c, int64_t ldc) {
    for (int64_t r = 0; r < rows; r++) {
        float *cr = c + r * ldc;
        for (int64_t n = 0; n < cols; n++) cr[n] = 0;
        for (int64_t k = 0; k < K; k++) {
            const float av = a[r * lda + k];
            const float *bk = b + k * ldb;
            for (int64_t n = 0; n < cols; n++) cr[n] += av * bk[n];
        }
        if (row_scale)
            for (int64_t n = 0; n < cols; n++) cr[n] *= row_scale[r];
    }
}

/// Row r of the scores: scale, mask, exponentials relative to the row's maximum; returns 1 / their sum.
static float softmax_row_portable(float *s, int64_t keys, float scale, const float *mask) {
    float m = -INFINITY;
    for (int64_t j = 0; j < keys; j++) {
        s[j] = s[j] * scale + (mask ? mask[j] : 0);
        m = s[j] > m ? s[j] : m;
    }
    float sum = 0;
    for (int64_t j = 0; j < keys; j++) { s[j] = exp_poly(s[j] - m); sum += s[j]; }
    return 1.0f / sum;
}

// ---- AVX2 + FMA ----------------------------------------------------------------------------------------------
#if GRAFT_X86_64   // AVX2, INLINE, lanes_below: internal.h

/// MR x 16 tile of c = (a b) * row_scale; `masked` reads and writes only the lanes m0/m1 allow (the last panel
/// of a head narrower than 16 or not a multiple of it: reading past it would leave the row).
static INLINE AVX2 void tile_avx2(const int MR, const int masked, int64_t K, const float *a, int64_t lda, const float *b,
                                  int64_t ldb, const float *row_scale, float *c, int64_t ldc, __m256i m0, __m256i m1) {
    __m256 acc[6][2];
    for (int i = 0; i < MR; i++) { acc[i][0] = _mm256_setzero_ps(); acc[i][1] = _mm256_setzero_ps(); }
    for (int64_t k = 0; k < K; k++) {
        const float *bk = b + k * ldb;
        const __m256 v0 = masked ? _mm256_maskload_ps(bk, m0) : _mm256_loadu_ps(bk);
        const __m256 v1 = masked ? _mm256_maskload_ps(bk + 8, m1) : _mm256_loadu_ps(bk + 8);
        for (int i = 0; i < MR; i++) {
            const __m256 av = _mm256_broadcast_ss(a + i * lda + k);
            acc[i][0] = _mm256_fmadd_ps(av, v0, acc[i][0]);
            acc[i][1] = _mm256_fmadd_ps(av, v1, acc[i][1]);
        }
    }
    for (int i = 0; i < MR; i++) {
        __m256 r0 = acc[i][0], r1 = acc[i][1];
        if (row_scale) {
            const __m256 f = _mm256_broadcast_ss(row_scale + i);
            r0 = _mm256_mul_ps(r0, f); r1 = _mm256_mul_ps(r1, f);
        }
        if (masked) {
            _mm256_maskstore_ps(c + i * ldc, m0, r0);
            _mm256_maskstore_ps(c + i * ldc + 8, m1, r1);
        } else {
            _mm256_storeu_ps(c + i * ldc, r0);
            _mm256_storeu_ps(c + i * ldc + 8, r1);
        }
    }
}

typedef void (*tile_fn)(int64_t K, const float *a, int64_t lda, const float *b, int64_t ldb, const float *row_scale,
                        float *c, int64_t ldc, __m256i m0, __m256i m1);
#define TILE(MR, MASKED)                                                                                       \
    static AVX2 void tile_##MR##_##MASKED(int64_t K, const float *a, int64_t lda, const float *b, int64_t ldb,   \
                                          const float *row_scale, float *c, int64_t ldc, __m256i m0, __m256i m1) { \
        tile_avx2(MR, MASKED, K, a, lda, b, ldb, row_scale, c, ldc, m0, m1);                                    \
    }
TILE(1, 0) TILE(2, 0) TILE(3, 0) TILE(4, 0) TILE(5, 0) TILE(6, 0)
TILE(1, 1) TILE(2, 1) TILE(3, 1) TILE(4, 1) TILE(5, 1) TILE(6, 1)
static const tile_fn tiles[2][7] = {{0, tile_1_0, tile_2_0, tile_3_0, tile_4_0, tile_5_0, tile_6_0},
                                    {0, tile_1_1, tile_2_1, tile_3_1, tile_4_1, tile_5_1, tile_6_1}};

/// gemm_portable's contract on the tiles: 16-column panels outermost (a panel of b stays in L1 across the rows).
static AVX2 void gemm_avx2(int64_t rows, int64_t cols, int64_t K, const float *a, int64_t lda, const float *b,
                           int64_t ldb, const float *row_scale, float *c, int64_t ldc) {
    for (int64_t n0 = 0; n0 < cols; n0 += PANEL) {
        const int64_t lanes = cols - n0;
        const int masked = lanes < PANEL;
        const __m256i m0 = lanes_below(lanes), m1 = lanes_below(lanes - 8);
        for (int64_t r0 = 0; r0 < rows; r0 += 6) {
            const int mr = rows - r0 < 6 ? (int)(rows - r0) : 6;
            tiles[masked][mr](K, a + r0 * lda, lda, b + n0, ldb, row_scale ? row_scale + r0 : NULL, c + r0 * ldc + n0,
                              ldc, m0, m1);
        }
    }
}

static INLINE AVX2 __m256 exp_avx2(__m256 x) {
    x = _mm256_min_ps(_mm256_max_ps(x, _mm256_set1_ps(-87.0f)), _mm256_set1_ps(88.0f));
    const __m256 n = _mm256_floor_ps(_mm256_fmadd_ps(x, _mm256_set1_ps(1.44269504088896341f), _mm256_set1_ps(0.5f)));
    __m256 r = _mm256_fnmadd_ps(n, _mm256_set1_ps(0.693359375f), x);
    r = _mm256_fmadd_ps(n, _mm256_set1_ps(2.12194440e-4f), r);
    __m256 p = _mm256_set1_ps(1.9875691500e-4f);
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.3981999507e-3f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(8.3334519073e-3f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(4.1665795894e-2f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.6666665459e-1f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(5.0000001201e-1f));
    const __m256 y = _mm256_add_ps(_mm256_fmadd_ps(_mm256_mul_ps(p, r), r, r), _mm256_set1_ps(1.0f));
    const __m256i bits = _mm256_slli_epi32(_mm256_add_epi32(_mm256_cvtps_epi32(n), _mm256_set1_epi32(127)), 23);
    return _mm256_mul_ps(y, _mm256_castsi256_ps(bits));
}

static INLINE AVX2 float horizontal(__m256 v, int max) {
    __m128 h = max ? _mm_max_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1))
                   : _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    h = max ? _mm_max_ps(h, _mm_movehl_ps(h, h)) : _mm_add_ps(h, _mm_movehl_ps(h, h));
    h = max ? _mm_max_ss(h, _mm_movehdup_ps(h)) : _mm_add_ss(h, _mm_movehdup_ps(h));
    return _mm_cvtss_f32(h);
}

static AVX2 float softmax_row_avx2(float *s, int64_t keys, float scale, const float *mask) {
    const __m256 f = _mm256_set1_ps(scale);
    __m256 mv = _mm256_set1_ps(-INFINITY);
    int64_t j = 0;
    // Without a mask the scores are scaled on the way into the exponentials (the scale is positive: the maximum
    // stays the maximum, and rounding keeps it so), which saves a pass writing them; the arithmetic is the same as
    // with a mask of zeros, bit for bit.
    if (mask) {
        for (; j + 8 <= keys; j += 8) {
            const __m256 x = _mm256_fmadd_ps(_mm256_loadu_ps(s + j), f, _mm256_loadu_ps(mask + j));
            _mm256_storeu_ps(s + j, x);
            mv = _mm256_max_ps(mv, x);
        }
    } else {
        for (; j + 8 <= keys; j += 8) mv = _mm256_max_ps(mv, _mm256_loadu_ps(s + j));
    }
    float m = horizontal(mv, 1);
    if (!mask) m *= scale;
    for (; j < keys; j++) {
        const float x = s[j] * scale + (mask ? mask[j] : 0);
        if (mask) s[j] = x;
        m = x > m ? x : m;
    }
    const __m256 mb = _mm256_set1_ps(m);
    __m256 sv = _mm256_setzero_ps();
    for (j = 0; j + 8 <= keys; j += 8) {
        __m256 x = _mm256_loadu_ps(s + j);
        if (!mask) x = _mm256_mul_ps(x, f);
        const __m256 e = exp_avx2(_mm256_sub_ps(x, mb));
        _mm256_storeu_ps(s + j, e);
        sv = _mm256_add_ps(sv, e);
    }
    float sum = horizontal(sv, 0);
    for (; j < keys; j++) {
        const float x = mask ? s[j] : s[j] * scale;   // its own statement: not contracted into the subtraction
        s[j] = exp_poly(x - m);
        sum += s[j];
    }
    return 1.0f / sum;
}

/// dst[t][j] = src[j * lds + t] for t < 8, j < 8: one 8 x 8 block of K transposed in registers.
static AVX2 void transpose8_avx2(const float *src, int64_t lds, float *dst, int64_t ldd) {
    __m256 r[8], u[8];
    for (int i = 0; i < 8; i++) r[i] = _mm256_loadu_ps(src + i * lds);
    for (int i = 0; i < 8; i += 2) {
        u[i] = _mm256_unpacklo_ps(r[i], r[i + 1]);
        u[i + 1] = _mm256_unpackhi_ps(r[i], r[i + 1]);
    }
    for (int i = 0; i < 8; i += 4) {
        r[i] = _mm256_shuffle_ps(u[i], u[i + 2], 0x44);
        r[i + 1] = _mm256_shuffle_ps(u[i], u[i + 2], 0xEE);
        r[i + 2] = _mm256_shuffle_ps(u[i + 1], u[i + 3], 0x44);
        r[i + 3] = _mm256_shuffle_ps(u[i + 1], u[i + 3], 0xEE);
    }
    for (int i = 0; i < 4; i++) {
        _mm256_storeu_ps(dst + i * ldd, _mm256_permute2f128_ps(r[i], r[i + 4], 0x20));
        _mm256_storeu_ps(dst + (i + 4) * ldd, _mm256_permute2f128_ps(r[i], r[i + 4], 0x31));
    }
}
#endif

// ---- driver --------------------------------------------------------------------------------------------------
/// The widest path allowed: 0 any, 3 portable only (tests take the other CPUs' path).
static _Atomic int isa_cap = 0;

void graft_attention_cap_isa(int cap) { atomic_store(&isa_cap, cap); }

static int use_avx2(void) {
#if GRAFT_X86_64
    return atomic_load_explicit(&isa_cap, memory_order_relaxed) <= 2 && __builtin_cpu_supports("avx2")
        && __builtin_cpu_supports("fma");
#else
    return 0;
#endif
}

const char *graft_attention_isa(void) { return use_avx2() ? "avx2" : "portable"; }

int graft_cpu_splits_512_bit_ops(void) {
#if GRAFT_X86_64
    // Zen 4 runs each 512-bit operation as two 256-bit halves (Zen 3 has no AVX-512; Zen 5 may have full width).
    return __builtin_cpu_is("znver4");
#else
    return 0;
#endif
}

static void gemm(const attention_args *a, int64_t rows, int64_t cols, int64_t K, const float *x, int64_t lda,
                 const float *b, int64_t ldb, const float *row_scale, float *c, int64_t ldc) {
#if GRAFT_X86_64
    if (a->simd) { gemm_avx2(rows, cols, K, x, lda, b, ldb, row_scale, c, ldc); return; }
#else
    (void)a;
#endif
    gemm_portable(rows, cols, K, x, lda, b, ldb, row_scale, c, ldc);
}

static float softmax_row(const attention_args *a, float *s, int64_t keys, const float *mask) {
#if GRAFT_X86_64
    if (a->simd) return softmax_row_avx2(s, keys, a->scale, mask);
#endif
    return softmax_row_portable(s, keys, a->scale, mask);
}

/// One (sequence, head): K transposed once, then the query rows a block at a time.
static void attend(const attention_args *a, const scratch *w, int64_t item) {
    const int64_t seq = item / a->heads, h = item % a->heads, d = a->d;
    const int64_t keys = a->key_counts[seq], queries = a->query_counts[seq], ld = round_panel(keys);
    const int64_t first = a->offsets[seq] * a->qkv_stride + h * d;
    const float *q = a->q + first, *k = a->k + first, *v = a->v + first;
    const float *mask = a->key_mask ? a->key_mask + seq * a->mask_stride : NULL;
    int64_t j0 = 0, t0 = 0;
#if GRAFT_X86_64
    if (a->simd) {
        for (j0 = 0; j0 + 8 <= keys; j0 += 8)
            for (t0 = 0; t0 + 8 <= d; t0 += 8) transpose8_avx2(k + j0 * a->qkv_stride + t0, a->qkv_stride, w->kt + t0 * ld + j0, ld);
        t0 = d / 8 * 8;
    }
#endif
    // What the 8 x 8 blocks left: the last keys (all t), then the last t (the keys the blocks covered).
    for (int64_t t = 0; t < d; t++) {
        float *row = w->kt + t * ld;
        for (int64_t j = j0; j < keys; j++) row[j] = k[j * a->qkv_stride + t];
        for (int64_t j = keys; j < ld; j++) row[j] = 0;
    }
    for (int64_t t = t0; t < d; t++)
        for (int64_t j = 0; j < j0; j++) w->kt[t * ld + j] = k[j * a->qkv_stride + t];
    float *out = a->out + a->offsets[seq] * a->out_stride + h * d;
    for (int64_t q0 = 0; q0 < queries; q0 += QUERY_BLOCK) {
        const int64_t rows = queries - q0 < QUERY_BLOCK ? queries - q0 : QUERY_BLOCK;
        gemm(a, rows, ld, d, q + q0 * a->qkv_stride, a->qkv_stride, w->kt, ld, NULL, w->scores, ld);
        for (int64_t r = 0; r < rows; r++) w->inverse[r] = softmax_row(a, w->scores + r * ld, keys, mask);
        gemm(a, rows, d, keys, w->scores, ld, v, a->qkv_stride, w->inverse, out + q0 * a->out_stride, a->out_stride);
    }
}

static void attention_chunk(void *p, int64_t chunk, int64_t begin, int64_t end) {
    (void)chunk; (void)begin; (void)end;
    attention_args *a = p;
    const int64_t ld = round_panel(a->max_keys);
    float *buffer = aligned_alloc(64, (size_t)((a->d * ld + QUERY_BLOCK * ld + QUERY_BLOCK) * (int64_t)sizeof(float) + 63) / 64 * 64);
    if (!buffer) { atomic_store(&a->failed, 1); return; }
    scratch w = {buffer, buffer + a->d * ld, buffer + a->d * ld + QUERY_BLOCK * ld, ld};
    // Items taken one at a time: ragged sequences cost unequal time.
    for (int64_t item; (item = atomic_fetch_add_explicit(&a->next, 1, memory_order_relaxed)) < a->items;)
        attend(a, &w, item);
    free(buffer);
}

int32_t graft_attention(const float *q, const float *k, const float *v, int64_t qkv_stride, int64_t heads, int64_t head_dim, float scale,
                        int64_t sequences, const int64_t *offsets, const int64_t *query_counts, const int64_t *key_counts,
                        const float *key_mask, int64_t mask_stride, float *out, int64_t out_stride) {
    if (heads < 1 || head_dim < 1 || sequences < 0) return -2;
    int64_t max_keys = 1;
    for (int64_t s = 0; s < sequences; s++) {
        if (key_counts[s] < 1 || query_counts[s] < 0) return -2;
        if (key_counts[s] > max_keys) max_keys = key_counts[s];
    }
    attention_args a = {.q = q, .k = k, .v = v, .qkv_stride = qkv_stride, .heads = heads, .d = head_dim, .scale = scale,
                        .offsets = offsets, .query_counts = query_counts, .key_counts = key_counts,
                        .key_mask = key_mask, .mask_stride = mask_stride, .out = out, .out_stride = out_stride,
                        .items = sequences * heads, .max_keys = max_keys, .simd = use_avx2()};
    atomic_init(&a.next, 0);
    atomic_init(&a.failed, 0);
    graft_parallel_chunks(a.items, graft_chunk_count(a.items, 1), &a, attention_chunk);
    return atomic_load(&a.failed) ? -1 : 0;
}
