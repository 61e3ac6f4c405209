"""scikit-learn side of bench/heads: fits one head on DATADIR/NAME_* and prints one JSON line
with the same fields as graft-bench-heads.

Usage: sklearn_fit.py DATADIR NAME logreg|svm C
"""
import json
import sys
import time
import warnings

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.svm import LinearSVC


def main():
    directory, name, head, C = sys.argv[1], sys.argv[2], sys.argv[3], float(sys.argv[4])
    x = np.load(f"{directory}/{name}_Xtrain.npy")
    y = np.load(f"{directory}/{name}_ytrain.npy")
    xt = np.load(f"{directory}/{name}_Xtest.npy")
    yt = np.load(f"{directory}/{name}_ytest.npy")
    model = LogisticRegression(C=C) if head == "logreg" else LinearSVC(C=C)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        start = time.perf_counter()
        model.fit(x, y)
        seconds = time.perf_counter() - start
    z = x.astype(np.float64) @ model.coef_.T.astype(np.float64) + model.intercept_
    if head == "logreg":
        # (sum of log-losses + ||W||^2 / (2C)) / n: the objective lbfgs minimises.
        top = z.max(axis=1, keepdims=True)
        lse = (top + np.log(np.exp(z - top).sum(axis=1, keepdims=True)))[:, 0]
        objective = (np.sum(lse - z[np.arange(len(y)), y]) + 0.5 / C * np.sum(model.coef_.astype(np.float64) ** 2)) / len(y)
    else:
        # Sum over one-vs-rest problems of 0.5 (||w||^2 + b^2) + C sum squared hinge.
        objective = 0.0
        for c in range(z.shape[1]):
            sign = np.where(y == c, 1.0, -1.0)
            w = model.coef_[c].astype(np.float64)
            b = float(model.intercept_[c])
            objective += 0.5 * (w @ w + b * b) + C * np.sum(np.maximum(0, 1 - sign * z[:, c]) ** 2)
    iterations = int(np.max(model.n_iter_))
    converged = not any("converge" in str(w.message) for w in caught)
    print(json.dumps({
        "impl": "sklearn", "data": name, "head": head, "fit_s": seconds,
        "train_acc": float(model.score(x, y)), "test_acc": float(model.score(xt, yt)),
        "objective": float(objective), "iterations": iterations,
        "stop": "converged" if converged else "max_iter",
    }))


if __name__ == "__main__":
    main()
