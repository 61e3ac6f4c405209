"""Pillow + numpy peer for bench/data: the torchvision evaluation transforms on PIL
images, written out (torchvision is not installed here): Resize(256) -> PIL resize
BILINEAR, CenterCrop(224), ToTensor (/255, HWC kept), Normalize. One JSON line each."""
import json, sys, time
import numpy as np
from PIL import Image
import gzip, struct

files = open(sys.argv[1]).read().split()
seconds = float(sys.argv[2]) if len(sys.argv) > 2 else 2.0
blobs = [open(f, "rb").read() for f in files]
import io
MEAN = np.array([0.485, 0.456, 0.406], np.float32)
STD = np.array([0.229, 0.224, 0.225], np.float32)


def decode(b):
    return Image.open(io.BytesIO(b)).convert("RGB")


def imagenet(im):
    w, h = im.size
    size = (256, int(256 * h / w)) if w <= h else (int(256 * w / h), 256)
    im = im.resize(size, Image.Resampling.BILINEAR)
    w, h = im.size
    t, l = int(round((h - 224) / 2.0)), int(round((w - 224) / 2.0))
    x = np.asarray(im.crop((l, t, l + 224, t + 224)), np.float32) / np.float32(255)
    return (x - MEAN) / STD


def lite(im):
    w, h = im.size
    c = int(np.float32(224 / 256) * np.float32(min(w, h)))
    t, l = ((h - c) + 1) // 2, ((w - c) + 1) // 2
    im = im.crop((l, t, l + c, t + c)).resize((224, 224), Image.Resampling.BILINEAR)
    return (np.asarray(im, np.float32) - np.float32(127)) / np.float32(128)


def measure(name, fn):
    """Images per CPU second of this thread (time.thread_time), like the Swift side."""
    fn(0)
    n, start = 0, time.thread_time()
    while time.thread_time() - start < seconds:
        for i in range(len(blobs)):
            fn(i)
            n += 1
    print(json.dumps({"name": name, "images_per_s": n / (time.thread_time() - start)}), flush=True)


measure("decode", lambda i: decode(blobs[i]).load())
measure("decode+imagenet224", lambda i: imagenet(decode(blobs[i])))
measure("decode+lite224", lambda i: lite(decode(blobs[i])))
decoded = [decode(b) for b in blobs]
for im in decoded:
    im.load()
measure("imagenet224-only", lambda i: imagenet(decoded[i]))
measure("lite224-only", lambda i: lite(decoded[i]))

with gzip.open("/usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz") as fh:
    _, n_img, r, c = struct.unpack(">IIII", fh.read(16))
    fm = np.frombuffer(fh.read(), np.uint8).reshape(n_img, r, c)
n, start = 0, time.thread_time()
while time.thread_time() - start < seconds:
    im = Image.fromarray(fm[n % n_img], "L").convert("RGB").resize((224, 224), Image.Resampling.BILINEAR)
    x = (np.asarray(im, np.float32) - np.float32(127)) / np.float32(128)
    n += 1
print(json.dumps({"name": "fashion28->224", "images_per_s": n / (time.thread_time() - start)}), flush=True)
