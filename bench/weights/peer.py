"""Peer timings for bench/weights/run.sh, same files, same repeats, warm page cache.
  .safetensors: safetensors.torch.load_file (memory-mapped, lazy) and load_file + clone of every
                tensor (every byte read into fresh memory, like Graft's floats()).
  .pth:         torch.load(weights_only=True, map_location="cpu"), which reads every storage.
Prints rows like the Graft binary: row, impl, mode, file, median ms, min ms, tensor count."""
import os, sys, time
import torch
from safetensors.torch import load_file

torch.set_num_threads(int(os.environ.get("GRAFT_THREADS", "2")))
repeats = int(sys.argv[1])


def timed(fn):
    fn()  # warm-up: page cache, lazy imports
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        out = fn()
        times.append((time.perf_counter() - t) * 1e3)
        del out
    times.sort()
    return times[len(times) // 2], times[0]


for path in sys.argv[2:]:
    name = os.path.basename(path)
    if path.endswith(".safetensors"):
        n = len(load_file(path))
        modes = [("safetensors.load_file", "open", lambda: load_file(path)),
                 ("safetensors.load_file+clone", "materialized", lambda: {k: v.clone() for k, v in load_file(path).items()})]
    else:
        n = len(torch.load(path, map_location="cpu", weights_only=True))
        load = lambda: torch.load(path, map_location="cpu", weights_only=True)
        modes = [("torch.load", "open", load), ("torch.load", "materialized", load)]
    for impl, mode, fn in modes:
        med, best = timed(fn)
        print("row\t%s\t%s\t%s\t%f\t%f\t%d" % (impl, mode, name, med, best, n))
