"""Reads the JSON lines of bench/heads/run.sh and prints the comparison table (medians)."""
import json
import statistics
import sys
from collections import defaultdict

SHAPES = {"wide": "5,000 x 25,088", "tall": "50,000 x 1,280"}


def main():
    runs = defaultdict(list)
    with open(sys.argv[1]) as f:
        for line in f:
            line = line.strip()
            if line.startswith("{"):
                r = json.loads(line)
                runs[(r["data"], r["head"], r["impl"])].append(r)
    print("| data (10 classes) | head | Graft fit s | sklearn fit s | ratio | Graft test acc | sklearn test acc "
          "| Graft objective | sklearn objective | iterations G / sk |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for data in ("wide", "tall"):
        for head in ("logreg", "svm"):
            g, s = runs.get((data, head, "graft")), runs.get((data, head, "sklearn"))
            if not g or not s:
                continue
            gt = statistics.median(r["fit_s"] for r in g)
            st = statistics.median(r["fit_s"] for r in s)
            print(f"| {SHAPES[data]} | {head} | {gt:.2f} | {st:.2f} | {gt / st:.2f}x | {g[0]['test_acc']:.4f} "
                  f"| {s[0]['test_acc']:.4f} | {g[0]['objective']:.6g} | {s[0]['objective']:.6g} "
                  f"| {g[0]['iterations']} / {s[0]['iterations']} |")
    print(f"\n(median of {max(len(v) for v in runs.values())} runs per cell; all fit times per run: "
          + "; ".join(f"{d}/{h}/{i} " + ",".join(f"{r['fit_s']:.2f}" for r in v) for (d, h, i), v in sorted(runs.items())) + ")")


if __name__ == "__main__":
    main()
