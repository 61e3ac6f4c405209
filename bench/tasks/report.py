"""Reads the JSON lines of bench/tasks/run.sh and prints the comparison table (median seconds)."""
import json
import statistics
import sys
from collections import defaultdict

WHAT = {"prototype": "fit + predict", "knn": "fit + predict (k = 5)", "ridge": "fit, alpha = 10",
        "ridgecv": "fit, alpha by 5-fold CV over 7 values", "ovr": "fit, 8 labels, C = 1"}


def main():
    runs = defaultdict(list)
    with open(sys.argv[1]) as f:
        for line in f:
            if line.startswith("{"):
                r = json.loads(line)
                runs[(r["head"], r["impl"])].append(r)
    print("| head | timed | Graft s | sklearn s | ratio | Graft metric | sklearn metric |")
    print("|---|---|---|---|---|---|---|")
    for head in WHAT:
        g, s = runs.get((head, "graft")), runs.get((head, "sklearn"))
        if not g or not s:
            continue
        gt, st = statistics.median(r["seconds"] for r in g), statistics.median(r["seconds"] for r in s)
        metric = lambda r: ", ".join(f"{k} {v:.4f}" if isinstance(v, float) else f"{k} {v}"
                                     for k, v in r.items() if k not in ("impl", "head", "seconds"))
        print(f"| {head} | {WHAT[head]} | {gt:.3f} | {st:.3f} | {gt / st:.2f}x | {metric(g[0])} | {metric(s[0])} |")


if __name__ == "__main__":
    main()
