// Fused inverted-residual block (MobileNetV2 / EfficientNet-Lite MBConv) for
// inference: expand 1x1 (+bias, ReLU6) -> depthwise kxk (+bias, ReLU6) ->
// project 1x1 (+bias) (+residual), NHWC. The wide expanded tensor never goes to
// memory: each thread walks its images (or bands of their rows) a group of
// output rows at a time (one row at 48+ pixels wide), keeps the expanded input
// rows the depthwise windows need in a ring (a row is expanded once, when a
// window first reaches it) and projects the depthwise rows straight into the
// output. Everything a thread touches per group fits in L2.
//
// AVX-512 or AVX2 + FMA micro-kernels, picked at run time; a portable path gives the same
// results on other CPUs (up to float summation order).
//
// bf16 (graft_inverted_residual_forward_bf16): the two 1x1 GEMMs take bf16 operands with fp32
// accumulation on AMX tiles, else AVX512-BF16 `vdpbf16ps` tiles (portable loops of the same arithmetic
// elsewhere, for tests); their A rows are rounded to bf16 in per-thread scratch just before each GEMM, the
// depthwise conv, biases, ReLU6 and the residual stay fp32. On the Xeon that has both, `vdpbf16ps` ran
// slower than the fp32 FMA tiles (AMX wins there); on AMD Zen 4, which has no AMX, it runs at twice the
// FMA's multiply rate (docs/KERNELS.md).
#include "CGraftKernels.h"
#include "internal.h"
#if GRAFT_X86_64
#include <immintrin.h>
#endif
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#if GRAFT_X86_64 && defined(__linux__)
#include <sys/syscall.h>
#include <unistd.h>
#endif

#define VEC 16
static int64_t round16(int64_t n) { return (n + VEC - 1) / VEC * VEC; }

// ---- packed weights ----------------------------------------------------------
// One buffer, every part padded to 16 channels (zeros), in this order:
//   expand  [in_c][hp]  (transposed, so output channels are contiguous)  - absent without expansion
//   expand bias [hp]                                                      - absent without expansion
//   depthwise [hp/16][k*k][16], depthwise bias [hp]
//   project [hp][op]  (transposed), project bias [op]
// where hp = round16(hidden), op = round16(out_c).
typedef struct {
    int64_t expand_w, expand_b, dw_w, dw_b, project_w, project_b, total;
} layout;

static layout packed_layout(const graft_inverted_residual_shape *s) {
    int64_t hp = round16(s->hidden), op = round16(s->out_c), k2 = s->kernel * s->kernel;
    layout l;
    int64_t at = 0;
    l.expand_w = at; at += s->has_expand ? s->in_c * hp : 0;
    l.expand_b = at; at += s->has_expand ? hp : 0;
    l.dw_w = at; at += hp * k2;
    l.dw_b = at; at += hp;
    l.project_w = at; at += hp * op;
    l.project_b = at; at += op;
    l.total = at;
    return l;
}

int64_t graft_inverted_residual_packed_count(const graft_inverted_residual_shape *s) {
    return packed_layout(s).total;
}

void graft_inverted_residual_pack(const graft_inverted_residual_shape *s, const float *expand_w,
                                  const float *expand_b, const float *dw_w, const float *dw_b,
                                  const float *project_w, const float *project_b, float *packed) {
    layout l = packed_layout(s);
    int64_t hp = round16(s->hidden), op = round16(s->out_c), k2 = s->kernel * s->kernel;
    memset(packed, 0, (size_t)l.total * sizeof(float));
    if (s->has_expand) {
        for (int64_t h = 0; h < s->hidden; h++) {
            for (int64_t c = 0; c < s->in_c; c++) packed[l.expand_w + c * hp + h] = expand_w[h * s->in_c + c];
            packed[l.expand_b + h] = expand_b[h];
        }
    }
    for (int64_t h = 0; h < s->hidden; h++) {
        for (int64_t t = 0; t < k2; t++) packed[l.dw_w + (h / VEC) * k2 * VEC + t * VEC + h % VEC] = dw_w[h * k2 + t];
        packed[l.dw_b + h] = dw_b[h];
    }
    for (int64_t o = 0; o < s->out_c; o++) {
        for (int64_t h = 0; h < s->hidden; h++) packed[l.project_w + h * op + o] = project_w[o * s->hidden + h];
        packed[l.project_b + o] = project_b[o];
    }
}

// ---- bf16 weights --------------------------------------------------------------
// The two 1x1 weight matrices again, rounded to bf16 and interleaved in pairs along K, so one
// 32-bit word holds rows k and k+1 of a column (the operand layout of `vdpbf16ps` and of AMX's
// B tiles), pairs padded with zeros to a multiple of 16 (an AMX tile's depth):
//   expand  [pairs(in_c)][hp] words   - absent without expansion
//   project [pairs(hp)][op] words
// A pair word is stored in a float slot (same size); the GEMMs below read it as such.
#define TILE_PAIRS 16
static int64_t half_up(int64_t n) { return (n + 1) / 2; }
/// Pair words of a K-long bf16 row or column, padded to whole AMX tiles.
static int64_t pairs(int64_t k) { return (half_up(k) + TILE_PAIRS - 1) / TILE_PAIRS * TILE_PAIRS; }

static uint16_t bf16_round(float f) {
    uint32_t u;
    memcpy(&u, &f, sizeof u);
    u += 0x7FFF + ((u >> 16) & 1);  // round to nearest even
    return (uint16_t)(u >> 16);
}

static float bf16_value(uint16_t h) {
    uint32_t u = (uint32_t)h << 16;
    float f;
    memcpy(&f, &u, sizeof f);
    return f;
}

int64_t graft_inverted_residual_packed_bf16_count(const graft_inverted_residual_shape *s) {
    int64_t hp = round16(s->hidden), op = round16(s->out_c);
    return (s->has_expand ? pairs(s->in_c) * hp : 0) + pairs(hp) * op;
}

/// Rows [0, K) of a [K][N] float matrix (row stride ldb) as [pairs(K)][N] pair words, zeros past K.
static void pack_pairs(const float *b, int64_t K, int64_t N, int64_t ldb, uint16_t *out) {
    for (int64_t k = 0; k < 2 * pairs(K); k++)
        for (int64_t n = 0; n < N; n++) out[(k / 2 * N + n) * 2 + k % 2] = k < K ? bf16_round(b[k * ldb + n]) : 0;
}

void graft_inverted_residual_pack_bf16(const graft_inverted_residual_shape *s, const float *packed, float *words) {
    layout l = packed_layout(s);
    int64_t hp = round16(s->hidden), op = round16(s->out_c), at = 0;
    uint16_t *h = (uint16_t *)words;
    if (s->has_expand) {
        pack_pairs(packed + l.expand_w, s->in_c, hp, hp, h);
        at = pairs(s->in_c) * hp;
    }
    pack_pairs(packed + l.project_w, hp, op, op, h + 2 * at);
}

// ---- portable kernels ---------------------------------------------------------
static inline float relu6(float v) { return v < 0 ? 0 : (v > 6 ? 6 : v); }

/// Rows of a gemm: m rows of A at a (stride lda), of C at c (stride ldc), of the addend at res (or NULL).
typedef struct { const float *a; float *c; const float *res; int64_t m; } segment;

/// c[m][n] = bias[n] + sum_k a[m][k] b[k][n] (+ res[m][n]) (ReLU6), n < N; b has row stride ldb.
static void gemm_rows(int64_t M, int64_t N, int64_t K, const float *a, int64_t lda, const float *b,
                          int64_t ldb, const float *bias, float *c, int64_t ldc, const float *res,
                          int64_t ldr, int clamp) {
    for (int64_t m = 0; m < M; m++) {
        float *cr = c + m * ldc;
        for (int64_t n = 0; n < N; n++) cr[n] = bias[n];
        for (int64_t k = 0; k < K; k++) {
            float av = a[m * lda + k];
            const float *br = b + k * ldb;
            for (int64_t n = 0; n < N; n++) cr[n] += av * br[n];
        }
        if (res) for (int64_t n = 0; n < N; n++) cr[n] += res[m * ldr + n];
        if (clamp) for (int64_t n = 0; n < N; n++) cr[n] = relu6(cr[n]);
    }
}

/// The same over several row segments that share B.
static void gemm_portable(int64_t count, const segment *segs, int64_t N, int64_t K, int64_t lda, const float *b,
                          int64_t ldb, const float *bias, int64_t ldc, int64_t ldr, int clamp) {
    for (int64_t i = 0; i < count; i++)
        gemm_rows(segs[i].m, N, K, segs[i].a, lda, b, ldb, bias, segs[i].c, ldc, segs[i].res, ldr, clamp);
}

/// gemm_portable on pair words (bf16 operands, fp32 sums): K counts pairs, lda and ldb words.
static void gemm_bf16_portable(int64_t count, const segment *segs, int64_t N, int64_t K, int64_t lda, const float *b,
                               int64_t ldb, const float *bias, int64_t ldc, int64_t ldr, int clamp) {
    const uint16_t *bh = (const uint16_t *)b;
    for (int64_t i = 0; i < count; i++) {
        const segment g = segs[i];
        const uint16_t *ah = (const uint16_t *)g.a;
        for (int64_t m = 0; m < g.m; m++) {
            float *cr = g.c + m * ldc;
            for (int64_t n = 0; n < N; n++) {
                float acc = bias[n];
                for (int64_t k = 0; k < K; k++) {
                    const uint16_t *ap = ah + 2 * (m * lda + k), *bp = bh + 2 * (k * ldb + n);
                    acc += bf16_value(ap[0]) * bf16_value(bp[0]) + bf16_value(ap[1]) * bf16_value(bp[1]);
                }
                if (g.res) acc += g.res[m * ldr + n];
                cr[n] = clamp ? relu6(acc) : acc;
            }
        }
    }
}

/// rows x cols floats (row stride lds) rounded to bf16 as rows of `words` pair words (zeros past cols).
static void to_bf16_portable(const float *src, int64_t rows, int64_t cols, int64_t lds, float *dst, int64_t words) {
    uint16_t *d = (uint16_t *)dst;
    for (int64_t r = 0; r < rows; r++)
        for (int64_t c = 0; c < 2 * words; c++) d[r * 2 * words + c] = c < cols ? bf16_round(src[r * lds + c]) : 0;
}

/// One output row of the depthwise conv: rows[ky] + x*hp is padded column x.
static void depthwise_row_portable(const float *const *rows, const float *w, const float *bias, float *out,
                                   int64_t out_w, int64_t hp, int64_t k, int64_t stride) {
    int64_t k2 = k * k;
    for (int64_t ox = 0; ox < out_w; ox++) {
        float *o = out + ox * hp;
        for (int64_t c = 0; c < hp; c++) {
            const float *wc = w + (c / VEC) * k2 * VEC + c % VEC;
            float acc = bias[c];
            for (int64_t ky = 0; ky < k; ky++)
                for (int64_t kx = 0; kx < k; kx++) acc += wc[(ky * k + kx) * VEC] * rows[ky][(ox * stride + kx) * hp + c];
            o[c] = relu6(acc);
        }
    }
}

// ---- AVX-512 kernels ------------------------------------------------------------
#if GRAFT_X86_64  // through the AVX2 kernels below
#define AVX512 __attribute__((target("avx512f,avx512dq,avx512bw,avx512vl,fma,avx2")))

/// A tile's accumulators, each row starting at the bias.
static INLINE AVX512 void tile_start(const int MR, const int NV, __m512 acc[16][4], const float *bias) {
    for (int j = 0; j < NV; j++) {
        __m512 bj = _mm512_loadu_ps(bias + j * VEC);
        for (int i = 0; i < MR; i++) acc[i][j] = bj;
    }
}

/// A tile's outputs: plus the residual, ReLU6 when clamp, masked stores (`last` masks the final vector's lanes).
static INLINE AVX512 void tile_finish(const int MR, const int NV, __m512 acc[16][4], float *c, int64_t ldc, const float *res,
                                      int64_t ldr, __mmask16 last, int clamp) {
    const __m512 zero = _mm512_setzero_ps(), six = _mm512_set1_ps(6.0f);
    for (int i = 0; i < MR; i++) {
        for (int j = 0; j < NV; j++) {
            __mmask16 m = j == NV - 1 ? last : (__mmask16)0xFFFF;
            __m512 v = acc[i][j];
            if (res) v = _mm512_add_ps(v, _mm512_maskz_loadu_ps(m, res + i * ldr + j * VEC));
            if (clamp) v = _mm512_min_ps(_mm512_max_ps(v, zero), six);
            _mm512_mask_storeu_ps(c + i * ldc + j * VEC, m, v);
        }
    }
}

/// MR x (NV*16) tile of the gemm above; `last` masks the final vector's lanes.
static INLINE AVX512 void tile(const int MR, const int NV, int64_t K, const float *a, int64_t lda, const float *b,
                               int64_t ldb, const float *bias, float *c, int64_t ldc, const float *res, int64_t ldr,
                               __mmask16 last, int clamp) {
    __m512 acc[16][4];
    tile_start(MR, NV, acc, bias);
    for (int64_t k = 0; k < K; k++) {
        __m512 bv[4];
        for (int j = 0; j < NV; j++) bv[j] = _mm512_loadu_ps(b + k * ldb + j * VEC);
        for (int i = 0; i < MR; i++) {
            __m512 av = _mm512_set1_ps(a[i * lda + k]);
            for (int j = 0; j < NV; j++) acc[i][j] = _mm512_fmadd_ps(av, bv[j], acc[i][j]);
        }
    }
    tile_finish(MR, NV, acc, c, ldc, res, ldr, last, clamp);
}

typedef void (*tile_fn)(int64_t K, const float *a, int64_t lda, const float *b, int64_t ldb, const float *bias,
                        float *c, int64_t ldc, const float *res, int64_t ldr, __mmask16 last, int clamp);

#define TILE(MR, NV)                                                                                          \
    static AVX512 void tile_##MR##x##NV(int64_t K, const float *a, int64_t lda, const float *b, int64_t ldb,  \
                                        const float *bias, float *c, int64_t ldc, const float *res,          \
                                        int64_t ldr, __mmask16 last, int clamp) {                            \
        tile(MR, NV, K, a, lda, b, ldb, bias, c, ldc, res, ldr, last, clamp);                                 \
    }
#define TILES(NV) TILE(1, NV) TILE(2, NV) TILE(3, NV) TILE(4, NV) TILE(5, NV) TILE(6, NV) TILE(7, NV) TILE(8, NV)
TILES(1) TILES(2) TILES(3) TILES(4)
TILE(9, 1) TILE(10, 1) TILE(11, 1) TILE(12, 1) TILE(13, 1) TILE(14, 1)
TILE(9, 2) TILE(10, 2) TILE(11, 2) TILE(12, 2)

/// Largest tile height per vector count (accumulators + loads stay within 32 registers).
static const int max_rows[5] = {0, 14, 12, 8, 6};
static const tile_fn tiles[5][15] = {
    {0},
    {0, tile_1x1, tile_2x1, tile_3x1, tile_4x1, tile_5x1, tile_6x1, tile_7x1, tile_8x1, tile_9x1, tile_10x1,
     tile_11x1, tile_12x1, tile_13x1, tile_14x1},
    {0, tile_1x2, tile_2x2, tile_3x2, tile_4x2, tile_5x2, tile_6x2, tile_7x2, tile_8x2, tile_9x2, tile_10x2,
     tile_11x2, tile_12x2},
    {0, tile_1x3, tile_2x3, tile_3x3, tile_4x3, tile_5x3, tile_6x3, tile_7x3, tile_8x3},
    {0, tile_1x4, tile_2x4, tile_3x4, tile_4x4, tile_5x4, tile_6x4, tile_7x4, tile_8x4},
};

/// The column panels and row tiles of gemm_avx512 over the micro-kernels of `table` (fp32 tiles, or gemm_bf16_avx512's
/// on pair words). Column panels outermost, so each panel of B is read from L2 once for all segments.
static void gemm_panels(const tile_fn table[5][15], int64_t count, const segment *segs, int64_t N, int64_t K, int64_t lda,
                        const float *b, int64_t ldb, const float *bias, int64_t ldc, int64_t ldr, int clamp) {
    int64_t vectors = (N + VEC - 1) / VEC;
    for (int64_t v0 = 0; v0 < vectors;) {
        // Column panels of 3 vectors (4 when exactly 4 are left), the rest in one panel.
        int64_t left = vectors - v0;
        int nv = left == 4 ? 4 : (left >= 3 ? 3 : (int)left);
        int64_t n0 = v0 * VEC, lanes = N - (v0 + nv - 1) * VEC;
        __mmask16 last = lanes >= VEC ? (__mmask16)0xFFFF : (__mmask16)((1u << lanes) - 1);
        int mr = max_rows[nv];
        for (int64_t i = 0; i < count; i++) {
            const segment g = segs[i];
            // Tiles of equal height (49 rows: 7 x 7, not 6 x 8 + 1): a short tail tile is load bound.
            int64_t count_tiles = (g.m + mr - 1) / mr;
            for (int64_t t = 0, m0 = 0; t < count_tiles; t++) {
                int rows = (int)((g.m - m0) / (count_tiles - t));
                table[nv][rows](K, g.a + m0 * lda, lda, b + n0, ldb, bias + n0, g.c + m0 * ldc + n0, ldc,
                                g.res ? g.res + m0 * ldr + n0 : NULL, ldr, last, clamp);
                m0 += rows;
            }
        }
        v0 += nv;
    }
}

/// Same contract as gemm_portable; b and bias must be readable up to round16(N) columns.
static AVX512 void gemm_avx512(int64_t count, const segment *segs, int64_t N, int64_t K, int64_t lda, const float *b,
                               int64_t ldb, const float *bias, int64_t ldc, int64_t ldr, int clamp) {
    gemm_panels(tiles, count, segs, N, K, lda, b, ldb, bias, ldc, ldr, clamp);
}

/// Depthwise row, 16 channels per vector, `P` output pixels per weight load.
static INLINE AVX512 void depthwise_row_k(const int k, const int stride, const float *const *rows, const float *w,
                                          const float *bias, float *out, int64_t out_w, int64_t hp) {
    enum { P = 4 };
    const __m512 zero = _mm512_setzero_ps(), six = _mm512_set1_ps(6.0f);
    const int64_t k2 = k * k;
    int64_t ox = 0;
    for (; ox + P <= out_w; ox += P) {
        for (int64_t c = 0; c < hp; c += VEC) {
            const float *wc = w + (c / VEC) * k2 * VEC;
            __m512 b = _mm512_loadu_ps(bias + c);
            __m512 acc[P];
            for (int p = 0; p < P; p++) acc[p] = b;
            for (int ky = 0; ky < k; ky++) {
                const float *r = rows[ky] + ox * stride * hp + c;
                for (int kx = 0; kx < k; kx++) {
                    __m512 wv = _mm512_loadu_ps(wc + (ky * k + kx) * VEC);
                    for (int p = 0; p < P; p++)
                        acc[p] = _mm512_fmadd_ps(wv, _mm512_loadu_ps(r + (p * stride + kx) * hp), acc[p]);
                }
            }
            for (int p = 0; p < P; p++)
                _mm512_storeu_ps(out + (ox + p) * hp + c, _mm512_min_ps(_mm512_max_ps(acc[p], zero), six));
        }
    }
    for (; ox < out_w; ox++) {
        for (int64_t c = 0; c < hp; c += VEC) {
            const float *wc = w + (c / VEC) * k2 * VEC;
            __m512 acc = _mm512_loadu_ps(bias + c);
            for (int ky = 0; ky < k; ky++) {
                const float *r = rows[ky] + ox * stride * hp + c;
                for (int kx = 0; kx < k; kx++)
                    acc = _mm512_fmadd_ps(_mm512_loadu_ps(wc + (ky * k + kx) * VEC), _mm512_loadu_ps(r + kx * hp), acc);
            }
            _mm512_storeu_ps(out + ox * hp + c, _mm512_min_ps(_mm512_max_ps(acc, zero), six));
        }
    }
}

static AVX512 void depthwise_row_avx512(const float *const *rows, const float *w, const float *bias, float *out,
                                        int64_t out_w, int64_t hp, int64_t k, int64_t stride) {
    if (k == 3 && stride == 1) depthwise_row_k(3, 1, rows, w, bias, out, out_w, hp);
    else if (k == 3 && stride == 2) depthwise_row_k(3, 2, rows, w, bias, out, out_w, hp);
    else if (k == 5 && stride == 1) depthwise_row_k(5, 1, rows, w, bias, out, out_w, hp);
    else if (k == 5 && stride == 2) depthwise_row_k(5, 2, rows, w, bias, out, out_w, hp);
    else depthwise_row_portable(rows, w, bias, out, out_w, hp, k, stride);
}

// ---- AVX512-BF16 kernels -------------------------------------------------------
// For CPUs with AVX512-BF16 and no AMX: `vdpbf16ps` does two multiply-adds per fp32 lane, twice the
// fp32 FMA's rate where the CPU issues it as fast (AMD Zen 4; docs/KERNELS.md has the measurements).
#define BF16 __attribute__((target("avx512f,avx512dq,avx512bw,avx512vl,avx512bf16,fma,avx2")))

/// `tile` on pair words: each step multiplies two K rows at once (vdpbf16ps), fp32 accumulators.
static INLINE BF16 void tile_bf16(const int MR, const int NV, int64_t K, const float *a, int64_t lda, const float *b,
                                  int64_t ldb, const float *bias, float *c, int64_t ldc, const float *res, int64_t ldr,
                                  __mmask16 last, int clamp) {
    __m512 acc[16][4];
    tile_start(MR, NV, acc, bias);
    for (int64_t k = 0; k < K; k++) {
        __m512bh bv[4];
        for (int j = 0; j < NV; j++) bv[j] = (__m512bh)_mm512_loadu_si512(b + k * ldb + j * VEC);
        for (int i = 0; i < MR; i++) {
            // The pair word moves as float bits: broadcast, never arithmetic.
            __m512bh av = (__m512bh)_mm512_castps_si512(_mm512_set1_ps(a[i * lda + k]));
            for (int j = 0; j < NV; j++) acc[i][j] = _mm512_dpbf16_ps(acc[i][j], av, bv[j]);
        }
    }
    tile_finish(MR, NV, acc, c, ldc, res, ldr, last, clamp);
}

#define TILE_BF16(MR, NV)                                                                                     \
    static BF16 void tile_bf16_##MR##x##NV(int64_t K, const float *a, int64_t lda, const float *b, int64_t ldb, \
                                           const float *bias, float *c, int64_t ldc, const float *res,       \
                                           int64_t ldr, __mmask16 last, int clamp) {                         \
        tile_bf16(MR, NV, K, a, lda, b, ldb, bias, c, ldc, res, ldr, last, clamp);                            \
    }
#define TILES_BF16(NV) TILE_BF16(1, NV) TILE_BF16(2, NV) TILE_BF16(3, NV) TILE_BF16(4, NV) TILE_BF16(5, NV) \
    TILE_BF16(6, NV) TILE_BF16(7, NV) TILE_BF16(8, NV)
TILES_BF16(1) TILES_BF16(2) TILES_BF16(3) TILES_BF16(4)
TILE_BF16(9, 1) TILE_BF16(10, 1) TILE_BF16(11, 1) TILE_BF16(12, 1) TILE_BF16(13, 1) TILE_BF16(14, 1)
TILE_BF16(9, 2) TILE_BF16(10, 2) TILE_BF16(11, 2) TILE_BF16(12, 2)

static const tile_fn tiles_bf16[5][15] = {
    {0},
    {0, tile_bf16_1x1, tile_bf16_2x1, tile_bf16_3x1, tile_bf16_4x1, tile_bf16_5x1, tile_bf16_6x1, tile_bf16_7x1,
     tile_bf16_8x1, tile_bf16_9x1, tile_bf16_10x1, tile_bf16_11x1, tile_bf16_12x1, tile_bf16_13x1, tile_bf16_14x1},
    {0, tile_bf16_1x2, tile_bf16_2x2, tile_bf16_3x2, tile_bf16_4x2, tile_bf16_5x2, tile_bf16_6x2, tile_bf16_7x2,
     tile_bf16_8x2, tile_bf16_9x2, tile_bf16_10x2, tile_bf16_11x2, tile_bf16_12x2},
    {0, tile_bf16_1x3, tile_bf16_2x3, tile_bf16_3x3, tile_bf16_4x3, tile_bf16_5x3, tile_bf16_6x3, tile_bf16_7x3,
     tile_bf16_8x3},
    {0, tile_bf16_1x4, tile_bf16_2x4, tile_bf16_3x4, tile_bf16_4x4, tile_bf16_5x4, tile_bf16_6x4, tile_bf16_7x4,
     tile_bf16_8x4},
};

/// gemm_avx512's panels and tiles on pair words (gemm_bf16_portable's contract: K counts pairs, lda and ldb words).
static BF16 void gemm_bf16_avx512(int64_t count, const segment *segs, int64_t N, int64_t K, int64_t lda,
                                  const float *b, int64_t ldb, const float *bias, int64_t ldc, int64_t ldr, int clamp) {
    gemm_panels(tiles_bf16, count, segs, N, K, lda, b, ldb, bias, ldc, ldr, clamp);
}

/// to_bf16_portable with vcvtneps2bf16 (round to nearest even), 16 floats at a time.
static BF16 void to_bf16_avx512(const float *src, int64_t rows, int64_t cols, int64_t lds, float *dst, int64_t words) {
    uint16_t *d = (uint16_t *)dst;
    for (int64_t r = 0; r < rows; r++) {
        for (int64_t c = 0; c < 2 * words; c += VEC) {
            int64_t have = cols - c, room = 2 * words - c;
            __mmask16 load = have >= VEC ? (__mmask16)0xFFFF : (have <= 0 ? 0 : (__mmask16)((1u << have) - 1));
            __mmask16 store = room >= VEC ? (__mmask16)0xFFFF : (__mmask16)((1u << room) - 1);
            __m256bh h = _mm512_cvtneps_pbh(_mm512_maskz_loadu_ps(load, src + r * lds + c));
            _mm256_mask_storeu_epi16(d + r * 2 * words + c, store, (__m256i)h);
        }
    }
}

// ---- AMX kernels ------------------------------------------------------------------
// Eight 16 x 64-byte tiles: four fp32 accumulators (32 x 32 outputs), two A tiles (16 rows x 16 pairs),
// two B tiles (16 pairs x 16 columns, the packing's layout as is).
#define AMX __attribute__((target("amx-tile,amx-bf16,avx512f,avx512dq,avx512bw,avx512vl,avx512bf16,fma,avx2")))
typedef struct { uint8_t palette_id, start_row, reserved[14]; uint16_t colsb[16]; uint8_t rows[16]; } tile_config;

/// Rows [r0, r0 + 16) (those below M) of the outputs, columns [n0, n0 + 16) (those below N), from the 16 x 16
/// tile `t`: plus bias (and residual), ReLU6 when clamp, stored through the segments the rows belong to.
static INLINE AMX void amx_store(const float *t, int64_t r0, int64_t M, int64_t n0, int64_t N, const segment *segs,
                                 const float *bias, int64_t ldc, int64_t ldr, int clamp) {
    const int64_t lanes = N - n0;
    const __mmask16 m = lanes >= VEC ? (__mmask16)0xFFFF : (__mmask16)((1u << lanes) - 1);
    const __m512 b = _mm512_maskz_loadu_ps(m, bias + n0), zero = _mm512_setzero_ps(), six = _mm512_set1_ps(6.0f);
    int64_t seg = 0, first = 0;  // the segment of row r and its first row
    for (int64_t r = r0; r < r0 + 16 && r < M; r++) {
        while (r >= first + segs[seg].m) first += segs[seg++].m;
        const int64_t row = r - first;
        __m512 v = _mm512_add_ps(_mm512_loadu_ps(t + (r - r0) * VEC), b);
        if (segs[seg].res) v = _mm512_add_ps(v, _mm512_maskz_loadu_ps(m, segs[seg].res + row * ldr + n0));
        if (clamp) v = _mm512_min_ps(_mm512_max_ps(v, zero), six);
        _mm512_mask_storeu_ps(segs[seg].c + row * ldc + n0, m, v);
    }
}

/// gemm_bf16_portable's contract on AMX tiles, with two more conditions: the segments' A rows follow each other
/// in memory (one matrix of all their rows, readable up to a multiple of 32 rows), and K (pairs) is a multiple of 16
/// with zeros in A and B past the real depth.
static AMX void gemm_bf16_amx(int64_t count, const segment *segs, int64_t N, int64_t K, int64_t lda, const float *b,
                              int64_t ldb, const float *bias, int64_t ldc, int64_t ldr, int clamp) {
    int64_t M = 0;
    for (int64_t i = 0; i < count; i++) M += segs[i].m;
    if (M == 0) return;
    tile_config config;
    memset(&config, 0, sizeof config);
    config.palette_id = 1;
    for (int t = 0; t < 8; t++) { config.colsb[t] = 64; config.rows[t] = 16; }
    // Every call: oneDNN's AMX kernels configure the same threads' tiles their own way in between.
    _tile_loadconfig(&config);
    const float *a = segs[0].a;
    float out[4][16 * VEC] __attribute__((aligned(64)));
    const int64_t sa = lda * (int64_t)sizeof(float), sb = ldb * (int64_t)sizeof(float);
    const int64_t m_tiles = (M + 15) / 16, n_tiles = (N + VEC - 1) / VEC;
    for (int64_t nt = 0; nt < n_tiles; nt += 2) {
        const int two_n = nt + 1 < n_tiles;
        const float *bn = b + nt * VEC;
        for (int64_t mt = 0; mt < m_tiles; mt += 2) {
            const int two_m = mt + 1 < m_tiles;
            const float *am = a + mt * 16 * lda;
            _tile_zero(0); _tile_zero(1); _tile_zero(2); _tile_zero(3);
            for (int64_t k = 0; k < K; k += TILE_PAIRS) {
                _tile_loadd(4, am + k, sa);
                _tile_loadd(6, bn + k * ldb, sb);
                _tile_dpbf16ps(0, 4, 6);
                if (two_n) { _tile_loadd(7, bn + k * ldb + VEC, sb); _tile_dpbf16ps(1, 4, 7); }
                if (two_m) {
                    _tile_loadd(5, am + 16 * lda + k, sa);
                    _tile_dpbf16ps(2, 5, 6);
                    if (two_n) _tile_dpbf16ps(3, 5, 7);
                }
            }
            _tile_stored(0, out[0], 64);
            if (two_n) _tile_stored(1, out[1], 64);
            if (two_m) _tile_stored(2, out[2], 64);
            if (two_m && two_n) _tile_stored(3, out[3], 64);
            for (int i = 0; i <= two_m; i++)
                for (int j = 0; j <= two_n; j++)
                    amx_store(out[2 * i + j], (mt + i) * 16, M, (nt + j) * VEC, N, segs, bias, ldc, ldr, clamp);
        }
    }
    _tile_release();
}

// ---- AVX2 + FMA kernels ---------------------------------------------------------
// The same loops for CPUs without AVX-512 (AMD EPYC before Zen 4, many cloud VMs): a 16-channel
// vector of the packing is two 8-lane registers; 16 registers hold 6 x 2 accumulators, the two
// B vectors and the broadcast A value (AVX2, lanes_below: internal.h).

/// MR x 16 tile; m0/m1 mask the stores (and the residual loads) of the two halves.
static INLINE AVX2 void tile_avx2(const int MR, int64_t K, const float *a, int64_t lda, const float *b, int64_t ldb,
                                  const float *bias, float *c, int64_t ldc, const float *res, int64_t ldr,
                                  __m256i m0, __m256i m1, int clamp) {
    __m256 acc[6][2];
    const __m256 bias0 = _mm256_loadu_ps(bias), bias1 = _mm256_loadu_ps(bias + 8);
    for (int i = 0; i < MR; i++) { acc[i][0] = bias0; acc[i][1] = bias1; }
    for (int64_t k = 0; k < K; k++) {
        const __m256 v0 = _mm256_loadu_ps(b + k * ldb), v1 = _mm256_loadu_ps(b + k * ldb + 8);
        for (int i = 0; i < MR; i++) {
            const __m256 av = _mm256_broadcast_ss(a + i * lda + k);
            acc[i][0] = _mm256_fmadd_ps(av, v0, acc[i][0]);
            acc[i][1] = _mm256_fmadd_ps(av, v1, acc[i][1]);
        }
    }
    const __m256 zero = _mm256_setzero_ps(), six = _mm256_set1_ps(6.0f);
    for (int i = 0; i < MR; i++) {
        __m256 r0 = acc[i][0], r1 = acc[i][1];
        if (res) {
            r0 = _mm256_add_ps(r0, _mm256_maskload_ps(res + i * ldr, m0));
            r1 = _mm256_add_ps(r1, _mm256_maskload_ps(res + i * ldr + 8, m1));
        }
        if (clamp) {
            r0 = _mm256_min_ps(_mm256_max_ps(r0, zero), six);
            r1 = _mm256_min_ps(_mm256_max_ps(r1, zero), six);
        }
        _mm256_maskstore_ps(c + i * ldc, m0, r0);
        _mm256_maskstore_ps(c + i * ldc + 8, m1, r1);
    }
}

typedef void (*tile_avx2_fn)(int64_t K, const float *a, int64_t lda, const float *b, int64_t ldb, const float *bias,
                             float *c, int64_t ldc, const float *res, int64_t ldr, __m256i m0, __m256i m1, int clamp);
#define TILE_AVX2(MR)                                                                                           \
    static AVX2 void tile_avx2_##MR(int64_t K, const float *a, int64_t lda, const float *b, int64_t ldb,        \
                                    const float *bias, float *c, int64_t ldc, const float *res, int64_t ldr,   \
                                    __m256i m0, __m256i m1, int clamp) {                                       \
        tile_avx2(MR, K, a, lda, b, ldb, bias, c, ldc, res, ldr, m0, m1, clamp);                                \
    }
TILE_AVX2(1) TILE_AVX2(2) TILE_AVX2(3) TILE_AVX2(4) TILE_AVX2(5) TILE_AVX2(6)
static const tile_avx2_fn tiles_avx2[7] = {0, tile_avx2_1, tile_avx2_2, tile_avx2_3, tile_avx2_4, tile_avx2_5, tile_avx2_6};

/// Same contract as gemm_avx512: 16-column panels outermost, tiles of equal height up to 6 rows.
static AVX2 void gemm_avx2(int64_t count, const segment *segs, int64_t N, int64_t K, int64_t lda, const float *b,
                           int64_t ldb, const float *bias, int64_t ldc, int64_t ldr, int clamp) {
    const int64_t vectors = (N + VEC - 1) / VEC;
    for (int64_t v = 0; v < vectors; v++) {
        const int64_t n0 = v * VEC, lanes = N - n0;
        const __m256i m0 = lanes_below(lanes), m1 = lanes_below(lanes - 8);
        for (int64_t i = 0; i < count; i++) {
            const segment g = segs[i];
            const int64_t count_tiles = (g.m + 5) / 6;
            for (int64_t t = 0, r0 = 0; t < count_tiles; t++) {
                int rows = (int)((g.m - r0) / (count_tiles - t));
                tiles_avx2[rows](K, g.a + r0 * lda, lda, b + n0, ldb, bias + n0, g.c + r0 * ldc + n0, ldc,
                                 g.res ? g.res + r0 * ldr + n0 : NULL, ldr, m0, m1, clamp);
                r0 += rows;
            }
        }
    }
}

/// Depthwise row, 16 channels (two registers) per step, `P` output pixels per weight load.
static INLINE AVX2 void depthwise_row_avx2_k(const int k, const int stride, const float *const *rows, const float *w,
                                             const float *bias, float *out, int64_t out_w, int64_t hp) {
    enum { P = 4 };
    const __m256 zero = _mm256_setzero_ps(), six = _mm256_set1_ps(6.0f);
    const int64_t k2 = k * k;
    int64_t ox = 0;
    for (; ox + P <= out_w; ox += P) {
        for (int64_t c = 0; c < hp; c += VEC) {
            const float *wc = w + (c / VEC) * k2 * VEC;
            __m256 acc[P][2];
            for (int p = 0; p < P; p++) { acc[p][0] = _mm256_loadu_ps(bias + c); acc[p][1] = _mm256_loadu_ps(bias + c + 8); }
            for (int ky = 0; ky < k; ky++) {
                const float *r = rows[ky] + ox * stride * hp + c;
                for (int kx = 0; kx < k; kx++) {
                    const __m256 w0 = _mm256_loadu_ps(wc + (ky * k + kx) * VEC), w1 = _mm256_loadu_ps(wc + (ky * k + kx) * VEC + 8);
                    for (int p = 0; p < P; p++) {
                        const float *x = r + (p * stride + kx) * hp;
                        acc[p][0] = _mm256_fmadd_ps(w0, _mm256_loadu_ps(x), acc[p][0]);
                        acc[p][1] = _mm256_fmadd_ps(w1, _mm256_loadu_ps(x + 8), acc[p][1]);
                    }
                }
            }
            for (int p = 0; p < P; p++) {
                _mm256_storeu_ps(out + (ox + p) * hp + c, _mm256_min_ps(_mm256_max_ps(acc[p][0], zero), six));
                _mm256_storeu_ps(out + (ox + p) * hp + c + 8, _mm256_min_ps(_mm256_max_ps(acc[p][1], zero), six));
            }
        }
    }
    for (; ox < out_w; ox++) {
        for (int64_t c = 0; c < hp; c += VEC) {
            const float *wc = w + (c / VEC) * k2 * VEC;
            __m256 a0 = _mm256_loadu_ps(bias + c), a1 = _mm256_loadu_ps(bias + c + 8);
            for (int ky = 0; ky < k; ky++) {
                const float *r = rows[ky] + ox * stride * hp + c;
                for (int kx = 0; kx < k; kx++) {
                    a0 = _mm256_fmadd_ps(_mm256_loadu_ps(wc + (ky * k + kx) * VEC), _mm256_loadu_ps(r + kx * hp), a0);
                    a1 = _mm256_fmadd_ps(_mm256_loadu_ps(wc + (ky * k + kx) * VEC + 8), _mm256_loadu_ps(r + kx * hp + 8), a1);
                }
            }
            _mm256_storeu_ps(out + ox * hp + c, _mm256_min_ps(_mm256_max_ps(a0, zero), six));
            _mm256_storeu_ps(out + ox * hp + c + 8, _mm256_min_ps(_mm256_max_ps(a1, zero), six));
        }
    }
}

static AVX2 void depthwise_row_avx2(const float *const *rows, const float *w, const float *bias, float *out,
                                    int64_t out_w, int64_t hp, int64_t k, int64_t stride) {
    if (k == 3 && stride == 1) depthwise_row_avx2_k(3, 1, rows, w, bias, out, out_w, hp);
    else if (k == 3 && stride == 2) depthwise_row_avx2_k(3, 2, rows, w, bias, out, out_w, hp);
    else if (k == 5 && stride == 1) depthwise_row_avx2_k(5, 1, rows, w, bias, out, out_w, hp);
    else if (k == 5 && stride == 2) depthwise_row_avx2_k(5, 2, rows, w, bias, out, out_w, hp);
    else depthwise_row_portable(rows, w, bias, out, out_w, hp, k, stride);
}
#else
// No x86-64 kernels compiled: use_avx512() and use_avx2() below are 0; these names keep the dispatch as is.
#define gemm_avx512 gemm_portable
#define depthwise_row_avx512 depthwise_row_portable
#define gemm_avx2 gemm_portable
#define depthwise_row_avx2 depthwise_row_portable
#define to_bf16_avx512 to_bf16_portable
#define gemm_bf16_avx512 gemm_bf16_portable
#define gemm_bf16_amx gemm_bf16_portable
#endif

// ---- the block -------------------------------------------------------------------
typedef void (*gemm_fn)(int64_t count, const segment *segs, int64_t N, int64_t K, int64_t lda, const float *b,
                        int64_t ldb, const float *bias, int64_t ldc, int64_t ldr, int clamp);
typedef void (*depthwise_fn)(const float *const *rows, const float *w, const float *bias, float *out, int64_t out_w,
                             int64_t hp, int64_t k, int64_t stride);
typedef void (*to_bf16_fn)(const float *src, int64_t rows, int64_t cols, int64_t lds, float *dst, int64_t words);

typedef struct {
    const graft_inverted_residual_shape *s;
    const float *packed, *input, *residual;
    float *output;
    layout l;
    int64_t bands;  // work item i: image i / bands, output rows of band i % bands
    gemm_fn gemm;
    depthwise_fn depthwise;
    const float *bf16;  // graft_inverted_residual_pack_bf16's words: the GEMMs run in bf16; NULL: fp32
    gemm_fn gemm_bf16;
    to_bf16_fn to_bf16;
    int whole_tiles;    // gemm_bf16 reads whole AMX tiles: K in padded pairs, A rows in one matrix
    _Atomic int failed;
} job;

/// The widest micro-kernels allowed: 0 any, 1 AVX-512 at most (no AMX), 2 AVX2 at most, 3 portable only (tests
/// take the other CPUs' paths).
static _Atomic int isa_cap = 0;

void graft_inverted_residual_cap_isa(int cap) { atomic_store(&isa_cap, cap); }

static int cap_allows(int level) { return atomic_load_explicit(&isa_cap, memory_order_relaxed) <= level; }

static int use_avx512(void) {
#if GRAFT_X86_64
    return cap_allows(1) && __builtin_cpu_supports("avx512f");
#else
    return 0;
#endif
}

static int use_avx2(void) {
#if GRAFT_X86_64
    return cap_allows(2) && __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
#else
    return 0;
#endif
}

/// AMX tiles need the CPU's support and, on Linux, the kernel's permission for this process (asked once).
/// GRAFT_AMX=0 keeps them off (fp32 GEMMs then), for comparisons.
static int amx_available(void) {
#if GRAFT_X86_64 && defined(__linux__)
    static _Atomic int state = 0;  // 0 not asked yet, 1 granted, -1 not available
    int s = atomic_load(&state);
    if (s == 0) {
        enum { ARCH_REQ_XCOMP_PERM = 0x1023, XFEATURE_XTILEDATA = 18 };
        const char *env = getenv("GRAFT_AMX");
        const int wanted = !(env && strcmp(env, "0") == 0);
        const int cpu = __builtin_cpu_supports("amx-tile") && __builtin_cpu_supports("amx-bf16")
            && __builtin_cpu_supports("avx512bf16");  // the A rows' conversion
        s = wanted && cpu && syscall(SYS_arch_prctl, ARCH_REQ_XCOMP_PERM, XFEATURE_XTILEDATA) == 0 ? 1 : -1;
        atomic_store(&state, s);
    }
    return s == 1;
#else
    return 0;
#endif
}

static int use_amx(void) { return cap_allows(0) && amx_available(); }

/// AVX512-BF16 dot products where there is no AMX; GRAFT_AVX512_BF16=0 keeps them off (fp32 GEMMs then).
static int use_avx512_bf16(void) {
#if GRAFT_X86_64
    static _Atomic int state = 0;  // 0 not read yet, 1 available, -1 not
    int s = atomic_load(&state);
    if (s == 0) {
        const char *env = getenv("GRAFT_AVX512_BF16");
        s = __builtin_cpu_supports("avx512bf16") && !(env && strcmp(env, "0") == 0) ? 1 : -1;
        atomic_store(&state, s);
    }
    return cap_allows(1) && s == 1;
#else
    return 0;
#endif
}

const char *graft_inverted_residual_bf16_isa(void) {
    return use_amx() ? "amx" : (use_avx512_bf16() ? "avx512_bf16" : NULL);
}

int graft_inverted_residual_has_bf16(void) { return graft_inverted_residual_bf16_isa() != NULL; }

const char *graft_inverted_residual_isa(void) { return use_avx512() ? "avx512" : (use_avx2() ? "avx2" : "portable"); }

/// Output rows handled together: enough pixels (48) that a 1x1 weight panel read from L2 serves
/// several tiles, within 512 KB of expanded rows.
static int64_t group_rows(const graft_inverted_residual_shape *s, int64_t row_floats) {
    int64_t g = (48 + s->out_w - 1) / s->out_w;
    if (g > 16) g = 16;
    while (g > 1 && ((g - 1) * s->stride + s->kernel) * row_floats * (int64_t)sizeof(float) > (512 << 10)) g--;
    return g;
}

/// Work items [begin, end) (an image, or a band of its output rows), a group of output rows at a time.
static void run_items(void *p, int64_t begin, int64_t end) {
    job *j = p;
    const graft_inverted_residual_shape *s = j->s;
    const int64_t hp = round16(s->hidden), k = s->kernel, stride = s->stride;
    // Padded row: column x of the input sits at x + pad_left; the window of output
    // column ox starts at ox * stride.
    int64_t width = (s->out_w - 1) * stride + k;
    if (width < s->in_w + s->pad_left) width = s->in_w + s->pad_left;
    const int64_t row_floats = width * hp, group = group_rows(s, row_floats);
    // A ring of expanded input rows, slot iy % slots: the windows of `group` output rows span `slots` rows.
    const int64_t slots = (group - 1) * stride + k;
    // bf16: the expansion's input rows and the depthwise rows as pair words (padded to whole tiles, 32 rows of
    // slack for AMX's 32-row blocks), right before their GEMMs, which run `expand_k` / `project_k` pairs deep.
    const int64_t in_words = pairs(s->in_c), dw_words = pairs(hp);
    const int64_t expand_k = j->whole_tiles ? in_words : half_up(s->in_c), project_k = j->whole_tiles ? dw_words : half_up(s->hidden);
    const int64_t bf16_floats = j->bf16 ? (slots * s->in_w + 32) * in_words + (group * s->out_w + 32) * dw_words : 0;
    float *scratch = aligned_alloc(64, (size_t)(round16((slots + 1) * row_floats + group * s->out_w * hp) + bf16_floats) * sizeof(float));
    int64_t *slot_row = malloc((size_t)slots * sizeof(int64_t));
    segment *segs = malloc((size_t)slots * sizeof(segment));
    if (!scratch || !slot_row || !segs) {
        free(scratch); free(slot_row); free(segs);
        atomic_store(&j->failed, 1);
        return;
    }
    float *ring = scratch, *zero_row = scratch + slots * row_floats, *dw_rows = zero_row + row_floats;
    float *in_bf16 = scratch + round16((slots + 1) * row_floats + group * s->out_w * hp);
    float *dw_bf16 = in_bf16 + (slots * s->in_w + 32) * in_words;
    memset(scratch, 0, (size_t)((slots + 1) * row_floats) * sizeof(float));  // margins and the zero row stay zero
    const float *window[8];
    const float *P = j->packed;
    const int64_t op = round16(s->out_c), row_out = s->out_w * s->out_c;
    for (int64_t item = begin; item < end; item++) {
        const int64_t n = item / j->bands, band = item % j->bands;
        const int64_t first = s->out_h * band / j->bands, last = s->out_h * (band + 1) / j->bands;
        for (int64_t i = 0; i < slots; i++) slot_row[i] = -1;
        const float *in = j->input + n * s->in_h * s->in_w * s->in_c;
        const float *res = j->residual ? j->residual + n * s->out_h * row_out : NULL;
        float *out = j->output + n * s->out_h * row_out;
        for (int64_t oy0 = first; oy0 < last; oy0 += group) {
            const int64_t rows = last - oy0 < group ? last - oy0 : group;
            // Expand the input rows these output rows need that the ring does not hold yet.
            int64_t count = 0;
            const int64_t top = oy0 * stride - s->pad_top, bottom = (oy0 + rows - 1) * stride - s->pad_top + k;
            for (int64_t iy = top < 0 ? 0 : top; iy < bottom && iy < s->in_h; iy++) {
                int64_t slot = iy % slots;
                if (slot_row[slot] == iy) continue;
                slot_row[slot] = iy;
                segs[count++] = (segment){in + iy * s->in_w * s->in_c, ring + slot * row_floats + s->pad_left * hp, NULL, s->in_w};
            }
            if (s->has_expand && j->bf16) {
                for (int64_t i = 0; i < count; i++) {
                    float *words = in_bf16 + i * s->in_w * in_words;
                    j->to_bf16(segs[i].a, s->in_w, s->in_c, s->in_c, words, in_words);
                    segs[i].a = words;
                }
                j->gemm_bf16(count, segs, hp, expand_k, in_words, j->bf16, hp, P + j->l.expand_b, hp, 0, 1);
            } else if (s->has_expand) {
                j->gemm(count, segs, hp, s->in_c, s->in_c, P + j->l.expand_w, hp, P + j->l.expand_b, hp, 0, 1);
            } else {
                for (int64_t i = 0; i < count; i++)
                    for (int64_t x = 0; x < s->in_w; x++) memcpy(segs[i].c + x * hp, segs[i].a + x * s->in_c, (size_t)s->in_c * sizeof(float));
            }
            for (int64_t r = 0; r < rows; r++) {
                for (int64_t ky = 0; ky < k; ky++) {
                    int64_t iy = (oy0 + r) * stride - s->pad_top + ky;
                    window[ky] = iy < 0 || iy >= s->in_h ? zero_row : ring + (iy % slots) * row_floats;
                }
                j->depthwise(window, P + j->l.dw_w, P + j->l.dw_b, dw_rows + r * s->out_w * hp, s->out_w, hp, k, stride);
            }
            // Output rows are consecutive in memory: one segment.
            segment g = {dw_rows, out + oy0 * row_out, res ? res + oy0 * row_out : NULL, rows * s->out_w};
            if (j->bf16) {
                j->to_bf16(dw_rows, g.m, hp, hp, dw_bf16, dw_words);
                g.a = dw_bf16;
                const float *project = j->bf16 + (s->has_expand ? in_words * hp : 0);
                j->gemm_bf16(1, &g, s->out_c, project_k, dw_words, project, op, P + j->l.project_b, s->out_c, s->out_c, 0);
            } else {
                j->gemm(1, &g, s->out_c, s->hidden, hp, P + j->l.project_w, op, P + j->l.project_b, s->out_c, s->out_c, 0);
            }
        }
    }
    free(segs);
    free(slot_row);
    free(scratch);
}

static int forward(const graft_inverted_residual_shape *s, const float *packed, const float *bf16, const float *input,
                   const float *residual, float *output) {
    if (s->kernel < 1 || s->kernel > 8 || s->stride < 1 || s->batch < 0 || s->pad_top < 0 || s->pad_left < 0 ||
        (!s->has_expand && s->hidden != s->in_c) || s->out_h < 1 || s->out_w < 1)
        return -1;
    // Whole images per thread when they divide evenly (or are many); otherwise every image in
    // one band of rows per thread, which costs a few halo rows expanded twice.
    int64_t threads = graft_threads();
    int64_t bands = (s->batch % threads == 0 || s->batch >= 4 * threads) ? 1 : threads;
    if (bands > s->out_h) bands = s->out_h;
    job j = {s, packed, input, residual, output, packed_layout(s), bands, gemm_portable, depthwise_row_portable,
             bf16, gemm_bf16_portable, to_bf16_portable, 0, 0};
    if (use_avx512()) { j.gemm = gemm_avx512; j.depthwise = depthwise_row_avx512; }
    else if (use_avx2()) { j.gemm = gemm_avx2; j.depthwise = depthwise_row_avx2; }
    if (bf16 && use_amx()) { j.gemm_bf16 = gemm_bf16_amx; j.to_bf16 = to_bf16_avx512; j.whole_tiles = 1; }
    else if (bf16 && use_avx512_bf16()) { j.gemm_bf16 = gemm_bf16_avx512; j.to_bf16 = to_bf16_avx512; }
    graft_parallel_for(s->batch * bands, 1, &j, run_items);
    return atomic_load(&j.failed) ? -2 : 0;
}

int graft_inverted_residual_forward(const graft_inverted_residual_shape *s, const float *packed, const float *input,
                                    const float *residual, float *output) {
    return forward(s, packed, NULL, input, residual, output);
}

int graft_inverted_residual_forward_bf16(const graft_inverted_residual_shape *s, const float *packed,
                                         const float *packed_bf16, const float *input, const float *residual,
                                         float *output) {
    return forward(s, packed, packed_bf16, input, residual, output);
}
