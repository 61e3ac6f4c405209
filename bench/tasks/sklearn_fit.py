"""scikit-learn side of bench/tasks: fits one task head on DATADIR/tasks_* and prints one JSON line with
the same fields as `graft-bench-heads tasks`.

Usage: sklearn_fit.py DATADIR prototype|knn|ridge|ridgecv|ovr
"""
import json
import sys
import time

import numpy as np
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.metrics import average_precision_score, f1_score, r2_score
from sklearn.model_selection import GridSearchCV, KFold
from sklearn.multiclass import OneVsRestClassifier
from sklearn.neighbors import KNeighborsClassifier, NearestCentroid
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler, normalize

ALPHAS = [0.01, 0.1, 1, 10, 100, 1000, 10000]


def main():
    directory, head = sys.argv[1], sys.argv[2]
    load = lambda name: np.load(f"{directory}/tasks_{name}.npy")
    x, xt = load("Xtrain"), load("Xtest")
    start = time.perf_counter()
    if head in ("prototype", "knn"):
        y, yt = load("ytrain"), load("ytest")
        if head == "prototype":
            model = NearestCentroid().fit(normalize(x), y)
            predicted = model.predict(normalize(xt))
        else:
            model = KNeighborsClassifier(n_neighbors=5, metric="cosine", algorithm="brute").fit(x, y)
            predicted = model.predict(xt)
        metric = {"test_accuracy": float((predicted == yt).mean())}
    elif head in ("ridge", "ridgecv"):
        t, tt = load("Ttrain"), load("Ttest")
        if head == "ridge":
            model = make_pipeline(StandardScaler(), Ridge(alpha=10.0)).fit(x, t)
        else:
            model = GridSearchCV(make_pipeline(StandardScaler(), Ridge()), {"ridge__alpha": ALPHAS},
                                 cv=KFold(5, shuffle=True, random_state=0), scoring="neg_mean_squared_error").fit(x, t).best_estimator_
        metric = {"test_r2": float(r2_score(tt, model.predict(xt))), "alpha": float(model[-1].alpha)}
    else:
        labels, lt = load("Ltrain").astype(int), load("Ltest").astype(int)
        model = make_pipeline(StandardScaler(), OneVsRestClassifier(LogisticRegression(C=1.0))).fit(x, labels)
        p = model.predict_proba(xt)
        metric = {"test_micro_f1": float(f1_score(lt, p >= 0.5, average="micro")),
                  "test_map": float(average_precision_score(lt, p, average="macro"))}
    seconds = time.perf_counter() - start
    print(json.dumps({"impl": "sklearn", "head": head, "seconds": seconds, **metric}))


if __name__ == "__main__":
    main()
