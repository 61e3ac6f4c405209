// Elementwise loops and reductions over contiguous floats. Each kernel is a
// plain loop the compiler vectorises per clone (AVX-512, AVX2, baseline); the
// drivers split large arrays across the OpenMP threads.
#include "CGraftKernels.h"
#include "internal.h"
#include <stdlib.h>
#include <string.h>

#define LANES 16

// ---- same-length binary ops -------------------------------------------------
typedef struct { const float *x, *y; float *out; int64_t cols; } binary_args;

#define BINARY(name, op)                                                                   \
    GRAFT_CLONES static void name##_kernel(const float *x, const float *y, float *out,      \
                                           int64_t n) {                                     \
        for (int64_t i = 0; i < n; i++) out[i] = x[i] op y[i];                              \
    }                                                                                       \
    static void name##_chunk(void *p, int64_t begin, int64_t end) {                         \
        const binary_args *a = p;                                                           \
        name##_kernel(a->x + begin, a->y + begin, a->out + begin, end - begin);             \
    }                                                                                       \
    void graft_##name(const float *x, const float *y, float *out, int64_t n) {              \
        binary_args a = {x, y, out, 0};                                                     \
        graft_parallel_for(n, GRAFT_GRAIN, &a, name##_chunk);                               \
    }                                                                                       \
    GRAFT_CLONES static void name##_row_kernel(const float *x, const float *y, float *out,  \
                                               int64_t rows, int64_t cols) {                \
        for (int64_t r = 0; r < rows; r++) {                                                \
            const float *xr = x + r * cols;                                                 \
            float *o = out + r * cols;                                                      \
            for (int64_t c = 0; c < cols; c++) o[c] = xr[c] op y[c];                        \
        }                                                                                   \
    }                                                                                       \
    static void name##_row_chunk(void *p, int64_t begin, int64_t end) {                     \
        const binary_args *a = p;                                                           \
        name##_row_kernel(a->x + begin * a->cols, a->y, a->out + begin * a->cols,           \
                          end - begin, a->cols);                                            \
    }                                                                                       \
    void graft_##name##_row(const float *x, const float *y, float *out, int64_t rows,       \
                            int64_t cols) {                                                 \
        if (cols <= 0) return;                                                              \
        binary_args a = {x, y, out, cols};                                                  \
        graft_parallel_for(rows, GRAFT_GRAIN / cols + 1, &a, name##_row_chunk);             \
    }

BINARY(add, +)
BINARY(sub, -)
BINARY(mul, *)
BINARY(div, /)

typedef struct { const float *x, *scale, *shift; float *out; int64_t cols; } affine_args;

GRAFT_CLONES static void affine_row_kernel(const float *x, const float *s, const float *t, float *out,
                                           int64_t rows, int64_t cols) {
    for (int64_t r = 0; r < rows; r++) {
        const float *xr = x + r * cols;
        float *o = out + r * cols;
        for (int64_t c = 0; c < cols; c++) o[c] = xr[c] * s[c] + t[c];
    }
}

static void affine_row_chunk(void *p, int64_t begin, int64_t end) {
    const affine_args *a = p;
    affine_row_kernel(a->x + begin * a->cols, a->scale, a->shift, a->out + begin * a->cols, end - begin, a->cols);
}

void graft_affine_row(const float *x, const float *scale, const float *shift, float *out, int64_t rows, int64_t cols) {
    if (cols <= 0) return;
    affine_args a = {x, scale, shift, out, cols};
    graft_parallel_for(rows, GRAFT_GRAIN / cols + 1, &a, affine_row_chunk);
}

// ---- scalar ops ---------------------------------------------------------------
typedef struct { const float *x; float *out; float a, b; } scalar_args;

GRAFT_CLONES static void scale_shift_kernel(const float *x, float s, float t, float *out, int64_t n) {
    for (int64_t i = 0; i < n; i++) out[i] = x[i] * s + t;
}
static void scale_shift_chunk(void *p, int64_t begin, int64_t end) {
    const scalar_args *a = p;
    scale_shift_kernel(a->x + begin, a->a, a->b, a->out + begin, end - begin);
}
void graft_scale_shift(const float *x, float scale, float shift, float *out, int64_t n) {
    scalar_args a = {x, out, scale, shift};
    graft_parallel_for(n, GRAFT_GRAIN, &a, scale_shift_chunk);
}

GRAFT_CLONES static void axpy_kernel(float s, const float *x, float *y, int64_t n) {
    for (int64_t i = 0; i < n; i++) y[i] += s * x[i];
}
static void axpy_chunk(void *p, int64_t begin, int64_t end) {
    const scalar_args *a = p;
    axpy_kernel(a->a, a->x + begin, a->out + begin, end - begin);
}
void graft_axpy(float s, const float *x, float *y, int64_t n) {
    scalar_args a = {x, y, s, 0};
    graft_parallel_for(n, GRAFT_GRAIN, &a, axpy_chunk);
}

GRAFT_CLONES static void fill_kernel(float *x, float v, int64_t n) {
    for (int64_t i = 0; i < n; i++) x[i] = v;
}
static void fill_chunk(void *p, int64_t begin, int64_t end) {
    const scalar_args *a = p;
    fill_kernel(a->out + begin, a->a, end - begin);
}
void graft_fill(float *x, float value, int64_t n) {
    scalar_args a = {NULL, x, value, 0};
    graft_parallel_for(n, GRAFT_GRAIN, &a, fill_chunk);
}

static void copy_chunk(void *p, int64_t begin, int64_t end) {
    const scalar_args *a = p;
    memmove(a->out + begin, a->x + begin, (size_t)(end - begin) * sizeof(float));
}
void graft_copy(const float *x, float *out, int64_t n) {
    if (x == out || n <= 0) return;
    scalar_args a = {x, out, 0, 0};
    graft_parallel_for(n, 4 * GRAFT_GRAIN, &a, copy_chunk);
}

// ---- reductions -----------------------------------------------------------------
// Sums keep LANES independent float accumulators (vectorisable without
// reassociation flags) over blocks, and add blocks in double.

#define BLOCK 4096

GRAFT_CLONES static double sum_kernel(const float *x, int64_t n) {
    double total = 0;
    for (int64_t start = 0; start < n; start += BLOCK) {
        int64_t len = n - start < BLOCK ? n - start : BLOCK;
        const float *b = x + start;
        float acc[LANES] = {0};
        int64_t i = 0;
        for (; i + LANES <= len; i += LANES)
            for (int j = 0; j < LANES; j++) acc[j] += b[i + j];
        float s = 0;
        for (; i < len; i++) s += b[i];
        for (int j = 0; j < LANES; j++) s += acc[j];
        total += s;
    }
    return total;
}

GRAFT_CLONES static double dot_kernel(const float *x, const float *y, int64_t n) {
    double total = 0;
    for (int64_t start = 0; start < n; start += BLOCK) {
        int64_t len = n - start < BLOCK ? n - start : BLOCK;
        const float *a = x + start, *b = y + start;
        float acc[LANES] = {0};
        int64_t i = 0;
        for (; i + LANES <= len; i += LANES)
            for (int j = 0; j < LANES; j++) acc[j] += a[i + j] * b[i + j];
        float s = 0;
        for (; i < len; i++) s += a[i] * b[i];
        for (int j = 0; j < LANES; j++) s += acc[j];
        total += s;
    }
    return total;
}

typedef struct { const float *x, *y; double *partials; } reduce_args;

static void sum_chunk(void *p, int64_t chunk, int64_t begin, int64_t end) {
    const reduce_args *a = p;
    a->partials[chunk] = a->y ? dot_kernel(a->x + begin, a->y + begin, end - begin)
                              : sum_kernel(a->x + begin, end - begin);
}

static double reduce(const float *x, const float *y, int64_t n) {
    if (n <= 0) return 0;
    int64_t chunks = graft_chunk_count(n, GRAFT_GRAIN);
    if (chunks == 1) return y ? dot_kernel(x, y, n) : sum_kernel(x, n);
    double partials[chunks];
    reduce_args a = {x, y, partials};
    graft_parallel_chunks(n, chunks, &a, sum_chunk);
    double total = 0;
    for (int64_t c = 0; c < chunks; c++) total += partials[c];
    return total;
}

double graft_sum(const float *x, int64_t n) { return reduce(x, NULL, n); }
double graft_dot(const float *x, const float *y, int64_t n) { return reduce(x, y, n); }

GRAFT_CLONES static void sum_columns_kernel(const float *x, int64_t rows, int64_t cols, float *acc) {
    for (int64_t r = 0; r < rows; r++) {
        const float *xr = x + r * cols;
        for (int64_t c = 0; c < cols; c++) acc[c] += xr[c];
    }
}

typedef struct { const float *x; int64_t cols; float *partials; } columns_args;

static void sum_columns_chunk(void *p, int64_t chunk, int64_t begin, int64_t end) {
    const columns_args *a = p;
    float *acc = a->partials + chunk * a->cols;
    memset(acc, 0, (size_t)a->cols * sizeof(float));
    sum_columns_kernel(a->x + begin * a->cols, end - begin, a->cols, acc);
}

void graft_sum_columns(const float *x, int64_t rows, int64_t cols, float *out, int accumulate) {
    if (cols <= 0) return;
    if (!accumulate) memset(out, 0, (size_t)cols * sizeof(float));
    if (rows <= 0) return;
    int64_t chunks = graft_chunk_count(rows, GRAFT_GRAIN / cols + 1);
    if (chunks == 1) { sum_columns_kernel(x, rows, cols, out); return; }
    float *partials = malloc((size_t)(chunks * cols) * sizeof(float));
    if (!partials) { sum_columns_kernel(x, rows, cols, out); return; }
    columns_args a = {x, cols, partials};
    graft_parallel_chunks(rows, chunks, &a, sum_columns_chunk);
    for (int64_t c = 0; c < chunks; c++) add_kernel(out, partials + c * cols, out, cols);
    free(partials);
}

typedef struct { const float *x; int64_t cols; float *out; int64_t *index; } rows_args;

static void sum_rows_chunk(void *p, int64_t begin, int64_t end) {
    const rows_args *a = p;
    for (int64_t r = begin; r < end; r++) a->out[r] = (float)sum_kernel(a->x + r * a->cols, a->cols);
}

void graft_sum_rows(const float *x, int64_t rows, int64_t cols, float *out) {
    if (cols <= 0) { if (rows > 0) memset(out, 0, (size_t)rows * sizeof(float)); return; }
    rows_args a = {x, cols, out, NULL};
    graft_parallel_for(rows, GRAFT_GRAIN / cols + 1, &a, sum_rows_chunk);
}

GRAFT_CLONES static float max_kernel(const float *x, int64_t n) {
    float m[LANES];
    for (int j = 0; j < LANES; j++) m[j] = x[0];
    int64_t i = 0;
    for (; i + LANES <= n; i += LANES)
        for (int j = 0; j < LANES; j++) m[j] = x[i + j] > m[j] ? x[i + j] : m[j];
    float best = m[0];
    for (int j = 1; j < LANES; j++) best = m[j] > best ? m[j] : best;
    for (; i < n; i++) best = x[i] > best ? x[i] : best;
    return best;
}

static void max_rows_chunk(void *p, int64_t begin, int64_t end) {
    const rows_args *a = p;
    for (int64_t r = begin; r < end; r++) {
        const float *row = a->x + r * a->cols;
        float best = max_kernel(row, a->cols);
        if (a->out) a->out[r] = best;
        if (a->index) {
            int64_t k = 0;
            while (k < a->cols && row[k] != best) k++;
            a->index[r] = k < a->cols ? k : 0; // all-NaN row: index 0
        }
    }
}

void graft_max_rows(const float *x, int64_t rows, int64_t cols, float *max, int64_t *argmax) {
    if (cols <= 0 || rows <= 0) return;
    rows_args a = {x, cols, max, argmax};
    graft_parallel_for(rows, GRAFT_GRAIN / cols + 1, &a, max_rows_chunk);
}
