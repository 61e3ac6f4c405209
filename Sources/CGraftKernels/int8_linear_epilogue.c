// The finish of an int8 linear where oneDNN's matmul runs without brgemm (AVX2): one pass over the matmul's
// w[o] acc that applies each row's scale, the zero points' rank-one term, the bias, a residual sum and the
// activation (docs/PRECISION.md, "int8 linears"). oneDNN's binary primitive cannot: its post-ops broadcast per
// column only, and the rank-one term needs a per-row factor after a per-column one. The activations are written
// with branch-free polynomials (exp as Cephes' expf, erf as Abramowitz-Stegun 7.1.26, oneDNN's gelu_erf) so each
// row's loop vectorises per clone (with FMA: GELU's row runs 1.4x faster on AVX2 than without).
#include "CGraftKernels.h"
#include "internal.h"
#include <math.h>
#include <stdlib.h>
#include <string.h>

static inline float sigmoid_poly(float v) { return 1.0f / (1.0f + exp_poly(-v)); }

static inline float gelu_poly(float v) {
    const float a = fabsf(v) * 0.70710678118654752f;
    const float t = 1.0f / (1.0f + 0.3275911f * a);
    float p = 1.061405429f;
    p = p * t - 1.453152027f;
    p = p * t + 1.421413741f;
    p = p * t - 0.284496736f;
    p = p * t + 0.254829592f;
    const float erf_a = 1.0f - p * t * exp_poly(-a * a);
    return 0.5f * v * (1.0f + (v < 0 ? -erf_a : erf_a));
}

static inline float activate(float v, int32_t kind) {
    switch (kind) {
    case GRAFT_ACT_RELU: return v > 0 ? v : 0;
    case GRAFT_ACT_RELU6: return v < 0 ? 0 : (v > 6 ? 6 : v);
    case GRAFT_ACT_SILU: return v * sigmoid_poly(v);
    case GRAFT_ACT_GELU: return gelu_poly(v);
    case GRAFT_ACT_SIGMOID: return sigmoid_poly(v);
    case GRAFT_ACT_TANH: return 2.0f * sigmoid_poly(2.0f * v) - 1.0f;
    case GRAFT_ACT_HARDSWISH: { float g = v + 3; g = g < 0 ? 0 : (g > 6 ? 6 : g); return v * g * (1.0f / 6); }
    case GRAFT_ACT_LEAKY_RELU: return v > 0 ? v : 0.1f * v;
    default: return v;
    }
}

typedef struct {
    const float *x, *row_scale, *row_term, *col_term, *bias;
    int64_t cols;
    int32_t accumulate, activation;
    float *c;
    // With codes: each finished row as u8 codes with its scale and zero point (c unused); failed[0] set when a
    // chunk's row scratch cannot be allocated.
    uint8_t *codes;
    float *scales, *zero_points;
    int32_t *failed;
} epilogue_args;

// One row, one activation: KIND is a constant in each clone, so the switch in `activate` folds and the loop
// vectorises.
#define FINISH_ROW(NAME, KIND)                                                                          \
    GRAFT_CLONES_FMA static void NAME(const epilogue_args *a, int64_t r, float *c) {                   \
        const float *x = a->x + r * a->cols, *t = a->col_term, *b = a->bias;                            \
        const float s = a->row_scale[r], z = a->row_term[r];                                            \
        if (a->accumulate)                                                                              \
            for (int64_t o = 0; o < a->cols; o++) c[o] = activate(s * x[o] + z * t[o] + b[o] + c[o], KIND); \
        else                                                                                            \
            for (int64_t o = 0; o < a->cols; o++) c[o] = activate(s * x[o] + z * t[o] + b[o], KIND);   \
    }
FINISH_ROW(finish_none, GRAFT_ACT_NONE)
FINISH_ROW(finish_relu, GRAFT_ACT_RELU)
FINISH_ROW(finish_relu6, GRAFT_ACT_RELU6)
FINISH_ROW(finish_silu, GRAFT_ACT_SILU)
FINISH_ROW(finish_gelu, GRAFT_ACT_GELU)
FINISH_ROW(finish_sigmoid, GRAFT_ACT_SIGMOID)
FINISH_ROW(finish_tanh, GRAFT_ACT_TANH)
FINISH_ROW(finish_hardswish, GRAFT_ACT_HARDSWISH)
FINISH_ROW(finish_leaky_relu, GRAFT_ACT_LEAKY_RELU)

typedef void (*finish_row_fn)(const epilogue_args *, int64_t, float *);

static void epilogue_chunk(void *p, int64_t begin, int64_t end) {
    const epilogue_args *a = p;
    static const finish_row_fn rows[] = {finish_none, finish_relu, finish_relu6, finish_silu, finish_gelu,
                                         finish_sigmoid, finish_tanh, finish_hardswish, finish_leaky_relu};
    const finish_row_fn finish = a->activation > 0 && a->activation <= GRAFT_ACT_LEAKY_RELU ? rows[a->activation] : finish_none;
    if (!a->codes) {
        for (int64_t r = begin; r < end; r++) finish(a, r, a->c + r * a->cols);
        return;
    }
    // Codes: each row finished into a row of scratch (not in place: the loops vectorise only where x and c do not
    // overlap), then quantized while it is still in L1/L2.
    float *row = aligned_alloc(64, (size_t)((a->cols * (int64_t)sizeof(float) + 63) / 64 * 64));
    if (!row) { __atomic_store_n(a->failed, 1, __ATOMIC_RELAXED); return; }
    for (int64_t r = begin; r < end; r++) {
        finish(a, r, row);
        graft_quantize_row_u8(row, NULL, a->cols, a->scales + r, a->zero_points + r, a->codes + r * a->cols);
    }
    free(row);
}

static void run(epilogue_args *a, int64_t rows) {
    int64_t grain = a->cols > 0 ? GRAFT_GRAIN / a->cols : rows;
    graft_parallel_for(rows, grain > 0 ? grain : 1, a, epilogue_chunk);
}

void graft_int8_linear_epilogue(const float *x, int64_t rows, int64_t cols, const float *row_scale, const float *row_term,
                                const float *col_term, const float *bias, int32_t accumulate, int32_t activation, float *c) {
    epilogue_args a = {x, row_scale, row_term, col_term, bias, cols, accumulate, activation, c, NULL, NULL, NULL, NULL};
    run(&a, rows);
}

int32_t graft_int8_linear_epilogue_codes(const float *x, int64_t rows, int64_t cols, const float *row_scale,
                                         const float *row_term, const float *col_term, const float *bias, int32_t activation,
                                         float *scales, float *zero_points, uint8_t *codes) {
    int32_t failed = 0;
    epilogue_args a = {x, row_scale, row_term, col_term, bias, cols, 0, activation, NULL, codes, scales, zero_points, &failed};
    run(&a, rows);
    return failed ? -1 : 0;
}
