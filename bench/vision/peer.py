"""PyTorch and ONNX Runtime side of bench/vision: same models, batch, input size and threads.

PyTorch: eval, channels_last, torch.inference_mode. ONNX Runtime: the same PyTorch module
exported once (opset 17, static batch), all graph optimisations, intra-op threads = threads.
EfficientNet-Lite0 is the reference package's code (efficientnet_lite_pytorch); ResNet-50,
MobileNetV2 and VGG16 are fixtures/models/torchvision_models.py (torchvision's modules).
Random weights: throughput does not depend on them.
Prints "row<TAB>torch|ort<TAB>name<TAB>img/s" lines.
Usage: peer.py THREADS [model ...]   Env: BENCH_BATCH (32), BENCH_REPEATS (5),
BENCH_ORT_INT8=1 (also ONNX Runtime's static int8 quantization of each model: "row<TAB>ort-int8<TAB>...").
"""
import os, sys, tempfile, time, warnings
import torch

warnings.filterwarnings("ignore")  # the TorchScript exporter's deprecation notes

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "fixtures", "models"))
from torchvision_models import Bottleneck, MobileNetV2, ResNet, VGG, VGG16

threads = int(sys.argv[1]) if len(sys.argv) > 1 else os.cpu_count()
names = sys.argv[2:] or ["efficientnet-lite0", "resnet50", "mobilenet_v2", "vgg16-features"]
batch = int(os.environ.get("BENCH_BATCH", "32"))
repeats = int(os.environ.get("BENCH_REPEATS", "5"))
torch.set_num_threads(threads)
torch.manual_seed(0)
import onnxruntime as ort
print(f"# torch {torch.__version__}, onnxruntime {ort.__version__}, threads {threads}, batch {batch}, repeats {repeats}")


def make(name):
    if name == "efficientnet-lite0":
        from efficientnet_lite_pytorch import EfficientNet
        return EfficientNet.from_name("efficientnet-lite0"), 224
    if name == "resnet50":
        return ResNet(Bottleneck, [3, 4, 6, 3]), 224
    if name == "mobilenet_v2":
        return MobileNetV2(), 224
    if name == "vgg16-features":
        return VGG(VGG16).features, 224  # up to the 7x7x512 map
    raise SystemExit(f"unknown model {name}")


def median(fn):
    fn()  # warm-up
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return sorted(times)[len(times) // 2]


for name in names:
    model, size = make(name)
    model.eval()
    x = torch.rand(batch, 3, size, size) * 4 - 2
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "model.onnx")
        with torch.no_grad():
            torch.onnx.export(model, (x,), path, opset_version=17, input_names=["x"], dynamo=False)
        model_cl = model.to(memory_format=torch.channels_last)
        x_cl = x.contiguous(memory_format=torch.channels_last)
        with torch.inference_mode():
            seconds = median(lambda: model_cl(x_cl))
        print(f"row\ttorch\t{name}\t{batch / seconds:.1f}", flush=True)
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        session = ort.InferenceSession(path, options, providers=["CPUExecutionProvider"])
        feed = {"x": x.numpy()}
        seconds = median(lambda: session.run(None, feed))
        print(f"row\tort\t{name}\t{batch / seconds:.1f}", flush=True)
        if os.environ.get("BENCH_ORT_INT8") == "1":
            # ONNX Runtime's post-training static quantization of the same graph, calibrated (MinMax, its default)
            # on the timed batch as Graft's int8 rows are: QDQ, per-channel s8 weights, u8 activations.
            from onnxruntime.quantization import CalibrationDataReader, CalibrationMethod, QuantFormat, QuantType, quantize_static
            from onnxruntime.quantization.shape_inference import quant_pre_process

            class Reader(CalibrationDataReader):
                def __init__(self):
                    self.items = iter([feed])

                def get_next(self):
                    return next(self.items, None)

            prepared, quantized = os.path.join(tmp, "prepared.onnx"), os.path.join(tmp, "int8.onnx")
            start = os.getcwd()
            os.chdir(tmp)   # the quantization tools write scratch models (and their external data) into the working directory
            try:
                quant_pre_process(path, prepared)
                quantize_static(prepared, quantized, Reader(), quant_format=QuantFormat.QDQ, per_channel=True,
                                activation_type=QuantType.QUInt8, weight_type=QuantType.QInt8,
                                calibrate_method=CalibrationMethod.MinMax)
            finally:
                os.chdir(start)
            session = ort.InferenceSession(quantized, options, providers=["CPUExecutionProvider"])
            seconds = median(lambda: session.run(None, feed))
            print(f"row\tort-int8\t{name}\t{batch / seconds:.1f}", flush=True)
