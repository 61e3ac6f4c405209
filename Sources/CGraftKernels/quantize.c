// Dynamic int8 quantization of matmul inputs (docs/PRECISION.md, "int8 linears"): each row's range, then the
// row as u8 with its own scale. Plain loops the compiler vectorises per clone; the driver splits the rows across
// the OpenMP threads.
#include "CGraftKernels.h"
#include "internal.h"
#include <math.h>

#define LANES 16

// The kernels' bodies: x, or with a column scale c (nullable) x * c, the product rounded to fp32 first as a separate
// multiply would (the smoothing of docs/PRECISION.md "int8 linears" folded into this pass). `scaled` is a constant
// in each caller, so every clone compiles a loop without the branch.
static inline __attribute__((always_inline)) float column_value(const float *x, const float *c, int64_t i, int scaled) {
    return scaled ? x[i] * c[i] : x[i];
}

static inline __attribute__((always_inline)) void min_max_body(const float *x, const float *c, int64_t n, float *lo, float *hi,
                                                               int scaled) {
    float mn[LANES], mx[LANES];
    for (int j = 0; j < LANES; j++) { mn[j] = 0; mx[j] = 0; }   // the range always holds 0 (zero padding is exact)
    int64_t i = 0;
    for (; i + LANES <= n; i += LANES)
        for (int j = 0; j < LANES; j++) {
            float v = column_value(x, c, i + j, scaled);
            mn[j] = v < mn[j] ? v : mn[j];
            mx[j] = v > mx[j] ? v : mx[j];
        }
    float a = 0, b = 0;
    for (; i < n; i++) {
        float v = column_value(x, c, i, scaled);
        a = v < a ? v : a;
        b = v > b ? v : b;
    }
    for (int j = 0; j < LANES; j++) { a = mn[j] < a ? mn[j] : a; b = mx[j] > b ? mx[j] : b; }
    *lo = a; *hi = b;
}

static inline __attribute__((always_inline)) void quantize_u8_body(const float *x, const float *c, int64_t n, float inv_scale,
                                                                   float zero_point, uint8_t *out, int scaled) {
    // + 0.5 and truncation rounds half up; the value is clamped to [0, 255] first, so truncation is a floor.
    const float shift = zero_point + 0.5f;
    for (int64_t i = 0; i < n; i++) {
        float v = column_value(x, c, i, scaled) * inv_scale + shift;
        v = v < 0.0f ? 0.0f : v;
        v = v > 255.0f ? 255.0f : v;
        out[i] = (uint8_t)(int32_t)v;
    }
}

GRAFT_CLONES static void min_max_kernel(const float *x, int64_t n, float *lo, float *hi) { min_max_body(x, NULL, n, lo, hi, 0); }
GRAFT_CLONES static void min_max_scaled_kernel(const float *x, const float *c, int64_t n, float *lo, float *hi) {
    min_max_body(x, c, n, lo, hi, 1);
}
GRAFT_CLONES static void quantize_u8_kernel(const float *x, int64_t n, float inv_scale, float zero_point, uint8_t *out) {
    quantize_u8_body(x, NULL, n, inv_scale, zero_point, out, 0);
}
GRAFT_CLONES static void quantize_u8_scaled_kernel(const float *x, const float *c, int64_t n, float inv_scale, float zero_point,
                                                   uint8_t *out) {
    quantize_u8_body(x, c, n, inv_scale, zero_point, out, 1);
}

// Per row: its own scale and zero point, so a row's codes do not depend on the rows batched with it, and the codes
// span the row's own range (asymmetric): z = round(-lo / ((hi - lo) / 255)) kept in 1...254 (brgemm's post-ops
// divide by z), then the scale max(hi / (255 - z), -lo / z), so nothing saturates and 0 is exact. A mostly positive row
// (GELU's output) puts z near 0 and spends almost every code on its positive side.
typedef struct { const float *x; const float *col_scale; int64_t cols; float *scales; float *zero_points; uint8_t *out; }
    quantize_rows_args;

void graft_quantize_row_u8(const float *row, const float *col_scale, int64_t cols, float *scale, float *zero_point, uint8_t *out) {
    float lo, hi;
    if (col_scale) min_max_scaled_kernel(row, col_scale, cols, &lo, &hi);
    else min_max_kernel(row, cols, &lo, &hi);
    float s = 1.0f, z = 128.0f;   // a row of zeros: every code is z
    const float span = (hi - lo) / 255.0f;
    if (span > 0 && span < INFINITY) {
        z = nearbyintf(-lo / span);
        z = z < 1.0f ? 1.0f : (z > 254.0f ? 254.0f : z);
        const float up = hi / (255.0f - z), down = -lo / z;
        s = up > down ? up : down;
    }
    *scale = s;
    *zero_point = z;
    if (col_scale) quantize_u8_scaled_kernel(row, col_scale, cols, 1.0f / s, z, out);
    else quantize_u8_kernel(row, cols, 1.0f / s, z, out);
}

static void quantize_rows_chunk(void *p, int64_t begin, int64_t end) {
    const quantize_rows_args *a = p;
    for (int64_t r = begin; r < end; r++)
        graft_quantize_row_u8(a->x + r * a->cols, a->col_scale, a->cols, a->scales + r, a->zero_points + r, a->out + r * a->cols);
}

void graft_quantize_rows_u8(const float *x, const float *col_scale, int64_t rows, int64_t cols, float *scales,
                            float *zero_points, uint8_t *out) {
    quantize_rows_args a = {x, col_scale, cols, scales, zero_points, out};
    int64_t grain = cols > 0 ? GRAFT_GRAIN / cols : rows;
    graft_parallel_for(rows, grain > 0 ? grain : 1, &a, quantize_rows_chunk);
}
