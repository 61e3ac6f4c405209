// Thread count and the parallel-for driver, on libgomp's own entry points.
// Swift's clang emits libomp (__kmpc_*) calls for `#pragma omp`, and libgomp,
// which oneDNN links, does not provide them; calling GOMP_parallel directly keeps
// one OpenMP thread pool for the whole process.
#include "CGraftKernels.h"
#include "internal.h"
#include <stdatomic.h>
#include <stdlib.h>

#if GRAFT_OPENMP
// libgomp's entry points, declared here so no omp.h is needed.
void omp_set_num_threads(int threads);
int omp_get_max_threads(void);
void GOMP_parallel(void (*fn)(void *), void *data, unsigned num_threads, unsigned flags);
int omp_get_thread_num(void);
int omp_get_num_threads(void);
int omp_in_parallel(void);
int omp_get_num_procs(void);
#else
// Without an OpenMP runtime: one thread, and a parallel region is a plain call.
static void omp_set_num_threads(int threads) { (void)threads; }
static int omp_get_max_threads(void) { return 1; }
static int omp_get_thread_num(void) { return 0; }
static int omp_get_num_threads(void) { return 1; }
static int omp_in_parallel(void) { return 0; }
static int omp_get_num_procs(void) { return 1; }
static void GOMP_parallel(void (*fn)(void *), void *data, unsigned num_threads, unsigned flags) {
    (void)num_threads; (void)flags;
    fn(data);
}
#endif

static _Atomic int configured_threads = 0;
static __thread int applied_threads = 0;

static int initial_threads(void) {
    const char *env = getenv("GRAFT_THREADS");
    if (env) {
        long v = strtol(env, NULL, 10);
        if (v > 0 && v < 4096) return (int)v;
    }
    int t = omp_get_max_threads();
    return t > 0 ? t : 1;
}

int graft_threads(void) {
    int t = atomic_load_explicit(&configured_threads, memory_order_relaxed);
    if (t > 0) return t;
    int expected = 0, initial = initial_threads();
    atomic_compare_exchange_strong(&configured_threads, &expected, initial);
    return atomic_load(&configured_threads);
}

void graft_set_threads(int threads) {
    atomic_store(&configured_threads, threads > 0 ? threads : 1);
}

void graft_apply_threads(void) {
    int t = graft_threads();
    if (applied_threads != t) {
        omp_set_num_threads(t);
        applied_threads = t;
    }
}

int graft_num_procs(void) { return omp_get_num_procs(); }

typedef struct {
    int64_t n, chunks;
    void *context;
    graft_chunk_body body;
} job;

static void run_job(void *p) {
    const job *j = p;
    int64_t stride = omp_get_num_threads();
    for (int64_t c = omp_get_thread_num(); c < j->chunks; c += stride) {
        j->body(j->context, c, j->n * c / j->chunks, j->n * (c + 1) / j->chunks);
    }
}

int64_t graft_chunk_count(int64_t n, int64_t min_chunk) {
    if (n <= 0) return 0;
    if (min_chunk < 1) min_chunk = 1;
    int64_t chunks = n / min_chunk;
    int64_t threads = graft_threads();
    if (chunks > threads) chunks = threads;
    return chunks < 1 ? 1 : chunks;
}

void graft_parallel_chunks(int64_t n, int64_t chunks, void *context, graft_chunk_body body) {
    if (n <= 0 || chunks <= 0) return;
    if (chunks == 1 || omp_in_parallel()) {
        for (int64_t c = 0; c < chunks; c++) body(context, c, n * c / chunks, n * (c + 1) / chunks);
        return;
    }
    job j = {n, chunks, context, body};
    GOMP_parallel(run_job, &j, (unsigned)chunks, 0);
}

typedef struct {
    void *context;
    graft_range_body body;
} range_adapter;

static void adapt_range(void *p, int64_t chunk, int64_t begin, int64_t end) {
    (void)chunk;
    const range_adapter *a = p;
    a->body(a->context, begin, end);
}

void graft_parallel_for(int64_t n, int64_t min_chunk, void *context, graft_range_body body) {
    if (n <= 0) return;
    int64_t chunks = graft_chunk_count(n, min_chunk);
    if (chunks == 1 || omp_in_parallel()) { body(context, 0, n); return; }
    range_adapter a = {context, body};
    graft_parallel_chunks(n, chunks, &a, adapt_range);
}
