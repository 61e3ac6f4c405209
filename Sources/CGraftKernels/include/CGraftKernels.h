// CGraftKernels: OpenMP-parallel, runtime-dispatched (AVX-512 / AVX2 / baseline)
// loops over contiguous float arrays, plus a parallel-for trampoline.
// Threads come from libgomp, the same OpenMP runtime oneDNN uses, so the glue
// and the library share one thread pool. Only GraftKernels imports this module.
#ifndef CGRAFTKERNELS_H
#define CGRAFTKERNELS_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

// ---- threads ---------------------------------------------------------------
/// Sets the thread count used by graft_* loops and (through the calling
/// thread's OpenMP setting) by oneDNN primitives created or run afterwards.
void graft_set_threads(int threads);
/// The thread count set last (or OpenMP's default before any call).
int graft_threads(void);
/// Applies the current thread count to the calling thread's OpenMP setting
/// (omp_set_num_threads is per thread); cheap when already applied.
void graft_apply_threads(void);
/// Number of processors OpenMP sees.
int graft_num_procs(void);

// ---- parallel for ----------------------------------------------------------
typedef void (*graft_range_body)(void *context, int64_t begin, int64_t end);
/// Splits [0, n) into at most one contiguous chunk per thread (each at least
/// min_chunk long) and calls body once per chunk. Runs inline when one chunk
/// suffices or when already inside a parallel region.
void graft_parallel_for(int64_t n, int64_t min_chunk, void *context, graft_range_body body);

// ---- same-length binary ops: out[i] = x[i] op y[i] (out may alias x or y) ---
void graft_add(const float *x, const float *y, float *out, int64_t n);
void graft_sub(const float *x, const float *y, float *out, int64_t n);
void graft_mul(const float *x, const float *y, float *out, int64_t n);
void graft_div(const float *x, const float *y, float *out, int64_t n);

// ---- last-dim broadcast: out[r*cols + c] = x[r*cols + c] op y[c] ------------
void graft_add_row(const float *x, const float *y, float *out, int64_t rows, int64_t cols);
void graft_sub_row(const float *x, const float *y, float *out, int64_t rows, int64_t cols);
void graft_mul_row(const float *x, const float *y, float *out, int64_t rows, int64_t cols);
void graft_div_row(const float *x, const float *y, float *out, int64_t rows, int64_t cols);
/// out[r*cols + c] = x[r*cols + c] * scale[c] + shift[c]  (per-channel affine).
void graft_affine_row(const float *x, const float *scale, const float *shift, float *out,
                      int64_t rows, int64_t cols);

// ---- scalar ops ------------------------------------------------------------
/// out[i] = x[i] * scale + shift.
void graft_scale_shift(const float *x, float scale, float shift, float *out, int64_t n);
/// y[i] += a * x[i].
void graft_axpy(float a, const float *x, float *y, int64_t n);
/// x[i] = value.
void graft_fill(float *x, float value, int64_t n);
/// out[i] = x[i].
void graft_copy(const float *x, float *out, int64_t n);

// ---- reductions ------------------------------------------------------------
/// out[c] = sum_r x[r*cols + c]  (or += when accumulate != 0).
void graft_sum_columns(const float *x, int64_t rows, int64_t cols, float *out, int accumulate);
/// out[r] = sum_c x[r*cols + c].
void graft_sum_rows(const float *x, int64_t rows, int64_t cols, float *out);
/// Sum of all n values (float blocks, double across blocks).
double graft_sum(const float *x, int64_t n);
/// Dot product sum_i x[i]*y[i].
double graft_dot(const float *x, const float *y, int64_t n);
/// Per row: max value and index of its first occurrence (either output may be NULL).
void graft_max_rows(const float *x, int64_t rows, int64_t cols, float *max, int64_t *argmax);

// ---- dynamic int8 quantization (quantize.c) ----------------------------------
/// Row r of x [rows, cols] as u8 codes with its own scale and zero point (asymmetric): lo = min(x[r], 0),
/// hi = max(x[r], 0), zero_points[r] = round(-lo / ((hi - lo) / 255)) clamped to 1...254, scales[r] = the larger of
/// hi / (255 - z) and -lo / z (a row of zeros: 1 and 128), out[r, c] = round(x[r, c] / scales[r]) + z (halves
/// round up), in [0, 255]. With col_scale (nullable, [cols]) the same of x[r, c] * col_scale[c], each product rounded
/// to fp32 as a separate multiply would round it.
void graft_quantize_rows_u8(const float *x, const float *col_scale, int64_t rows, int64_t cols, float *scales,
                            float *zero_points, uint8_t *out);

/// Activations of graft_int8_linear_epilogue (GraftKernels' `Activation`).
enum { GRAFT_ACT_NONE = 0, GRAFT_ACT_RELU, GRAFT_ACT_RELU6, GRAFT_ACT_SILU, GRAFT_ACT_GELU, GRAFT_ACT_SIGMOID,
       GRAFT_ACT_TANH, GRAFT_ACT_HARDSWISH, GRAFT_ACT_LEAKY_RELU };
/// c[r, o] = act(row_scale[r] x[r, o] + row_term[r] col_term[o] + bias[o] (+ c[r, o] with accumulate)), x and c
/// [rows, cols] (they may not overlap), bias [cols] (zeros for none). exp, erf (|error| <= 1.5e-7) and the rest as polynomials.
void graft_int8_linear_epilogue(const float *x, int64_t rows, int64_t cols, const float *row_scale, const float *row_term,
                                const float *col_term, const float *bias, int32_t accumulate, int32_t activation, float *c);
/// The same without a residual, each finished row then as u8 codes for the next int8 linear (graft_quantize_rows_u8's
/// scales, zero points and codes): the fp32 row never leaves the cache. Returns 0, or -1 when a thread's row
/// scratch could not be allocated.
int32_t graft_int8_linear_epilogue_codes(const float *x, int64_t rows, int64_t cols, const float *row_scale,
                                         const float *row_term, const float *col_term, const float *bias, int32_t activation,
                                         float *scales, float *zero_points, uint8_t *codes);


// ---- self-attention (inference, attention.c) ---------------------------------
/// Multi-head self-attention over projected rows: row r of Q, K and V starts at q / k / v + r * qkv_stride, heads of
/// head_dim each side by side (packed Q|K|V rows: k = q + heads * head_dim, v = k + heads * head_dim, qkv_stride
/// 3 * heads * head_dim; three tensors: qkv_stride heads * head_dim). Sequence s is the rows offsets[s] ..<
/// offsets[s] + query_counts[s]; its queries attend to its first key_counts[s] (>= 1) rows. Writes
/// softmax(Q K^T * scale + key_mask[s]) V into the same rows of `out` (heads merged, rows out_stride apart).
/// key_mask (may be NULL): additive per key, sequence s at key_mask + s * mask_stride. Returns 0, -1 when a
/// thread's scratch could not be allocated, -2 for invalid sizes.
int32_t graft_attention(const float *q, const float *k, const float *v, int64_t qkv_stride, int64_t heads, int64_t head_dim, float scale,
                        int64_t sequences, const int64_t *offsets, const int64_t *query_counts, const int64_t *key_counts,
                        const float *key_mask, int64_t mask_stride, float *out, int64_t out_stride);
/// "avx2" or "portable": the path graft_attention takes on this CPU.
const char *graft_attention_isa(void);
/// 1 on CPUs whose AVX-512 units are 256 bits wide (AMD Zen 4): AVX2 kernels lose nothing to AVX-512 ones there.
int graft_cpu_splits_512_bit_ops(void);
/// The widest path allowed: 0 any, 3 portable only (tests).
void graft_attention_cap_isa(int cap);

// ---- fused inverted-residual block (inference) -------------------------------
/// Shape of an inverted-residual block: NHWC input [batch, in_h, in_w, in_c],
/// expand 1x1 to `hidden` channels (only when has_expand; else hidden == in_c),
/// depthwise kernel x kernel with `stride` and top/left zero padding (the
/// bottom/right padding follows from out_h/out_w), project 1x1 to out_c.
typedef struct {
    int64_t batch, in_h, in_w, in_c, hidden, out_h, out_w, out_c;
    int64_t kernel, stride, pad_top, pad_left;
    int64_t has_expand;
} graft_inverted_residual_shape;
/// Floats graft_inverted_residual_pack writes.
int64_t graft_inverted_residual_packed_count(const graft_inverted_residual_shape *shape);
/// Packs folded weights: expand [hidden, in_c] + bias (ignored without expansion),
/// depthwise [hidden, k, k] + bias, project [out_c, hidden] + bias. `packed` must be
/// 64-byte aligned.
void graft_inverted_residual_pack(const graft_inverted_residual_shape *shape, const float *expand_w,
                                  const float *expand_b, const float *dw_w, const float *dw_b,
                                  const float *project_w, const float *project_b, float *packed);
/// output = project(relu6(depthwise(relu6(expand(input))))) (+ residual, same shape as output),
/// parallel over images (and over bands of output rows when the images do not divide evenly
/// among the threads). Returns 0, -1 for an unsupported shape, -2 when scratch allocation failed.
/// `output` must not overlap input or residual.
/// Caps the micro-kernels forward may pick: 0 the best the CPU has, 1 AVX-512 at most (no AMX), 2 AVX2 at most,
/// 3 portable only.
void graft_inverted_residual_cap_isa(int cap);
/// The micro-kernels forward runs: "avx512", "avx2" or "portable".
const char *graft_inverted_residual_isa(void);
int graft_inverted_residual_forward(const graft_inverted_residual_shape *shape, const float *packed,
                                    const float *input, const float *residual, float *output);
/// Words (32 bits, stored as floats) graft_inverted_residual_pack_bf16 writes.
int64_t graft_inverted_residual_packed_bf16_count(const graft_inverted_residual_shape *shape);
/// The 1x1 weights of graft_inverted_residual_pack's `packed`, rounded to bf16 in pairs along K
/// (the operands of AVX512-BF16 dot products). `words` must be 64-byte aligned.
void graft_inverted_residual_pack_bf16(const graft_inverted_residual_shape *shape, const float *packed, float *words);
/// graft_inverted_residual_forward with both 1x1 convolutions on bf16 operands (fp32 accumulation,
/// their inputs rounded to bf16); depthwise, biases, ReLU6 and residual in fp32. AMX tiles where the CPU
/// has them (and the cap allows), else AVX512-BF16 dot products, else portable loops of the same arithmetic.
int graft_inverted_residual_forward_bf16(const graft_inverted_residual_shape *shape, const float *packed,
                                         const float *packed_bf16, const float *input, const float *residual,
                                         float *output);
/// 1 when forward_bf16 runs its bf16 GEMMs on bf16 instructions (AMX tiles or AVX512-BF16).
int graft_inverted_residual_has_bf16(void);
/// Which: "amx", "avx512_bf16", or NULL (portable loops).
const char *graft_inverted_residual_bf16_isa(void);

#ifdef __cplusplus
}
#endif
#endif
