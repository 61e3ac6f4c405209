"""Markdown table of bench/setfit/run.sh's results.jsonl: accuracy mean, standard deviation (n-1), min and max over
the seeds, and the mean train time, per training size, runner and strategy."""
import json
import statistics
import sys
from collections import defaultdict

rows = [json.loads(line) for line in open(sys.argv[1]) if line.strip()]
groups = defaultdict(list)
for r in rows:
    groups[(r["n"], r["runner"], r["strategy"])].append(r)
print("| per class | runner | strategy | seeds | accuracy mean | std | min | max | train s (mean) | tuning s (mean) |")
print("|---|---|---|---|---|---|---|---|---|---|")
for (n, runner, strategy), rs in sorted(groups.items(), key=lambda kv: (kv[0][0], kv[0][1], kv[0][2])):
    acc = [r["accuracy"] for r in rs]
    sd = statistics.stdev(acc) if len(acc) > 1 else 0.0
    tune = [r["tuneSeconds"] for r in rs if "tuneSeconds" in r]
    print(f"| {n} | {runner} | {strategy} | {len(rs)} | {statistics.mean(acc):.4f} | {sd:.4f} | {min(acc):.4f} | {max(acc):.4f} | "
          f"{statistics.mean(r['trainSeconds'] for r in rs):.1f} | {statistics.mean(tune):.1f} |" if tune else
          f"| {n} | {runner} | {strategy} | {len(rs)} | {statistics.mean(acc):.4f} | {sd:.4f} | {min(acc):.4f} | {max(acc):.4f} | "
          f"{statistics.mean(r['trainSeconds'] for r in rs):.1f} | |")

# Paired view: every strategy's accuracy on each split (the same training texts and test subset).
columns = sorted({(r["runner"], r["strategy"]) for r in rows})
print()
print("| per class | seed | " + " | ".join(f"{runner}: {strategy}" for runner, strategy in columns) + " |")
print("|---|---|" + "---|" * len(columns))
cells = {(r["n"], r["seed"], r["runner"], r["strategy"]): r["accuracy"] for r in rows}
for n, seed in sorted({(r["n"], r["seed"]) for r in rows}):
    print(f"| {n} | {seed} | " + " | ".join(f"{cells[(n, seed) + c]:.3f}" if (n, seed) + c in cells else "" for c in columns) + " |")

# Gain of each tuned row over the same runner's frozen probe on the same split: mean, std and wins over the seeds.
probes = {"graft": "features + logistic regression", "sentence-transformers": "frozen + LogisticRegression()"}
print()
print("| per class | runner | strategy | seeds | gain over the frozen probe (points, mean) | std | seeds won |")
print("|---|---|---|---|---|---|---|")
for n in sorted({r["n"] for r in rows}):
    for runner, strategy in columns:
        if not strategy.startswith("contrastive") or runner not in probes:
            continue
        gains = [100 * (cells[(n, s, runner, strategy)] - cells[(n, s, runner, probes[runner])])
                 for s in sorted({r["seed"] for r in rows if r["n"] == n})
                 if (n, s, runner, strategy) in cells and (n, s, runner, probes[runner]) in cells]
        if gains:
            sd = statistics.stdev(gains) if len(gains) > 1 else 0.0
            print(f"| {n} | {runner} | {strategy} | {len(gains)} | {statistics.mean(gains):+.2f} | {sd:.2f} | {sum(g > 0 for g in gains)} of {len(gains)} |")
