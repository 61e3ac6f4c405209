// Graft's int8-linear epilogue (graft_int8_linear_epilogue, session 19) against oneDNN 2.6's binary primitive with
// the post-ops the epilogue replaced (x row scale [rows, 1], + bias [1, cols], then sum or GELU): ms per call, mean
// of 20, both alternated over three rounds (issue 19, bench/RESULTS.md "Session 19"). Build and run:
//   S=Sources/CGraftKernels; clang -O3 -I$S/include -I$S bench/kernels/int8_epilogue_probe.c $S/int8_linear_epilogue.c \
//     $S/quantize.c $S/threads.c -ldnnl -lm -l:libgomp.so.1 -o /tmp/epprobe
//   for s in "4096 1536 1 0" "4096 1536 0 0" "4096 384 0 1" "1024 1536 1 0"; do OMP_NUM_THREADS=2 /tmp/epprobe $s; done
// Arguments: rows cols gelu(0/1) residual(0/1).
#include <oneapi/dnnl/dnnl.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include "CGraftKernels.h"
static double now(void) { struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t); return t.tv_sec + t.tv_nsec * 1e-9; }
int main(int argc, char **argv) {
    if (argc < 5) { fprintf(stderr, "usage: epprobe rows cols gelu residual\n"); return 2; }
    int64_t M = atoll(argv[1]), N = atoll(argv[2]); int gelu = atoi(argv[3]), acc = atoi(argv[4]);
    float *x = aligned_alloc(64, M * N * 4), *c = aligned_alloc(64, M * N * 4), *rs = malloc(M * 4), *rt = malloc(M * 4);
    float *ct = malloc(N * 4), *b = malloc(N * 4);
    for (int64_t i = 0; i < M * N; i++) { x[i] = (i % 17) * 0.1f - 0.8f; c[i] = 0.1f; }
    for (int64_t i = 0; i < M; i++) { rs[i] = 0.01f; rt[i] = 0.2f; }
    for (int64_t i = 0; i < N; i++) { ct[i] = 0.3f; b[i] = 0.1f; }
    dnnl_engine_t eng; dnnl_engine_create(&eng, dnnl_cpu, 0);
    dnnl_stream_t st; dnnl_stream_create(&st, eng, dnnl_stream_default_flags);
    dnnl_dims_t dd = {M, N}, rd = {M, 1}, cd = {1, N};
    dnnl_memory_desc_t d, r, col;
    dnnl_memory_desc_init_by_tag(&d, 2, dd, dnnl_f32, dnnl_ab);
    dnnl_memory_desc_init_by_tag(&r, 2, rd, dnnl_f32, dnnl_ab);
    dnnl_memory_desc_init_by_tag(&col, 2, cd, dnnl_f32, dnnl_ab);
    dnnl_binary_desc_t bd; dnnl_binary_desc_init(&bd, dnnl_binary_mul, &d, &r, &d);
    dnnl_post_ops_t po; dnnl_post_ops_create(&po);
    dnnl_post_ops_append_binary(po, dnnl_binary_add, &col);
    if (acc) dnnl_post_ops_append_sum(po, 1.0f);
    if (gelu) dnnl_post_ops_append_eltwise(po, 1.0f, dnnl_eltwise_gelu_erf, 0, 0);
    dnnl_primitive_attr_t attr; dnnl_primitive_attr_create(&attr); dnnl_primitive_attr_set_post_ops(attr, po);
    dnnl_primitive_desc_t pd;
    if (dnnl_primitive_desc_create(&pd, &bd, attr, eng, NULL) != dnnl_success) { fprintf(stderr, "no binary primitive\n"); return 1; }
    const char *impl; dnnl_primitive_desc_query(pd, dnnl_query_impl_info_str, 0, &impl);
    dnnl_primitive_t p; dnnl_primitive_create(&p, pd);
    dnnl_memory_t mx, mr, mb, mc;
    dnnl_memory_create(&mx, &d, eng, x); dnnl_memory_create(&mr, &r, eng, rs);
    dnnl_memory_create(&mb, &col, eng, b); dnnl_memory_create(&mc, &d, eng, c);
    dnnl_exec_arg_t args[] = {{DNNL_ARG_SRC_0, mx}, {DNNL_ARG_SRC_1, mr}, {DNNL_ARG_DST, mc},
                              {DNNL_ARG_ATTR_MULTIPLE_POST_OP(0) | DNNL_ARG_SRC_1, mb}};
    for (int round = 0; round < 3; round++) {
        double t0 = now();
        for (int i = 0; i < 20; i++) dnnl_primitive_execute(p, st, 4, args);
        double t1 = now();
        for (int i = 0; i < 20; i++) graft_int8_linear_epilogue(x, M, N, rs, rt, ct, b, acc, gelu ? GRAFT_ACT_GELU : GRAFT_ACT_NONE, c);
        double t2 = now();
        printf("%lld x %lld gelu %d residual %d: oneDNN binary (%s) %.3f ms, Graft epilogue %.3f ms\n", (long long)M, (long long)N,
               gelu, acc, impl, (t1 - t0) / 20 * 1e3, (t2 - t1) / 20 * 1e3);
    }
    return 0;
}
