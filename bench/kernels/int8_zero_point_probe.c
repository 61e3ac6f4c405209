// oneDNN 2.6 int8 convolutions with and without a source zero point (issue 19, bench/RESULTS.md "Session 18"): per
// YOLOv3-tiny-like shape, s8 input, u8 input, u8 input with a zero point; the implementation oneDNN picks and ms per
// call (batch 8, mean of 10 after 2 warm-ups). Build and run:
//   gcc -O2 bench/kernels/int8_zero_point_probe.c -ldnnl -o /tmp/zpprobe && OMP_NUM_THREADS=2 /tmp/zpprobe
#include <oneapi/dnnl/dnnl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#define CK(x) do { dnnl_status_t s_ = (x); if (s_) { printf("%s -> %d\n", #x, s_); return 1; } } while (0)
static double now(void) { struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t); return t.tv_sec + t.tv_nsec * 1e-9; }
int run(int N, int C, int K, int H, int kh, int zp, int signedsrc) {
    dnnl_engine_t eng; CK(dnnl_engine_create(&eng, dnnl_cpu, 0));
    dnnl_stream_t st; CK(dnnl_stream_create(&st, eng, dnnl_stream_default_flags));
    dnnl_memory_desc_t src, wei, dst, bias;
    dnnl_dims_t sd = {N, C, H, H}, wd = {K, C, kh, kh}, dd = {N, K, H, H}, bd = {K};
    CK(dnnl_memory_desc_init_by_tag(&src, 4, sd, signedsrc ? dnnl_s8 : dnnl_u8, dnnl_nhwc));
    CK(dnnl_memory_desc_init_by_tag(&wei, 4, wd, dnnl_s8, dnnl_format_tag_any));
    CK(dnnl_memory_desc_init_by_tag(&dst, 4, dd, dnnl_f32, dnnl_nhwc));
    CK(dnnl_memory_desc_init_by_tag(&bias, 1, bd, dnnl_f32, dnnl_x));
    dnnl_convolution_desc_t cd; dnnl_dims_t strides = {1, 1}, pad = {kh / 2, kh / 2};
    CK(dnnl_convolution_forward_desc_init(&cd, dnnl_forward_inference, dnnl_convolution_direct, &src, &wei, &bias, &dst, strides, pad, pad));
    dnnl_primitive_attr_t attr; CK(dnnl_primitive_attr_create(&attr));
    float *scales = malloc(K * 4); for (int i = 0; i < K; i++) scales[i] = 0.01f;
    CK(dnnl_primitive_attr_set_output_scales(attr, K, 2, scales));
    if (zp) { int32_t z = 26; CK(dnnl_primitive_attr_set_zero_points(attr, DNNL_ARG_SRC, 1, 0, &z)); }
    dnnl_post_ops_t po; CK(dnnl_post_ops_create(&po)); CK(dnnl_post_ops_append_eltwise(po, 1.f, dnnl_eltwise_relu, 0.1f, 0.f));
    CK(dnnl_primitive_attr_set_post_ops(attr, po));
    dnnl_primitive_desc_t pd; dnnl_status_t s = dnnl_primitive_desc_create(&pd, &cd, attr, eng, NULL);
    if (s) { printf("zp %d: unimplemented (%d)\n", zp, s); return 0; }
    const char *impl; CK(dnnl_primitive_desc_query(pd, dnnl_query_impl_info_str, 0, &impl));
    dnnl_primitive_t p; CK(dnnl_primitive_create(&p, pd));
    const dnnl_memory_desc_t *wmd = dnnl_primitive_desc_query_md(pd, dnnl_query_weights_md, 0);
    dnnl_memory_t ms, mw, md, mb;
    CK(dnnl_memory_create(&ms, &src, eng, DNNL_MEMORY_ALLOCATE)); CK(dnnl_memory_create(&mw, wmd, eng, DNNL_MEMORY_ALLOCATE));
    CK(dnnl_memory_create(&md, &dst, eng, DNNL_MEMORY_ALLOCATE)); CK(dnnl_memory_create(&mb, &bias, eng, DNNL_MEMORY_ALLOCATE));
    void *h; dnnl_memory_get_data_handle(ms, &h); memset(h, 30, (size_t)N * C * H * H);
    dnnl_memory_get_data_handle(mw, &h); memset(h, 1, dnnl_memory_desc_get_size(wmd));
    dnnl_memory_get_data_handle(mb, &h); memset(h, 0, K * 4);
    dnnl_exec_arg_t args[4] = {{DNNL_ARG_SRC, ms}, {DNNL_ARG_WEIGHTS, mw}, {DNNL_ARG_DST, md}, {DNNL_ARG_BIAS, mb}};
    for (int i = 0; i < 2; i++) CK(dnnl_primitive_execute(p, st, 4, args)); dnnl_stream_wait(st);
    double t0 = now(); int reps = 10;
    for (int i = 0; i < reps; i++) CK(dnnl_primitive_execute(p, st, 4, args)); dnnl_stream_wait(st);
    double t = (now() - t0) / reps;
    printf("N%d C%d K%d H%d k%d %s zp %d: %-28s %.2f ms %.1f GMAC/s\n", N, C, K, H, kh, signedsrc ? "s8" : "u8", zp, impl, t * 1e3, (double)N * K * C * H * H * kh * kh / t / 1e9);
    return 0;
}
int main(void) {
    int shapes[][5] = {{8, 16, 32, 208, 3}, {8, 64, 128, 52, 3}, {8, 256, 512, 13, 3}, {8, 512, 256, 13, 1}, {8, 128, 256, 26, 3}};
    for (int i = 0; i < 5; i++) { int *s = shapes[i];
        run(s[0], s[1], s[2], s[3], s[4], 0, 1); run(s[0], s[1], s[2], s[3], s[4], 0, 0); run(s[0], s[1], s[2], s[3], s[4], 1, 0); }
}
