// ONNX import throughput in images/s (issue 23): the same weights run three ways in one process run -
// Graft's native ResNet-18 / MobileNetV2 (`ImageBackbone.forward`, inference: folded BN, fused post-ops),
// the PyTorch export of them imported by `OnnxModel` (`imported`: NCHW in and out, as ONNX Runtime is fed;
// `imported-nhwc`: NHWC pixels in, as `graft extract` runs it through OnnxBackbone), and (peer.py, beside it
// in run.sh) ONNX Runtime on that same .onnx file. 224x224, batch 1 and 32, logits out. Before timing, both Graft paths are checked
// against ONNX Runtime's logits on the same 2 images (peer.py prepare's check file). `imported-int8` (issue 19): the
// graph quantized as `graft quantize` does it (calibrated on a batch of 32 inputs like the timed ones, the ranges
// written into a copy of the file, `OnnxInt8Quantization`) and run NHWC under int8; peer.py's `ort-int8` row is ONNX
// Runtime's static quantization of the same file on its own such batch (BENCH_ORT_INT8=1 in run.sh).
//
// Usage: graft-bench-onnx DIR [model ...]   (DIR: what `peer.py prepare DIR` wrote; models resnet18, mobilenet_v2)
// Prints "row<TAB>native|imported|imported-nhwc|imported-int8|native-int8<TAB><model> b<batch><TAB>img/s" and "# check ..." lines.
// Env: BENCH_BATCHES ("1 32"), BENCH_REPEATS (timed samples, 5), GRAFT_THREADS, BENCH_PATHS ("native imported
//      imported-nhwc imported-int8 native-int8"; native-int8 is the native network calibrated on the same batch).
import Foundation
import GraftModels
import GraftNN
import GraftTensor

let env = ProcessInfo.processInfo.environment
let batches = (env["BENCH_BATCHES"] ?? "1 32").split(separator: " ").compactMap { Int($0) }
let repeats = Int(env["BENCH_REPEATS"] ?? "") ?? 5
/// BENCH_PATHS: which Graft paths to time ("native imported imported-nhwc"; one alone for a profiler;
/// "input-transpose": the NCHW -> NHWC copy of the input that `imported` makes).
let paths = (env["BENCH_PATHS"] ?? "native imported imported-nhwc imported-int8 native-int8").split(separator: " ").map(String.init)
let arguments = Array(CommandLine.arguments.dropFirst())
guard let dirPath = arguments.first else {
    FileHandle.standardError.write(Data("usage: graft-bench-onnx DIR [resnet18|mobilenet_v2 ...]\n".utf8))
    exit(64)
}
let dir = URL(fileURLWithPath: dirPath)
let models = arguments.count > 1 ? Array(arguments.dropFirst()) : ["resnet18", "mobilenet_v2"]

func native(_ name: String) throws -> any ImageBackbone {
    switch name {
    case "resnet18": return try ResNet(.resnet18())
    case "mobilenet_v2": return try MobileNetV2()
    default: throw ModelError.unknownModel(name, available: ["resnet18", "mobilenet_v2"])
    }
}

/// Median seconds per call of each body over `repeats` samples, after one untimed warm-up each (primitives,
/// weight reorders). The bodies alternate sample by sample, so a change in the machine's load hits them alike;
/// each sample runs `calls` calls (small batches take a few ms).
func medians(calls: Int, _ bodies: [() throws -> Void]) throws -> [Double] {
    for body in bodies { try body() }
    var times = [[Double]](repeating: [], count: bodies.count)
    for _ in 0..<repeats {
        for (i, body) in bodies.enumerated() {
            let start = DispatchTime.now().uptimeNanoseconds
            for _ in 0..<calls { try body() }
            times[i].append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9 / Double(calls))
        }
    }
    return times.map { $0.sorted()[$0.count / 2] }
}

func relativeDifference(_ a: Tensor, _ b: Tensor) -> Float {
    let scale = b.values.map(abs).max() ?? 0
    return (zip(a.values, b.values).map { abs($0 - $1) }.max() ?? .infinity) / scale
}

print("# load average before: \(String((try? String(contentsOfFile: "/proc/loadavg", encoding: .utf8)) ?? "?").split(separator: " ").prefix(3).joined(separator: " "))")
for name in models {
    let model = try native(name)
    let report = try model.load(contentsOf: dir.appendingPathComponent("\(name).safetensors"))
    guard report.isComplete else { fatalError("\(name): the native model did not take every weight: \(report)") }
    let imported = try OnnxModel(contentsOf: dir.appendingPathComponent("\(name).onnx"))
    let check = try loadTensors(dir.appendingPathComponent("\(name).check.safetensors"))
    guard let cx = check["x"], let ort = check["logits"] else { fatalError("\(name).check.safetensors lacks x or logits") }
    let nativeLogits = try withNoGrad { try model.forward(cx.permuted([0, 2, 3, 1]), upTo: nil, training: false) }
    guard let importedLogits = try imported.run(["x": cx])["logits"] else { fatalError("\(name): the imported graph returned no logits") }
    print("# check \(name): max |diff| / scale vs ONNX Runtime: imported \(relativeDifference(importedLogits, ort)), native \(relativeDifference(nativeLogits, ort))")
    var quantized: OnnxModel?
    if paths.contains("imported-int8") || paths.contains("native-int8") {
        var g = SeededGenerator(seed: 32)
        let calibration = try Tensor.uniform([32, 3, 224, 224], low: -2, high: 2, generator: &g).permuted([0, 2, 3, 1])
        let calibrating = try OnnxModel(contentsOf: dir.appendingPathComponent("\(name).onnx"))
        try Calibration.recording { try withNoGrad {
            _ = try calibrating.runChannelsLast(["x": calibration])
            _ = try model.forward(calibration, upTo: nil, training: false)   // the native network too (`native-int8`)
        } }
        let file = dir.appendingPathComponent("\(name).graft-int8.onnx")
        try OnnxInt8Quantization.write(dir.appendingPathComponent("\(name).onnx"), ranges: calibrating.int8Ranges, to: file)
        let q = try OnnxModel(contentsOf: file)
        let int8Logits = try withPrecision(.int8) { try q.run(["x": cx])["logits"] }
        print("# check \(name) int8: \(calibrating.int8Ranges.count) of \(calibrating.convolutionCount) convolutions calibrated; max |diff| / scale vs ONNX Runtime fp32 \(relativeDifference(try int8Logits ?? Tensor.zeros([1]), ort))")
        quantized = q
    }
    for b in batches {
        var g = SeededGenerator(seed: UInt64(b))
        let nchw = Tensor.uniform([b, 3, 224, 224], low: -2, high: 2, generator: &g)
        let nhwc = try nchw.permuted([0, 2, 3, 1])
        let calls = max(1, 10 / b)
        let bodies: [(String, () throws -> Void)] = [("native", { _ = try withNoGrad { try model.forward(nhwc, upTo: nil, training: false) } }),
                                                     ("imported", { _ = try imported.run(["x": nchw]) }),
                                                     // As `graft extract` runs it (OnnxBackbone): NHWC pixels in.
                                                     ("imported-nhwc", { _ = try imported.runChannelsLast(["x": nhwc]) }),
                                                     // The quantized copy in int8, NHWC in (`graft extract --precision int8`).
                                                     ("imported-int8", { _ = try withPrecision(.int8) { try quantized?.runChannelsLast(["x": nhwc]) } }),
                                                     // The native network in int8 on the same calibration (chains, codes between blocks).
                                                     ("native-int8", { _ = try withPrecision(.int8) { try withNoGrad { try model.forward(nhwc, upTo: nil, training: false) } } }),
                                                     // What the imported path adds before its first convolution.
                                                     ("input-transpose", { _ = try withNoGrad { try nchw.permuted([0, 2, 3, 1]) } })]
            .filter { paths.contains($0.0) }
        let t = try medians(calls: calls, bodies.map(\.1))
        for ((path, _), seconds) in zip(bodies, t) { print("row\t\(path)\t\(name) b\(b)\t\(String(format: "%.1f", Double(b) / seconds))") }
    }
}
print("# load average after: \(String((try? String(contentsOfFile: "/proc/loadavg", encoding: .utf8)) ?? "?").split(separator: " ").prefix(3).joined(separator: " "))")

