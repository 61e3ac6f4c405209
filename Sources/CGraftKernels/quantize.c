// Dynamic int8 quantization of matmul inputs (docs/PRECISION.md, "int8 linears"): the range of a tensor, then
// the tensor as u8 with a scale and a zero point. Plain loops the compiler vectorises per clone; the drivers
// split large tensors across the OpenMP threads.
#include "CGraftKernels.h"
#include "internal.h"

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

typedef struct { const float *x; float *lo, *hi; } min_max_args;

static void min_max_chunk(void *p, int64_t chunk, int64_t begin, int64_t end) {
    const min_max_args *a = p;
    min_max_kernel(a->x + begin, end - begin, a->lo + chunk, a->hi + chunk);
}

void graft_min_max(const float *x, int64_t n, float *lo, float *hi) {
    int64_t chunks = n > 0 ? graft_chunk_count(n, GRAFT_GRAIN) : 1;
    float los[chunks], his[chunks];
    for (int64_t c = 0; c < chunks; c++) { los[c] = 0; his[c] = 0; }
    if (chunks == 1) {
        min_max_kernel(x, n, los, his);
    } else {
        min_max_args a = {x, los, his};
        graft_parallel_chunks(n, chunks, &a, min_max_chunk);
    }
    float mn = 0, mx = 0;
    for (int64_t c = 0; c < chunks; c++) { mn = los[c] < mn ? los[c] : mn; mx = his[c] > mx ? his[c] : mx; }
    *lo = mn; *hi = mx;
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

typedef struct { const float *x; float inv_scale, zero_point; uint8_t *out; } quantize_args;

static void quantize_chunk(void *p, int64_t begin, int64_t end) {
    const quantize_args *a = p;
    quantize_u8_kernel(a->x + begin, end - begin, a->inv_scale, a->zero_point, a->out + begin);
}

void graft_quantize_u8(const float *x, int64_t n, float inv_scale, float zero_point, uint8_t *out) {
    quantize_args a = {x, inv_scale, zero_point, out};
    graft_parallel_for(n, GRAFT_GRAIN, &a, quantize_chunk);
}
