"""Deterministic multi-label and regression tasks made from Fashion-MNIST (issue 18, docs/RESULTS.md).

  composites/  56x56 images: a 2x2 grid whose cells hold 1 to 4 Fashion-MNIST items (the others empty).
               train.csv / test.csv: path, label (the item count, so splits stratify by it), tags (the
               class names present, `|`-separated: the multi-label target), count (the regression target
               of the same images). targets.csv: the rows of both, for --targets / --labels.
  rotations/   one Fashion-MNIST item, rotated by an angle drawn uniformly from [-45, 45] degrees, on a
               40x40 canvas. train.csv / test.csv: path, label (the item's class), angle (the regression target);
               targets.csv: the rows of both.
Train images come from Fashion-MNIST's training set, test images from its test set. Every draw comes
from numpy's default_rng(seed); the same command writes the same files.

Run: /root/.venvs/fixtures/bin/python bench/tasks/make_task_data.py OUT [--train 800] [--test 400] [--seed 18]
"""
import argparse
import gzip
import os

import numpy as np
from PIL import Image

FASHION = "/usr/share/datasets/fashion-mnist"
CLASSES = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"]


def idx(name):
    with gzip.open(os.path.join(FASHION, name)) as f:
        data = f.read()
    dims = data[3]
    shape = [int.from_bytes(data[4 + 4 * i:8 + 4 * i], "big") for i in range(dims)]
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * dims).reshape(shape)


def save(img, path):
    Image.fromarray(img).convert("RGB").save(path, optimize=False)


def composites(out, images, labels, n, split, rng):
    os.makedirs(os.path.join(out, "img"), exist_ok=True)
    rows = ["path,label,tags,count"]
    for i in range(n):
        count = int(rng.integers(1, 5))
        cells = rng.choice(4, size=count, replace=False)
        picks = rng.choice(len(images), size=count, replace=False)
        canvas = np.zeros((56, 56), dtype=np.uint8)
        for cell, p in zip(cells, picks):
            r, c = divmod(int(cell), 2)
            canvas[r * 28:(r + 1) * 28, c * 28:(c + 1) * 28] = images[p]
        tags = sorted({CLASSES[labels[p]] for p in picks})
        path = f"img/{split}-{i:05d}.png"
        save(canvas, os.path.join(out, path))
        rows.append(f"{path},{count},{'|'.join(tags)},{count}")
    with open(os.path.join(out, f"{split}.csv"), "w") as f:
        f.write("\n".join(rows) + "\n")


def rotations(out, images, labels, n, split, rng):
    os.makedirs(os.path.join(out, "img"), exist_ok=True)
    rows = ["path,label,angle"]
    for i in range(n):
        p = int(rng.integers(len(images)))
        angle = float(rng.uniform(-45, 45))
        canvas = Image.new("L", (40, 40))
        canvas.paste(Image.fromarray(images[p]), (6, 6))
        rotated = canvas.rotate(angle, resample=Image.BILINEAR)
        path = f"img/{split}-{i:05d}.png"
        save(np.asarray(rotated), os.path.join(out, path))
        rows.append(f"{path},{CLASSES[labels[p]].replace('/', '-')},{angle:.4f}")
    with open(os.path.join(out, f"{split}.csv"), "w") as f:
        f.write("\n".join(rows) + "\n")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("out")
    ap.add_argument("--train", type=int, default=800)
    ap.add_argument("--test", type=int, default=400)
    ap.add_argument("--seed", type=int, default=18)
    a = ap.parse_args()
    train = (idx("train-images-idx3-ubyte.gz"), idx("train-labels-idx1-ubyte.gz"))
    test = (idx("t10k-images-idx3-ubyte.gz"), idx("t10k-labels-idx1-ubyte.gz"))
    rng = np.random.default_rng(a.seed)
    for split, (x, y), n in [("train", train, a.train), ("test", test, a.test)]:
        composites(os.path.join(a.out, "composites"), x, y, n, split, rng)
        rotations(os.path.join(a.out, "rotations"), x, y, n, split, rng)
    # One targets file per task for every item (train and test), since --targets and --labels cover all the data.
    for task in ["composites", "rotations"]:
        lines = []
        for split in ["train", "test"]:
            with open(os.path.join(a.out, task, f"{split}.csv")) as f:
                part = f.read().splitlines()
            lines += part if not lines else part[1:]
        with open(os.path.join(a.out, task, "targets.csv"), "w") as f:
            f.write("\n".join(lines) + "\n")
    print(f"wrote {a.out}/composites and {a.out}/rotations ({a.train} train, {a.test} test each)")


if __name__ == "__main__":
    main()
