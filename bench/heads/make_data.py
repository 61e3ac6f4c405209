"""Writes the seeded, learnable benchmark data sets that Graft and scikit-learn both read.

Each set: features in a low-rank class structure pushed through a ReLU plus
noise (like pooled CNN features), 10 classes, float32 .npy, labels int32 .npy.
Usage: make_data.py OUTDIR  (writes OUTDIR/<name>_{Xtrain,ytrain,Xtest,ytest}.npy)
"""
import os
import sys

import numpy as np

SETS = {
    # name: (train rows, test rows, features, classes, latent rank, class separation, noise)
    "wide": (5000, 2000, 25088, 10, 48, 0.55, 1.0),
    "tall": (50000, 10000, 1280, 10, 48, 0.6, 1.0),
}


def make(name, out):
    n_train, n_test, d, k, r, sep, noise = SETS[name]
    rng = np.random.default_rng(20261129)
    n = n_train + n_test
    means = rng.standard_normal((k, r), dtype=np.float32) * sep
    y = rng.permutation(np.arange(n) % k).astype(np.int32)
    z = means[y] + rng.standard_normal((n, r), dtype=np.float32)
    mix = rng.standard_normal((r, d), dtype=np.float32) / np.float32(np.sqrt(r))
    x = z @ mix
    x += noise * rng.standard_normal((n, d), dtype=np.float32)
    np.maximum(x, 0, out=x)
    for part, rows in (("train", slice(0, n_train)), ("test", slice(n_train, n))):
        np.save(os.path.join(out, f"{name}_X{part}.npy"), np.ascontiguousarray(x[rows]))
        np.save(os.path.join(out, f"{name}_y{part}.npy"), y[rows])


if __name__ == "__main__":
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    for name in sys.argv[2:] or SETS:
        if not os.path.exists(os.path.join(out, f"{name}_ytest.npy")):
            make(name, out)
