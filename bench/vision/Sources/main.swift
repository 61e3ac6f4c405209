// Vision forward throughput in images/s (issue 4): batch 32, 224x224 (the
// model's own input size), random weights, inference (no tape, training:
// false, so conv+BN+activation run fused). Prints one tab-separated line per
// model ("row<TAB>name<TAB>img/s<TAB>detail"); bench/vision/run.sh joins them
// with the PyTorch and ONNX Runtime lines of peer.py into the table.
//
// Usage: graft-bench-vision [model ...]   (default: all four)
//        graft-bench-vision --breakdown MODEL   (time per stage; for ResNet also what the
//        residual add + ReLU would cost as separate passes on the real shapes: the forward
//        now runs them as post-ops of each block's last conv)
//        graft-bench-vision --agreement MODEL   (max difference, relative to the output scale, between
//        the inference path timed here - folded BN, fused post-ops, Winograd 3x3 - and the taped path
//        with direct convolutions - separate ops - on 2 full-size images; also without Winograd)
//        graft-bench-vision --blocks MODEL   (each inverted-residual block of efficientnet-lite0 or
//        mobilenet_v2 on its real input: unfused oneDNN convolutions vs the fused kernel, best of repeats; where the
//        CPU has bf16 also the fused kernel with bf16 1x1 GEMMs: its time, its difference to fp32 and, as a check,
//        its AMX output against the portable loops of the same arithmetic)
//        graft-bench-vision --cold IMAGE   (what `graft predict --model efficientnet-lite0 IMAGE`
//        does, timed phase by phase from process start; run it as a new process each time)
// Env: BENCH_BATCH (32), BENCH_REPEATS (timed batches, 5), GRAFT_THREADS, BENCH_PRECISION (fp32 | bf16 | int8: what the
//      timed forward computes in, docs/PRECISION.md; rows then carry the precision after the model name; int8 first
//      calibrates every convolution on the timed batch, as `graft quantize` does on the user's data; int8-blocks /
//      int8-fused: inverted-residual blocks as int8 chains of oneDNN convolutions / the fused fp32 kernel; int8-convs:
//      ResNet blocks as separate int8 convolutions with fp32 tensors between them instead of int8 chains; int8-chains:
//      ResNet blocks as int8 chains with fp32 between blocks instead of u8 codes; bf16-fp32blocks: bf16 with the fused
//      inverted-residual kernel's 1x1 convolutions in fp32, as before its bf16 GEMMs).
//        graft-bench-vision --precision-agreement MODEL   (bf16 vs fp32 on the same random batch: top-1 agreement,
//        max probability change, max logit difference relative to the output scale)
//        graft-bench-vision --int8-agreement MODEL   (pretrained MODEL calibrated on Fashion-MNIST training images, then
//        int8 and bf16 vs fp32 on Fashion-MNIST test images: identical ImageNet top-1 share, max probability change)
//        graft-bench-vision --fusion-sides MODEL   (fp32 with blocks fused from each side of BENCH_SIDES, "policy 28
//          1000" by default, alternating forward by forward in one process)
//        graft-bench-vision --int8-codes MODEL   (int8 blocks handing codes to each other vs fp32 between blocks, forward
//        by forward alternated in one process: img/s of each, output difference)
import Foundation
import GraftData
import GraftKernels
import GraftModels
import GraftNN
import GraftTensor

let env = ProcessInfo.processInfo.environment
let batch = Int(env["BENCH_BATCH"] ?? "") ?? 32
let repeats = Int(env["BENCH_REPEATS"] ?? "") ?? 5
/// "int8-blocks" / "int8-fused": int8 with the inverted-residual blocks as int8 chains / the fused fp32 kernel
/// ("int8": the default, `FusedInvertedResidual.fusesAtInt8`).
let blockChoice: Bool? = ["int8-blocks": false, "int8-fused": true][env["BENCH_PRECISION"] ?? ""]
/// "int8-convs": ResNet blocks as separate int8 convolutions (`ResNetBlock.chainsAtInt8` false); "int8-chains": as
/// chains with fp32 between blocks (`ResNetBlock.keepsCodesBetweenBlocks` false).
let separateConvs = env["BENCH_PRECISION"] == "int8-convs", fp32BetweenBlocks = env["BENCH_PRECISION"] == "int8-chains"
let resnetChains = separateConvs ? false : ResNetBlock.chainsAtInt8
let resnetCodes = fp32BetweenBlocks ? false : ResNetBlock.keepsCodesBetweenBlocks
/// "bf16-fp32blocks": bf16 with the fused kernel's 1x1 convolutions in fp32 (`FusedInvertedResidual.bf16Kernel` false).
let fp32Blocks = env["BENCH_PRECISION"] == "bf16-fp32blocks"
let precision = blockChoice != nil || separateConvs || fp32BetweenBlocks ? .int8
    : fp32Blocks ? .bf16 : Precision(rawValue: env["BENCH_PRECISION"] ?? "fp32") ?? .fp32
let precisionLabel = blockChoice != nil || separateConvs || fp32BetweenBlocks || fp32Blocks ? env["BENCH_PRECISION"]! : precision.rawValue

/// `body` with the block choices BENCH_PRECISION's variant names (the defaults for plain precisions).
func withVariantChoices<T>(_ body: () throws -> T) throws -> T {
    try FusedInvertedResidual.$bf16Kernel.withValue(fp32Blocks ? false : FusedInvertedResidual.bf16Kernel) {
        try FusedInvertedResidual.$fusesAtInt8.withValue(blockChoice ?? FusedInvertedResidual.fusesAtInt8) {
            try ResNetBlock.$chainsAtInt8.withValue(resnetChains) {
                try ResNetBlock.$keepsCodesBetweenBlocks.withValue(resnetCodes, operation: body)
            }
        }
    }
}

/// (model, cut point) per bench row; VGG16 stops at its 7x7x512 features.
func makeModel(_ name: String) throws -> (any ImageBackbone, String?) {
    switch name {
    case "efficientnet-lite0": return (EfficientNetLite(try .lite(0)), nil)
    case "resnet50": return (try ResNet(.resnet50()), nil)
    case "resnet18": return (try ResNet(.resnet18()), nil)
    case "mobilenet_v2": return (try MobileNetV2(), nil)
    case "vgg16-features": return (try VGG(.vgg16()), "features")
    default: throw ModelError.unknownModel(name, available: ["efficientnet-lite0", "resnet18", "resnet50", "mobilenet_v2", "vgg16-features"])
    }
}

/// Median seconds of `repeats` timed calls after one untimed warm-up (primitive creation, weight reorders).
func median(repeats: Int, _ body: () throws -> Void) rethrows -> Double {
    try body()
    var times: [Double] = []
    for _ in 0..<repeats {
        let start = DispatchTime.now().uptimeNanoseconds
        try body()
        times.append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
    }
    return median(times)
}

/// Cut points that split the forward into consecutive stages.
func stageCuts(_ model: any ImageBackbone) -> [String] {
    switch model {
    case is ResNet: return ["stem", "layer1", "layer2", "layer3", "layer4", "logits"]
    case is VGG: return model.cutPoints.filter { $0.hasPrefix("block") }
    default: return model.cutPoints.filter { $0 != "penultimate" }
    }
}

/// Seconds per stage (cumulative forward to each cut, differenced), then the glue.
func breakdown(_ name: String) throws {
    let (model, _) = try makeModel(name)
    let size = model.preprocessing.inputSize
    var g = SeededGenerator(seed: 1)
    let x = Tensor.uniform([batch, size, size, 3], low: -2, high: 2, generator: &g)
    var previous = 0.0
    for cut in stageCuts(model) {
        let t = try median(repeats: repeats) { _ = try withNoGrad { try model.forward(x, upTo: cut, training: false) } }
        print("stage\t\(cut)\t\(String(format: "%.1f", (t - previous) * 1000)) ms")
        previous = t
    }
    guard let resnet = model as? ResNet else { return }
    // Each block ends with relu(conv path + shortcut). The forward fuses both into the last conv;
    // this times them as separate passes over the block's output, i.e. what the fusion saves.
    var glue = 0.0, elements = 0
    for (i, layer) in resnet.layers.enumerated() {
        let probe = try withNoGrad { try resnet.forward(Tensor.zeros([1, size, size, 3]), upTo: "layer\(i + 1)", training: false) }
        let shape = [batch] + probe.shape.dropFirst()
        let a = Tensor.uniform(shape, low: -1, high: 1, generator: &g), b = Tensor.uniform(shape, low: -1, high: 1, generator: &g)
        let add = try median(repeats: repeats) { _ = try withNoGrad { try a + b } }
        let relu = try median(repeats: repeats) { _ = try withNoGrad { try a.relu() } }
        print("glue\tlayer\(i + 1) x\(layer.count) \(shape)\tadd \(String(format: "%.1f", add * 1000)) ms, relu \(String(format: "%.1f", relu * 1000)) ms per block")
        glue += Double(layer.count) * (add + relu)
        elements += layer.count * a.count
    }
    print("glue\ttotal\t\(String(format: "%.1f", glue * 1000)) ms of \(String(format: "%.1f", previous * 1000)) ms forward, if run as separate passes (\(elements / 1_000_000)M elements)")
}

/// `graft predict`'s path for one image (PredictCommand.swift), with the time of each phase.
func coldPredict(_ path: String) throws {
    var last = DispatchTime.now().uptimeNanoseconds
    var phases: [(String, Double)] = []
    func lap(_ name: String) {
        let now = DispatchTime.now().uptimeNanoseconds
        phases.append((name, Double(now - last) / 1e6))
        last = now
    }
    let backbone = try ImageModels.pretrained("efficientnet-lite0")
    lap("open weights + build model")
    let labels = try ModelZoo.imagenetLabels()
    lap("labels")
    let prep = backbone.preprocessing
    let image = try ImageDecoder().decode(contentsOf: URL(fileURLWithPath: path))
    let x = try Tensor(shape: [1, prep.inputSize, prep.inputSize, 3], values: prep.apply(image))
    lap("decode + preprocess")
    let probs = try withNoGrad { try backbone.forward(x, upTo: nil, training: false).softmax().values }
    lap("first forward (primitives, weight folding and reorders)")
    _ = try withNoGrad { try backbone.forward(x, upTo: nil, training: false) }
    lap("second forward (warm, not part of predict)")
    let best = probs.enumerated().sorted { $0.element > $1.element }.prefix(5)
    for (i, p) in best { print(String(format: "  %6.2f%%  %@", p * 100, i < labels.count ? labels[i] : "class \(i)")) }
    for (name, ms) in phases { print("phase\t\(name)\t\(String(format: "%.1f", ms)) ms") }
}

/// How far the timed inference path is from the taped one (every op separate) with direct convolutions,
/// and how much of that Winograd adds.
func agreement(_ name: String) throws {
    let (model, cut) = try makeModel(name)
    let size = model.preprocessing.inputSize
    var g = SeededGenerator(seed: 1)
    let x = Tensor.uniform([2, size, size, 3], low: -2, high: 2, generator: &g)
    let fast = try withNoGrad { try model.forward(x, upTo: cut, training: false) }.values
    Kernels.winogradEnabled = false
    let direct = try withNoGrad { try model.forward(x, upTo: cut, training: false) }.values
    let taped = try model.forward(x, upTo: cut, training: false).values
    Kernels.winogradEnabled = true
    let scale = taped.map(abs).max() ?? 0
    for (what, values) in [("inference path, Winograd", fast), ("inference path, direct", direct)] {
        let diff = zip(values, taped).map { abs($0 - $1) }.max() ?? .infinity
        print("agreement\t\(name)\t\(what) vs taped direct: max abs diff \(diff), output scale \(scale), relative \(diff / scale)")
    }
}

/// Each inverted-residual block on its own input, unfused (separate oneDNN convs) and fused; best of `repeats`.
func blockTimes(_ name: String) throws {
    let (model, _) = try makeModel(name)
    let size = model.preprocessing.inputSize
    var g = SeededGenerator(seed: 1)
    let x = Tensor.uniform([batch, size, size, 3], low: -2, high: 2, generator: &g)
    var blocks: [(label: String, inputCut: String, layer: any UnaryLayer)] = []
    if let lite = model as? EfficientNetLite {
        blocks = lite.blocks.items.enumerated().map { ("block\($0.offset)", $0.offset == 0 ? "stem" : "block\($0.offset - 1)", $0.element) }
    } else if let mobile = model as? MobileNetV2 {
        blocks = mobile.features.enumerated().compactMap { i, layer in
            layer is InvertedResidual ? ("features.\(i)", "features.\(i - 1)", layer) : nil
        }
    }
    func best(_ body: () throws -> Void) rethrows -> Double {
        try body()
        var times: [Double] = []
        for _ in 0..<max(repeats, 1) {
            let start = DispatchTime.now().uptimeNanoseconds
            try body()
            times.append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e6)
        }
        return times.min() ?? 0
    }
    let bf16 = Precision.bf16.isSupported
    // The bf16 check runs on 2 images: the portable loops it compares against are slow.
    let pair = Tensor.uniform([2, size, size, 3], low: -2, high: 2, generator: &g)
    var totals = (0.0, 0.0, 0.0, 0.0)
    let int8 = Precision.int8.isSupported
    for (label, cut, layer) in blocks {
        let h = try withNoGrad { try model.forward(x, upTo: cut, training: false) }
        let h2 = try withNoGrad { try model.forward(pair, upTo: cut, training: false) }
        func time(_ side: Int) throws -> Double {
            try FusedInvertedResidual.$minimumSide.withValue(side) { try best { _ = try withNoGrad { try layer.forward(h, training: false) } } }
        }
        func fused(_ precision: Precision) throws -> [Float] {
            try FusedInvertedResidual.$minimumSide.withValue(1) { try withPrecision(precision) { try withNoGrad { try layer.forward(h2, training: false).values } } }
        }
        let unfused = try time(.max), fusedTime = try time(1)
        totals.0 += unfused; totals.1 += fusedTime
        var line = "block\t\(label)\t\(h.shape.dropFirst().map(String.init).joined(separator: "x"))\tunfused \(String(format: "%.2f", unfused)) ms\tfused \(String(format: "%.2f", fusedTime)) ms\t\(String(format: "%.2f", unfused / fusedTime))x"
        if bf16 {
            // The kernel's GEMMs on AMX tiles or AVX512-BF16 dot products, else fp32 (FusedInvertedResidual.bf16Kernel).
            let kernel = FusedInvertedResidual.bf16Kernel ? Kernels.invertedResidualBF16ISA ?? "fp32" : "fp32"
            let bf16Time = try withPrecision(.bf16) { try time(1) }
            totals.2 += bf16Time
            let reference = try fused(.fp32), best = try fused(.bf16)
            let scale = max(reference.map(abs).max() ?? 0, 1e-30)
            func diff(_ a: [Float], _ b: [Float]) -> Float { zip(a, b).map { abs($0 - $1) }.max() ?? .infinity }
            line += "\tfused bf16 \(String(format: "%.2f", bf16Time)) ms (\(kernel) GEMMs)\t\(String(format: "%.2f", fusedTime / bf16Time))x fp32"
                + String(format: "\tbf16 vs fp32 %.2e of the output scale", diff(best, reference) / scale)
            if kernel != "fp32" {
                // The same block with its GEMMs in fp32 (what bf16 ran before the kernel had bf16 tiles), and a check.
                let fp32Gemms = try FusedInvertedResidual.$bf16Kernel.withValue(false) { try withPrecision(.bf16) { try time(1) } }
                Kernels.invertedResidualCapISA(.portable)
                let portable = try fused(.bf16)
                Kernels.invertedResidualCapISA(.best)
                line += String(format: "\tfp32 GEMMs %.2f ms\t%@ vs portable %.2e", fp32Gemms, kernel, diff(best, portable) / scale)
            }
        }
        if int8 {
            // The block calibrated on its own input, then as the int8 chain of its convolutions (the network's default
            // at int8), fp32 in and out here (in a network blocks hand each other s8 codes).
            try withNoGrad { try Calibration.recording { _ = try layer.forward(h, training: false) } }
            let int8Time = try withPrecision(.int8) { try best { _ = try withNoGrad { try layer.forward(h, training: false) } } }
            totals.3 += int8Time
            line += "\tint8 chain \(String(format: "%.2f", int8Time)) ms\t\(String(format: "%.2f", fusedTime / int8Time))x fused fp32"
        }
        print(line)
    }
    print("blocks\ttotal\tunfused \(String(format: "%.1f", totals.0)) ms\tfused \(String(format: "%.1f", totals.1)) ms"
          + (bf16 ? "\tfused bf16 \(String(format: "%.1f", totals.2)) ms" : "") + (int8 ? "\tint8 chains \(String(format: "%.1f", totals.3)) ms" : ""))
}

/// bf16 against fp32 on one random batch (seeded), at the model's output.
func precisionAgreement(_ name: String) throws {
    let (model, cut) = try makeModel(name)
    let size = model.preprocessing.inputSize
    var g = SeededGenerator(seed: 1)
    let x = Tensor.uniform([batch, size, size, 3], low: -2, high: 2, generator: &g)
    let fp32 = try withNoGrad { try model.forward(x, upTo: cut, training: false) }
    let bf16 = try withPrecision(.bf16) { try withNoGrad { try model.forward(x, upTo: cut, training: false) } }
    let scale = fp32.values.map(abs).max() ?? 1
    let diff = zip(fp32.values, bf16.values).map { abs($0 - $1) }.max() ?? .infinity
    var line = "precision\t\(name)\tbf16 vs fp32: max abs diff \(diff), relative to the output scale \(diff / scale)"
    if fp32.rank == 2 {
        let (p32, p16) = (try fp32.softmax().values, try bf16.softmax().values)
        let k = fp32.shape[1]
        var same = 0
        for r in 0..<fp32.shape[0] {
            let row = (r * k)..<((r + 1) * k)
            if row.max(by: { p32[$0] < p32[$1] }) == row.max(by: { p16[$0] < p16[$1] }) { same += 1 }
        }
        line += ", top-1 \(same)/\(fp32.shape[0]), max probability change \(zip(p32, p16).map { abs($0 - $1) }.max() ?? 0)"
    }
    print(line)
}

/// int8 against fp32 (and bf16 where the CPU has it) of a pretrained zoo model on real images: calibrated like
/// `graft quantize` (min/max) on BENCH_CALIBRATION (300) Fashion-MNIST training images spread over the set, then
/// BENCH_AGREEMENT (500) Fashion-MNIST test images, each as the model's preprocessing makes it: share of identical
/// ImageNet top-1 and the largest change of any class probability.
func int8Agreement(_ name: String) throws {
    let model = try ImageModels.pretrained(name)
    let prep = model.preprocessing
    let calibrationCount = Int(env["BENCH_CALIBRATION"] ?? "") ?? 300, testCount = Int(env["BENCH_AGREEMENT"] ?? "") ?? 500
    func batches(_ split: BuiltinDatasets.Split, _ n: Int, _ body: (Tensor) throws -> Void) throws {
        let data = try BuiltinDatasets.fashionMNIST(split)
        let loader = BatchLoader(dataset: data, indices: (0..<n).map { $0 * data.count / n }, preprocessing: prep,
                                 options: .init(batchSize: batch))
        while let b = try loader.next() {
            try body(try Tensor(shape: [b.count, b.height, b.width, 3], values: b.pixels))
        }
    }
    try batches(.train, calibrationCount) { x in
        try Calibration.recording { try withNoGrad { _ = try model.forward(x, upTo: nil, training: false) } }
    }
    // The quantized file with s8 weights (what `graft quantize` writes), loaded back: its int8 and its fp32 runs.
    let file = FileManager.default.temporaryDirectory.appendingPathComponent("graft-bench-\(name)-\(getpid()).int8.safetensors")
    defer { try? FileManager.default.removeItem(at: file) }
    try Int8Quantization.write(model, architecture: name, weights: .s8, to: file)
    let loaded = try ImageModels.pretrained(name, weights: file, architecture: name)
    var runs: [(label: String, model: any ImageBackbone, precision: Precision)] = [
        ("int8", model, .int8), ("int8 from the s8 file", loaded, .int8), ("fp32 from the s8 file", loaded, .fp32)]
    if Precision.bf16.isSupported { runs.append(("bf16", model, .bf16)) }
    var same = [Int](repeating: 0, count: runs.count), change = [Float](repeating: 0, count: runs.count), total = 0
    // A continuous measure beside the top-1 counts: each image's penultimate features' L2 error relative to fp32's.
    var featureError = [Double](repeating: 0, count: runs.count)
    // One forward per run: the penultimate features, then the classifier on them (what `forward(upTo: nil)` runs).
    func featuresAndProbabilities(_ m: any ImageBackbone, _ precision: Precision, _ x: Tensor) throws -> (features: [Float], probabilities: Tensor) {
        try withPrecision(precision) {
            try withNoGrad {
                let f = try m.forward(x, upTo: "penultimate", training: false)
                return (f.values, try m.classifier.forward(f, training: false).softmax())
            }
        }
    }
    try batches(.test, testCount) { x in
        let (f32, p32) = try featuresAndProbabilities(model, .fp32, x)
        let k = p32.shape[1], width = f32.count / p32.shape[0]
        for (j, run) in runs.enumerated() {
            let (f, p) = try featuresAndProbabilities(run.model, run.precision, x)
            for r in 0..<p32.shape[0] {
                let row = (r * k)..<((r + 1) * k)
                let (a, b) = (p32.values, p.values)
                if row.max(by: { a[$0] < a[$1] }) == row.max(by: { b[$0] < b[$1] }) { same[j] += 1 }
                for i in row { change[j] = max(change[j], abs(a[i] - b[i])) }
                var d = 0.0, n = 0.0
                for i in (r * width)..<((r + 1) * width) { d += Double((f[i] - f32[i]) * (f[i] - f32[i])); n += Double(f32[i] * f32[i]) }
                featureError[j] += (d / n).squareRoot()
            }
        }
        total += p32.shape[0]
    }
    let bytes = (try FileManager.default.attributesOfItem(atPath: file.path)[.size] as? NSNumber)?.intValue ?? 0
    print("file\t\(name)\ts8 weights \(bytes) bytes")
    for (j, run) in runs.enumerated() {
        print("agreement\t\(name)\t\(run.label) vs fp32 on \(total) Fashion-MNIST test images (calibrated on \(calibrationCount) training images, "
              + "minmax): top-1 identical \(same[j])/\(total), max probability change \(change[j]), "
              + "mean relative feature error \(String(format: "%.4f", featureError[j] / Double(total)))")
    }
}

/// int8 inverted-residual blocks handing codes to each other against fp32 between blocks (`FusedInvertedResidual.
/// keepsCodesBetweenBlocks`), in one process, alternating forward by forward (BENCH_ROUNDS, 15) so the machine's drift
/// hits both alike: best and median seconds of each, and the outputs' largest difference relative to their scale.
func int8CodesComparison(_ name: String) throws {
    let (model, cut) = try makeModel(name)
    let size = model.preprocessing.inputSize
    var g = SeededGenerator(seed: 1)
    let x = Tensor.uniform([batch, size, size, 3], low: -2, high: 2, generator: &g)
    try Calibration.recording { try withNoGrad { _ = try model.forward(x, upTo: cut, training: false) } }
    var outputs: [Bool: Tensor] = [:]
    let times = try alternatingTimes([true, false]) { codes in
        try FusedInvertedResidual.$keepsCodesBetweenBlocks.withValue(codes) {
            outputs[codes] = try withPrecision(.int8) { try withNoGrad { try model.forward(x, upTo: cut, training: false) } }
        }
    }
    let scale = outputs[false]!.values.map(abs).max() ?? 1
    let diff = zip(outputs[true]!.values, outputs[false]!.values).map { abs($0 - $1) }.max() ?? 0
    print("codes\t\(name)\tcodes between blocks: \(rates(times[0])); fp32 between blocks: \(rates(times[1])); "
          + String(format: "median ratio %.3fx; max output difference %.2e of the output scale", median(times[1]) / median(times[0]), diff / scale))
}

/// fp32 forward with blocks fused from each input side of BENCH_SIDES ("policy 28 1000": the size policy, fused from
/// 28x28, none fused), alternating forward by forward in one process: best and median img/s of each, median ratio to
/// the first.
func fusionSideComparison(_ name: String) throws {
    let (model, cut) = try makeModel(name)
    let size = model.preprocessing.inputSize
    var g = SeededGenerator(seed: 1)
    let x = Tensor.uniform([batch, size, size, 3], low: -2, high: 2, generator: &g)
    let sides = (env["BENCH_SIDES"] ?? "policy 28 1000").split(separator: " ").map { Int($0) }   // nil: the policy
    let times = try alternatingTimes(sides) { side in
        try FusedInvertedResidual.$minimumSide.withValue(side) { _ = try withNoGrad { try model.forward(x, upTo: cut, training: false) } }
    }
    for (i, side) in sides.enumerated() {
        print("sides\t\(name)\t\(side.map { "fused from \($0)x\($0)" } ?? "size policy")\t\(rates(times[i])), "
              + String(format: "median time %.3fx the first", median(times[i]) / median(times[0])))
    }
}

/// Seconds of `body` for each of `settings`, run once each (plans and weights), then alternately BENCH_ROUNDS (15) times
/// in one process, so the machine's drift hits every setting alike.
func alternatingTimes<S>(_ settings: [S], _ body: (S) throws -> Void) throws -> [[Double]] {
    for s in settings { try body(s) }
    var times = [[Double]](repeating: [], count: settings.count)
    for _ in 0..<(Int(env["BENCH_ROUNDS"] ?? "") ?? 15) {
        for (i, s) in settings.enumerated() {
            let start = DispatchTime.now().uptimeNanoseconds
            try body(s)
            times[i].append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
        }
    }
    return times
}

func median(_ t: [Double]) -> Double { t.sorted()[t.count / 2] }

/// Best and median img/s of a batch's timings.
func rates(_ t: [Double]) -> String {
    String(format: "best %.1f img/s, median %.1f img/s", Double(batch) / t.min()!, Double(batch) / median(t))
}

/// The single-model modes of the usage above: an optional header line, then the mode's output.
let modes: [String: (header: String?, run: (String) throws -> Void)] = [
    "--cold": (nil, coldPredict),
    "--fusion-sides": ("# Graft fp32 fused-block sides, threads \(Runtime.threads), batch \(batch), fused kernel \(Kernels.invertedResidualISA)", fusionSideComparison),
    "--agreement": (nil, agreement),
    "--precision-agreement": (nil, precisionAgreement),
    "--int8-agreement": ("# Graft int8 agreement, oneDNN isa \(Runtime.isa), threads \(Runtime.threads), batch \(batch)", int8Agreement),
    "--blocks": ("# Graft blocks, threads \(Runtime.threads), batch \(batch), best of \(repeats), fused kernel \(Kernels.invertedResidualISA)", blockTimes),
    "--int8-codes": ("# Graft int8 codes between blocks, oneDNN isa \(Runtime.isa), threads \(Runtime.threads), batch \(batch)", int8CodesComparison),
    "--breakdown": ("# Graft breakdown, threads \(Runtime.threads), batch \(batch), repeats \(repeats)", breakdown),
]
if CommandLine.arguments.count == 3, let mode = modes[CommandLine.arguments[1]] {
    if let header = mode.header { print(header) }
    do { try mode.run(CommandLine.arguments[2]) } catch {
        FileHandle.standardError.write(Data("graft-bench-vision: \(error)\n".utf8))
        exit(1)
    }
    exit(0)
}

let names = CommandLine.arguments.count > 1 ? Array(CommandLine.arguments.dropFirst())
    : ["efficientnet-lite0", "resnet50", "mobilenet_v2", "vgg16-features"]
print("# Graft, oneDNN \(Runtime.oneDNNVersion), isa \(Runtime.isa), threads \(Runtime.threads), batch \(batch), repeats \(repeats), precision \(precision)")
do {
    for name in names {
        let (model, cut) = try makeModel(name)
        let size = model.preprocessing.inputSize
        var g = SeededGenerator(seed: 1)
        let x = Tensor.uniform([batch, size, size, 3], low: -2, high: 2, generator: &g)
        var shape: [Int] = []
        if precision == .int8 {   // post-training calibration on the timed batch (graft quantize's step, docs/PRECISION.md)
            try Calibration.recording { try withNoGrad { _ = try model.forward(x, upTo: cut, training: false) } }
        }
        let seconds = try withVariantChoices {
            try median(repeats: repeats) {
                try withPrecision(precision) { try withNoGrad { shape = try model.forward(x, upTo: cut, training: false).shape } }
            }
        }
        print("row\t\(name)\(precision == .fp32 ? "" : " \(precisionLabel)")\t\(String(format: "%.1f", Double(batch) / seconds))\t\(size)x\(size) -> \(shape)")
    }
} catch {
    FileHandle.standardError.write(Data("graft-bench-vision: \(error)\n".utf8))
    exit(1)
}
