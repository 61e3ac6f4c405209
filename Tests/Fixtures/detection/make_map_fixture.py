"""mAP reference: pycocotools' COCOeval (bbox) on random ground truth and noisy predictions.

Writes map_reference.json: images, ground truth boxes, predictions, and COCOeval's mAP@0.5,
mAP@0.5:0.95 and the per-class APs (from eval['precision'], area 'all', 100 detections).

Run: ~/.venvs/detect/bin/python make_map_fixture.py   (venv: numpy pycocotools)
"""
import contextlib
import io
import json
import os

import numpy as np
from pycocotools.coco import COCO
from pycocotools.cocoeval import COCOeval

HERE = os.path.dirname(os.path.abspath(__file__))
rng = np.random.default_rng(16)
classes = [1, 2, 3]
images, gts, dts = [], [], []
for img in range(1, 26):
    w, h = int(rng.integers(200, 640)), int(rng.integers(200, 640))
    images.append({"id": img, "width": w, "height": h})
    for _ in range(int(rng.integers(0, 5))):
        c = int(rng.choice(classes))
        bw, bh = float(rng.uniform(10, w / 2)), float(rng.uniform(10, h / 2))
        x, y = float(rng.uniform(0, w - bw)), float(rng.uniform(0, h - bh))
        gts.append({"id": len(gts) + 1, "image_id": img, "category_id": c, "bbox": [x, y, bw, bh], "area": bw * bh, "iscrowd": 0})
        # A detection near most objects (sometimes the wrong class), with jitter that spans the IoU thresholds.
        for _ in range(int(rng.integers(0, 3))):
            j = rng.normal(0, 0.12, 4)
            dc = c if rng.random() < 0.85 else int(rng.choice(classes))
            dts.append({"image_id": img, "category_id": dc, "score": float(np.round(rng.uniform(0.05, 1), 4)),
                        "bbox": [x + j[0] * bw, y + j[1] * bh, bw * np.exp(j[2]), bh * np.exp(j[3])]})
    for _ in range(int(rng.integers(0, 3))):  # false positives
        bw, bh = float(rng.uniform(10, w / 3)), float(rng.uniform(10, h / 3))
        dts.append({"image_id": img, "category_id": int(rng.choice(classes)), "score": float(np.round(rng.uniform(0.05, 0.7), 4)),
                    "bbox": [float(rng.uniform(0, w - bw)), float(rng.uniform(0, h - bh)), bw, bh]})

gt = COCO()
gt.dataset = {"images": images, "annotations": gts, "categories": [{"id": c, "name": f"c{c}"} for c in classes]}
with contextlib.redirect_stdout(io.StringIO()):
    gt.createIndex()
    dt = gt.loadRes(dts)
    ev = COCOeval(gt, dt, "bbox")
    ev.evaluate(); ev.accumulate(); ev.summarize()
prec = ev.eval["precision"]  # [T, R, K, A, M]
per_class = {}
for k, c in enumerate(ev.params.catIds):
    p = prec[:, :, k, 0, -1]
    per_class[str(c)] = {"ap50": float(np.mean(p[0][p[0] > -1])), "ap5095": float(np.mean(p[p > -1]))}
out = {"images": images, "groundTruth": gts, "predictions": [{k: v for k, v in d.items()} for d in dts],
       "map50": float(ev.stats[1]), "map5095": float(ev.stats[0]), "perClass": per_class}
with open(os.path.join(HERE, "map_reference.json"), "w") as f:
    json.dump(out, f)
print(len(gts), "objects,", len(dts), "detections; mAP@0.5", ev.stats[1], "mAP@0.5:0.95", ev.stats[0], per_class)
