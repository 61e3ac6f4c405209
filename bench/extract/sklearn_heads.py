"""Issue 6: scikit-learn's heads on the very features Graft's heads were fitted on.

Usage: python bench/extract/sklearn_heads.py OUTDIR
OUTDIR is what `graft-bench-extract acceptance OUTDIR` wrote: feature stores (safetensors shards)
and results.json (Graft's chosen C, accuracies and the split indices). The stores are exported to
OUTDIR/<store>.npy / <store>-labels.npy; raw Fashion-MNIST pixels are read from the IDX files with
the same indices. Each head is fitted at Graft's C (StandardScaler first, as Graft standardises),
so the comparison is solver against solver; scikit-learn's own 5-fold choice of C is shown too.
Prints one tab-separated `row` per head.
"""
import gzip, json, os, struct, sys, time, warnings

import numpy as np
from safetensors.numpy import load_file
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV, StratifiedKFold
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.svm import LinearSVC

warnings.filterwarnings("ignore", category=ConvergenceWarning)
out = sys.argv[1]


def store(name):
    d = os.path.join(out, name)
    manifest = json.load(open(os.path.join(d, "manifest.json")))
    parts = [load_file(os.path.join(d, s["file"])) for s in manifest["shards"]]
    x = np.concatenate([p["features"] for p in parts]).astype(np.float32)
    y = np.concatenate([p["labels"] for p in parts]).astype(np.int64)
    np.save(os.path.join(out, name + ".npy"), x)
    np.save(os.path.join(out, name + "-labels.npy"), y)
    return x, y


def idx(prefix, indices):
    with gzip.open(f"/usr/share/datasets/fashion-mnist/{prefix}-images-idx3-ubyte.gz") as fh:
        _, n, r, c = struct.unpack(">IIII", fh.read(16))
        images = np.frombuffer(fh.read(), np.uint8).reshape(n, r * c)
    with gzip.open(f"/usr/share/datasets/fashion-mnist/{prefix}-labels-idx1-ubyte.gz") as fh:
        fh.read(8)
        labels = np.frombuffer(fh.read(), np.uint8)
    return images[indices].astype(np.float32) / 255, labels[indices].astype(np.int64)


def heads(task, features, C, xtr, ytr, xte, yte):
    for kind, model, grid in (("logreg", lambda c: LogisticRegression(C=c, solver="lbfgs"), [0.001, 0.01, 0.1, 1, 10, 100]),
                              ("svm", lambda c: LinearSVC(C=c), [0.001, 0.01, 0.1, 1, 10])):
        t = time.perf_counter()
        pipe = make_pipeline(StandardScaler(), model(C[kind])).fit(xtr, ytr)
        fit_s = time.perf_counter() - t
        acc = float((pipe.predict(xte) == yte).mean())
        cv = GridSearchCV(make_pipeline(StandardScaler(), model(1.0)), {f"{pipe.steps[1][0]}__C": grid},
                          cv=StratifiedKFold(5, shuffle=True, random_state=0), n_jobs=1).fit(xtr, ytr)
        cv_c = cv.best_params_[f"{pipe.steps[1][0]}__C"]
        cv_acc = float((cv.predict(xte) == yte).mean())
        print(f"row\t{task}\t{features}\t{kind}\t{C[kind]:g}\t{acc:.4f}\t{fit_s:.2f}\t{cv_c:g}\t{cv_acc:.4f}", flush=True)


results = json.load(open(os.path.join(out, "results.json")))
for r in results:
    C = {}
    for h in r["heads"]:
        C.setdefault(h["features"], {})[h["head"]] = h["C"]
    if r["task"] == "fashion-mnist":
        xtr, ytr = store("fashion-train"); xte, yte = store("fashion-test")
        feat = "efficientnet-lite0 penultimate"
        heads(r["task"], feat, C[feat], xtr, ytr, xte, yte)
        rtr, rytr = idx("train", r["trainIndices"]); rte, ryte = idx("t10k", r["testIndices"])
        assert (rytr == ytr).all() and (ryte == yte).all(), "store labels differ from the IDX labels at the split indices"
        heads(r["task"], "raw pixels", C["raw pixels"], rtr, rytr, rte, ryte)
    else:
        xtr, ytr = store("rotten-train"); xte, yte = store("rotten-test")
        feat = "all-minilm-l6-v2 pooled"
        heads(r["task"], feat, C[feat], xtr, ytr, xte, yte)
