// Dynamic int8 quantization of matmul inputs (docs/PRECISION.md, "int8 linears"): each row's range, then the
// row as u8 with its own scale. Plain loops the compiler vectorises per clone; the driver splits the rows across
// the OpenMP threads.
#include "CGraftKernels.h"
#include "internal.h"
#include <math.h>

#define LANES 16

GRAFT_CLONES static void min_max_kernel(const float *x, int64_t n, float *lo, float *hi) {
    float mn[LANES], mx[LANES];
    for (int j = 0; j < LANES; j++) { mn[j] = 0; mx[j] = 0; }   // the range always holds 0 (zero padding is exact)
    int64_t i = 0;
    for (; i + LANES <= n; i += LANES)
        for (int j = 0; j < LANES; j++) {
            float v = x[i + j];
            mn[j] = v < mn[j] ? v : mn[j];
            mx[j] = v > mx[j] ? v : mx[j];
        }
    float a = 0, b = 0;
    for (; i < n; i++) { a = x[i] < a ? x[i] : a; b = x[i] > b ? x[i] : b; }
    for (int j = 0; j < LANES; j++) { a = mn[j] < a ? mn[j] : a; b = mx[j] > b ? mx[j] : b; }
    *lo = a; *hi = b;
}

GRAFT_CLONES static void quantize_u8_kernel(const float *x, int64_t n, float inv_scale, float zero_point, uint8_t *out) {
    // + 0.5 and truncation rounds half up; the value is clamped to [0, 255] first, so truncation is a floor.
    const float shift = zero_point + 0.5f;
    for (int64_t i = 0; i < n; i++) {
        float v = x[i] * inv_scale + shift;
        v = v < 0.0f ? 0.0f : v;
        v = v > 255.0f ? 255.0f : v;
        out[i] = (uint8_t)(int32_t)v;
    }
}

// Per row: its own scale and the row as u8 codes with `zero_point` the code of 0, so a row's codes do not depend on
// the rows batched with it. The scale covers the row's whole range: max(hi / (255 - z), -lo / min(z, 127)), so
// nothing saturates; z = 128 is the symmetric max |x| / 127 around 128, a lower z spends the codes on the positive
// side (GELU's output: at least -0.17, up to several units).
typedef struct { const float *x; int64_t cols; int32_t zero_point; float *scales; uint8_t *out; } quantize_rows_args;

static void quantize_rows_chunk(void *p, int64_t begin, int64_t end) {
    const quantize_rows_args *a = p;
    const float z = (float)a->zero_point, below = a->zero_point < 127 ? (float)a->zero_point : 127.0f;
    for (int64_t r = begin; r < end; r++) {
        const float *row = a->x + r * a->cols;
        float lo, hi;
        min_max_kernel(row, a->cols, &lo, &hi);
        float up = hi / (255.0f - z), down = -lo / below;
        float s = up > down ? up : down;
        s = (s > 0 && s < INFINITY) ? s : 1.0f;
        a->scales[r] = s;
        quantize_u8_kernel(row, a->cols, 1.0f / s, z, a->out + r * a->cols);
    }
}

void graft_quantize_rows_u8(const float *x, int64_t rows, int64_t cols, int32_t zero_point, float *scales, uint8_t *out) {
    quantize_rows_args a = {x, cols, zero_point, scales, out};
    int64_t grain = cols > 0 ? GRAFT_GRAIN / cols : rows;
    graft_parallel_for(rows, grain > 0 ? grain : 1, &a, quantize_rows_chunk);
}
