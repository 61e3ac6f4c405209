"""Peer timings for bench/weights/run.sh: torch.load (weights_only, map_location cpu) for .pth,
safetensors.torch.load_file for .safetensors; same files, same repeats, warm page cache.
Prints rows like the Graft binary: row, impl, mode, file, median ms, min ms, tensor count."""
import os, sys, time
import torch
from safetensors.torch import load_file

torch.set_num_threads(int(os.environ.get("GRAFT_THREADS", "2")))
repeats = int(sys.argv[1])
for path in sys.argv[2:]:
    if path.endswith(".safetensors"):
        impl, load = "safetensors.load_file", lambda: load_file(path)
    else:
        impl, load = "torch.load", lambda: torch.load(path, map_location="cpu", weights_only=True)
    n = len(load())  # warm-up (page cache, lazy imports)
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        sd = load()
        times.append((time.perf_counter() - t) * 1e3)
        del sd
    times.sort()
    print("row\t%s\tload\t%s\t%f\t%f\t%d" % (impl, os.path.basename(path), times[len(times) // 2], times[0], n))
