"""PyTorch side of bench/kernels: same rows, same thread count, channels_last.
Prints "row<TAB>name<TAB>gflops" lines like graft-bench-kernels."""
import os
import sys
import time

import torch
import torch.nn.functional as F

threads = int(sys.argv[1]) if len(sys.argv) > 1 else os.cpu_count()
repeats = int(os.environ.get("BENCH_REPEATS", "15"))
torch.set_num_threads(threads)
torch.manual_seed(0)
print(f"# torch {torch.__version__}, threads {torch.get_num_threads()}")


def median(fn, warmup=3):
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return sorted(times)[len(times) // 2]


def report(name, flops, seconds):
    print(f"row\t{name}\t{flops / seconds / 1e9:.1f}")


def conv_rows(name, n, c, k, hw, groups):
    x = torch.randn(n, c, hw, hw).to(memory_format=torch.channels_last)
    w = torch.randn(k, c // groups, 3, 3).to(memory_format=torch.channels_last)
    flops = 2 * n * hw * hw * k * (c // groups) * 9
    with torch.no_grad():
        report(f"{name}_fwd", flops, median(lambda: F.conv2d(x, w, padding=1, groups=groups)))
    if groups == 1:
        dy = torch.randn(n, k, hw, hw).to(memory_format=torch.channels_last)

        def backward(mask):
            return torch.ops.aten.convolution_backward(dy, x, w, None, [1, 1], [1, 1], [1, 1], False, [0, 0],
                                                       groups, mask)
        report(f"{name}_bwd_data", flops, median(lambda: backward([True, False, False])))
        report(f"{name}_bwd_weights", flops, median(lambda: backward([False, True, False])))


conv_rows("conv3x3", 32, 64, 64, 56, 1)
conv_rows("depthwise3x3", 32, 144, 144, 56, 144)
a, b, c = torch.randn(1024, 1024), torch.randn(1024, 1024), torch.empty(1024, 1024)
report("matmul1024", 2 * 1024 ** 3, median(lambda: torch.mm(a, b, out=c)))
