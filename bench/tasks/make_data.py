"""Seeded benchmark data for bench/tasks: one feature matrix with three kinds of targets, so Graft and
scikit-learn fit every task head on the same features.

Features: a 10-class low-rank structure through a ReLU plus noise (like pooled sentence or CNN features),
float32. Targets: class labels (prototype, k-NN), two numeric targets linear in the latent factors plus
noise (ridge), eight labels set where a latent direction is large (one-vs-rest), about 2 per item.
Usage: make_data.py OUTDIR [TRAIN TEST FEATURES]   (writes OUTDIR/tasks_*.npy)
"""
import os
import sys

import numpy as np


def main():
    out = sys.argv[1]
    n_train, n_test, d = (int(v) for v in sys.argv[2:5]) if len(sys.argv) > 4 else (4000, 1000, 384)
    os.makedirs(out, exist_ok=True)
    rng = np.random.default_rng(20261202)
    n, k, r = n_train + n_test, 10, 32
    means = rng.standard_normal((k, r), dtype=np.float32) * 0.6
    y = rng.permutation(np.arange(n) % k).astype(np.int32)
    z = means[y] + rng.standard_normal((n, r), dtype=np.float32)
    x = z @ (rng.standard_normal((r, d), dtype=np.float32) / np.float32(np.sqrt(r)))
    x += rng.standard_normal((n, d), dtype=np.float32)
    np.maximum(x, 0, out=x)
    targets = (z @ rng.standard_normal((r, 2), dtype=np.float32) + 0.5 * rng.standard_normal((n, 2), dtype=np.float32)).astype(np.float32)
    scores = z @ rng.standard_normal((r, 8), dtype=np.float32) / np.float32(np.sqrt(r))
    labels = (scores > 0.9).astype(np.float32)  # 0/1, float32 so both sides read it as a matrix
    for part, rows in (("train", slice(0, n_train)), ("test", slice(n_train, n))):
        np.save(f"{out}/tasks_X{part}.npy", x[rows])
        np.save(f"{out}/tasks_y{part}.npy", y[rows])
        np.save(f"{out}/tasks_T{part}.npy", targets[rows])
        np.save(f"{out}/tasks_L{part}.npy", labels[rows])
    print(f"tasks: {n_train} + {n_test} x {d}, labels per item {labels.sum(1).mean():.2f}", file=sys.stderr)


if __name__ == "__main__":
    main()
