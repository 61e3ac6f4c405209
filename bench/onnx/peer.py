"""The PyTorch side of bench/onnx (issue 23): the files both sides run, and ONNX Runtime on them.

  peer.py prepare DIR [model ...]   For each model, torchvision's module (fixtures/models/torchvision_models.py,
                                    torchvision's code re-stated: no torchvision wheel for this torch) with seeded
                                    random weights and non-trivial batch-norm statistics (as the parity fixtures):
                                      DIR/<model>.onnx          torch.onnx.export, opset 17, dynamic batch
                                      DIR/<model>.safetensors   the same weights, torchvision keys (what Graft's
                                                                native ResNet-18 / MobileNetV2 load)
                                      DIR/<model>.check.safetensors  "x" [2, 3, 224, 224] and ONNX Runtime's "logits"
  peer.py time THREADS DIR [model ...]   ONNX Runtime (all graph optimisations, intra-op threads = THREADS) on
                                    DIR/<model>.onnx at batch 1 and 32 (BENCH_BATCHES), 224x224: median of
                                    BENCH_REPEATS timed runs after a warm-up. BENCH_ORT_INT8=1 also times ONNX
                                    Runtime's static int8 quantization of that file (QDQ, per-channel s8 weights,
                                    u8 activations, MinMax calibration on one batch of 32 inputs like the timed
                                    ones: what bench/vision does), the "ort-int8" rows.
Prints "row<TAB>ort<TAB><model> b<batch><TAB>img/s" lines.
"""
import os, sys, time, warnings

warnings.filterwarnings("ignore")  # the TorchScript exporter's deprecation notes

MODELS = ["resnet18", "mobilenet_v2"]


def prepare(out, names):
    import torch
    import torch.nn as nn
    import onnxruntime as ort
    from safetensors.torch import save_file
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "fixtures", "models"))
    from torchvision_models import BasicBlock, MobileNetV2, ResNet
    torch.set_num_threads(2)
    os.makedirs(out, exist_ok=True)
    for name in names:
        torch.manual_seed(0)
        model = {"resnet18": lambda: ResNet(BasicBlock, [2, 2, 2, 2]), "mobilenet_v2": lambda: MobileNetV2()}[name]()
        g = torch.Generator().manual_seed(1)
        with torch.no_grad():
            for m in model.modules():
                if isinstance(m, nn.BatchNorm2d):
                    n = m.num_features
                    m.weight.data = torch.rand(n, generator=g) + 0.5
                    m.bias.data = torch.randn(n, generator=g) * 0.1
                    m.running_mean.data = torch.randn(n, generator=g) * 0.1
                    m.running_var.data = torch.rand(n, generator=g) + 0.5
        model.eval()
        x = torch.rand(2, 3, 224, 224, generator=torch.Generator().manual_seed(2)) * 4 - 2
        path = os.path.join(out, f"{name}.onnx")
        with torch.no_grad():
            torch.onnx.export(model, (x,), path, opset_version=17, input_names=["x"], output_names=["logits"],
                              dynamic_axes={"x": {0: "batch"}, "logits": {0: "batch"}}, dynamo=False)
        save_file({k: v.contiguous() for k, v in model.state_dict().items()}, os.path.join(out, f"{name}.safetensors"))
        logits = ort.InferenceSession(path, providers=["CPUExecutionProvider"]).run(None, {"x": x.numpy()})[0]
        with torch.inference_mode():
            assert abs(model(x).numpy() - logits).max() < 1e-3, f"{name}: ONNX Runtime disagrees with PyTorch"
        save_file({"x": x, "logits": torch.from_numpy(logits)}, os.path.join(out, f"{name}.check.safetensors"))
        print(f"# prepared {name}: {os.path.getsize(path)} bytes", file=sys.stderr)


def median(fn, repeats):
    fn()  # warm-up
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return sorted(times)[len(times) // 2]


def time_ort(threads, out, names):
    import numpy as np
    import onnxruntime as ort
    batches = [int(b) for b in os.environ.get("BENCH_BATCHES", "1 32").split()]
    repeats = int(os.environ.get("BENCH_REPEATS", "5"))
    print(f"# onnxruntime {ort.__version__}, threads {threads}, repeats {repeats}")
    for name in names:
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        sessions = [("ort", ort.InferenceSession(os.path.join(out, f"{name}.onnx"), options, providers=["CPUExecutionProvider"]))]
        if os.environ.get("BENCH_ORT_INT8") == "1":
            sessions.append(("ort-int8", ort.InferenceSession(quantized(out, name), options, providers=["CPUExecutionProvider"])))
        for b in batches:
            feed = {"x": (np.random.default_rng(b).random((b, 3, 224, 224), dtype=np.float32) * 4 - 2)}
            # At batch 1 one run is a few ms: time 10 per sample so the clock's resolution does not matter.
            calls = max(1, 10 // b)
            for path, session in sessions:
                seconds = median(lambda: [session.run(None, feed) for _ in range(calls)], repeats) / calls
                print(f"row\t{path}\t{name} b{b}\t{b / seconds:.1f}", flush=True)


def quantized(out, name):
    """OUT/<name>.ort-int8.onnx: ONNX Runtime's static quantization of OUT/<name>.onnx (made once)."""
    import numpy as np
    from onnxruntime.quantization import CalibrationDataReader, CalibrationMethod, QuantFormat, QuantType, quantize_static
    from onnxruntime.quantization.shape_inference import quant_pre_process
    path = os.path.join(out, f"{name}.ort-int8.onnx")
    if os.path.exists(path):
        return path

    class Reader(CalibrationDataReader):
        def __init__(self):
            self.items = iter([{"x": np.random.default_rng(32).random((32, 3, 224, 224), dtype=np.float32) * 4 - 2}])

        def get_next(self):
            return next(self.items, None)

    prepared = os.path.join(out, f"{name}.prepared.onnx")
    start = os.getcwd()
    os.chdir(out)   # the quantization tools write scratch models into the working directory
    try:
        quant_pre_process(os.path.join(out, f"{name}.onnx"), prepared)
        quantize_static(prepared, path, Reader(), quant_format=QuantFormat.QDQ, per_channel=True,
                        activation_type=QuantType.QUInt8, weight_type=QuantType.QInt8, calibrate_method=CalibrationMethod.MinMax)
    finally:
        os.chdir(start)
    return path


if __name__ == "__main__":
    if len(sys.argv) < 3 or sys.argv[1] not in ("prepare", "time"):
        raise SystemExit(__doc__)
    if sys.argv[1] == "prepare":
        prepare(sys.argv[2], sys.argv[3:] or MODELS)
    else:
        time_ort(int(sys.argv[2]), sys.argv[3], sys.argv[4:] or MODELS)
