"""Tables of bench/strategies/run.sh's lines: per data set, training size and strategy, the test accuracy's mean,
standard deviation (n-1), min and max over the seeds, and the mean train time; then issue 21's checks, per run:
the fine-tune against its own probe on validation, against features + logistic regression on test, and against
training from scratch on test."""
import json
import statistics
import sys
from collections import defaultdict

rows = [json.loads(line) for path in sys.argv[1:] for line in open(path) if line.strip()]
groups = defaultdict(list)
for r in rows:
    groups[(r["data"], r["n"], r["strategy"])].append(r)
order = ["from scratch", "features + logistic regression", "features + linear SVM", "fine-tune"]
print("| data | per class | strategy | seeds | accuracy mean | std | min | max | train s (mean) |")
print("|---|---:|---|---:|---:|---:|---:|---:|---:|")
for (data, n, strategy), rs in sorted(groups.items(), key=lambda kv: (kv[0][0], kv[0][1], order.index(kv[0][2]) if kv[0][2] in order else 9)):
    acc = [r["accuracy"] for r in rs]
    sd = statistics.stdev(acc) if len(acc) > 1 else 0.0
    print(f"| {data} | {n} | {strategy} | {len(rs)} | {statistics.mean(acc):.4f} | {sd:.4f} | {min(acc):.4f} | {max(acc):.4f} | "
          f"{statistics.mean(r['trainSeconds'] for r in rs):.1f} |")

print()
print("| data | per class | seed | fine-tune detail | probe val | kept val | FT test | logreg test | scratch test | FT >= probe (val) | FT - logreg | FT - scratch |")
print("|---|---:|---:|---|---:|---:|---:|---:|---:|---|---:|---:|")
runs = defaultdict(dict)
for r in rows:
    runs[(r["data"], r["n"], r["seed"])][r["strategy"]] = r
for (data, n, seed), s in sorted(runs.items()):
    ft, lr, sc = s.get("fine-tune"), s.get("features + logistic regression"), s.get("from scratch")
    if not ft:
        continue
    pv, bv = ft.get("probeValidation"), ft.get("bestValidation")
    ok = "yes" if pv is not None and bv is not None and bv >= pv else ("n/a" if pv is None else "NO")
    fmt = lambda x: f"{x:.4f}" if x is not None else ""
    print(f"| {data} | {n} | {seed} | {ft['detail']} | {fmt(pv)} | {fmt(bv)} | {ft['accuracy']:.4f} | {fmt(lr and lr['accuracy'])} | "
          f"{fmt(sc and sc['accuracy'])} | {ok} | {(ft['accuracy'] - lr['accuracy']) * 100:+.2f} | {(ft['accuracy'] - sc['accuracy']) * 100:+.2f} |"
          if lr and sc else f"| {data} | {n} | {seed} | {ft['detail']} | {fmt(pv)} | {fmt(bv)} | {ft['accuracy']:.4f} | | | {ok} | | |")
