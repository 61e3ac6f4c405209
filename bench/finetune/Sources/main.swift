// Fine-tuning step time and peak memory (issue 7). One configuration per process, so
// the peak resident set (getrusage ru_maxrss) belongs to that configuration alone.
//
// A step is exactly `Trainer.trainStep` (what `graft finetune` runs per batch): forward in
// training mode, label-smoothed cross-entropy, backward, gradient-norm clip, SGD with
// momentum over the trainer's parameter groups. The network is `CNNTaskNetwork`
// (a new 10-way head) frozen with `freezeAllButLast(K)`, or fully trainable for "all"
// (batch norm then uses batch statistics, as `graft finetune --unfreeze all`).
// Random weights and a fixed random batch: step time does not depend on the values.
//
// An imported ONNX graph (issue 23): MODEL `onnx:FILE`, UNFREEZE the first trainable node (`--unfreeze-from`); the
// network is `OnnxTaskNetwork` (frozen prefix in the fused executor, the rest on the tape, a new 10-way head).
//
// Usage: graft-bench-finetune MODEL UNFREEZE   (MODEL: efficientnet-lite0 | resnet18 | onnx:FILE; UNFREEZE: K | all | NODE)
// Prints "row<TAB>MODEL<TAB>UNFREEZE<TAB>median step s<TAB>peak RSS MiB<TAB>trainable params".
// Env: BENCH_BATCH (32), BENCH_STEPS (timed steps, 5), BENCH_WARMUP (2), GRAFT_THREADS.
import Foundation
import GraftData
import GraftKernels
import GraftModels
import GraftTensor
import GraftTransfer

let env = ProcessInfo.processInfo.environment
let batchSize = Int(env["BENCH_BATCH"] ?? "") ?? 32
let steps = Int(env["BENCH_STEPS"] ?? "") ?? 5
let warmup = Int(env["BENCH_WARMUP"] ?? "") ?? 2
let classes = 10

func fail(_ message: String) -> Never {
    FileHandle.standardError.write(Data("graft-bench-finetune: \(message)\n".utf8))
    exit(1)
}

/// Peak resident set of this process so far, in MiB (Linux reports KiB).
func peakRSSMiB() -> Double {
    var usage = rusage()
    getrusage(RUSAGE_SELF.rawValue, &usage)
    return Double(usage.ru_maxrss) / 1024
}

let args = CommandLine.arguments
guard args.count == 3 else { fail("usage: graft-bench-finetune MODEL UNFREEZE (K or all)") }
let (name, unfreeze) = (args[1], args[2])
let onnxFile = name.hasPrefix("onnx:") ? String(name.dropFirst(5)) : nil
let k: Int? = unfreeze == "all" ? nil : Int(unfreeze)
if onnxFile == nil && unfreeze != "all" && (k ?? -1) < 0 { fail("UNFREEZE must be a count or 'all', got '\(unfreeze)'") }

do {
    let network: any TaskNetwork
    let size: Int
    if let onnxFile {
        let spec = BackboneSpec.onnx(URL(fileURLWithPath: onnxFile), preprocess: "imagenet", unfreezeFrom: unfreeze)
        network = try Backbones.load(spec).network(outputs: classes, unfreeze: nil, seed: 1)
        size = 224
    } else {
        let backbone = try ImageModels.make(name, seed: 1)
        network = try CNNBackbone(backbone, spec: BackboneSpec(input: .image, model: name, architecture: name)).network(outputs: classes, unfreeze: nil, seed: 1)
        if let k { backbone.freezeAllButLast(k) }
        size = backbone.preprocessing.inputSize
    }
    let trainer = Trainer(network: network, options: TrainingOptions())
    let optimizer = trainer.makeOptimizer()
    var g = SeededGenerator(seed: 2)
    let pixels = Tensor.uniform([batchSize, size, size, 3], low: -1, high: 1, generator: &g).values
    let labels = (0..<batchSize).map { $0 % classes }
    let batch = Batch(number: 0, inputs: .images(pixels: pixels, height: size, width: size), labels: labels, ids: [], indices: [])
    optimizer.learningRate = 1e-3
    for _ in 0..<warmup { try trainer.trainStep(batch, optimizer: optimizer) }
    var times: [Double] = []
    for _ in 0..<steps {
        let start = DispatchTime.now().uptimeNanoseconds
        try trainer.trainStep(batch, optimizer: optimizer)
        times.append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
    }
    let median = times.sorted()[times.count / 2]
    let trainable = optimizer.groups.flatMap(\.parameters).reduce(0) { $0 + $1.count }
    print("# Graft, oneDNN \(Runtime.oneDNNVersion), isa \(Runtime.isa), threads \(Runtime.threads), batch \(batchSize), steps \(steps) after \(warmup) warm-up")
    let label = onnxFile.map { "onnx:" + URL(fileURLWithPath: $0).deletingPathExtension().lastPathComponent } ?? name
    print("row\t\(label)\t\(unfreeze)\t\(String(format: "%.3f", median))\t\(String(format: "%.0f", peakRSSMiB()))\t\(trainable)")
} catch {
    fail("\(error)")
}
