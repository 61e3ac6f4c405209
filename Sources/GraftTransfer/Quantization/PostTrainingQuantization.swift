import Foundation
import GraftData
import GraftModels
import GraftNN
import GraftTensor
import GraftWeights

/// Post-training static quantization of an image backbone (`graft quantize`, docs/PRECISION.md): a few hundred of
/// the user's items run through the network in fp32 while every convolution records its input range (min/max),
/// and the network is written with those ranges as a quantized model file. That file loads like any weights file
/// (`BackboneSpec.custom(weights:architecture:)`) and computes its convolutions in int8 under `--precision int8`.
public struct PostTrainingQuantization {
    /// Calibration items, spread evenly over the data set (every `count / items`-th item), so the classes of a
    /// sorted data set are all seen.
    public var items: Int
    public var batchSize: Int
    public var strict: Bool
    /// How the weights of the calibrated convolutions and linear layers are stored (s8: a quarter of the bytes).
    public var weights: Int8WeightStorage
    public var progress: ProgressHandler?

    public init(items: Int = 300, batchSize: Int = 32, strict: Bool = false, weights: Int8WeightStorage = .s8,
                progress: ProgressHandler? = nil) {
        self.items = items; self.batchSize = batchSize; self.strict = strict; self.weights = weights; self.progress = progress
    }

    public struct Summary: Codable, Sendable, Equatable {
        public var model: String
        public var architecture: String
        public var out: String
        /// Items that calibrated (unreadable ones are skipped unless `strict`).
        public var items: Int
        public var calibratedConvolutions: Int
        public var convolutions: Int
        /// How activation ranges were taken: "minmax".
        public var calibration: String
        /// How the weights of the calibrated convolutions and linear layers are stored: "s8" or "fp32".
        public var weights: String
        /// Bytes of the weights file written.
        public var bytes: Int
        public var failures: [String]
        /// The command that runs the quantized model in int8.
        public var usage: String
    }

    /// Calibrates `spec`'s network on `dataset` and writes the quantized model to `url` (atomically).
    public func run(spec: BackboneSpec, dataset: any Dataset, to url: URL) throws -> Summary {
        guard spec.input == .image else { throw Int8Quantization.textNeedsNoCalibration(spec.model) }
        guard dataset.kind == .image else {
            throw TransferError.unsupported("\(spec.model) reads images but the calibration data holds \(dataset.kind.rawValue)s")
        }
        let backbone = try Backbones.load(spec)
        if let onnx = backbone as? OnnxBackbone { return try run(onnx, dataset: dataset, to: url) }
        let cnn: Module, usage: String, forward: (Tensor) throws -> Void
        switch backbone {
        case let backbone as CNNBackbone:
            cnn = backbone.cnn
            forward = { [network = backbone.cnn] x in _ = try network.forward(x, upTo: nil, training: false) }
            usage = "graft predict --model \(url.path) --arch \(spec.architecture) --precision int8"
        case let yolo as YoloBackbone:
            // Calibrated on images stretched to the square input (the detector's training preprocessing); `graft detect`
            // letterboxes instead, which changes the aspect of objects, not the range of pixels or activations.
            cnn = yolo.darknet
            forward = { [network = yolo.darknet] x in _ = try network.forward(x, training: false) }   // every head
            usage = "graft detect --model \(url.path) --precision int8"
        default:
            throw TransferError.unsupported("int8 quantization covers image convolution networks and detectors; \(spec.description) is neither")
        }
        guard let preprocessing = backbone.preprocessing else { throw TransferError.unsupported("\(spec.description) has no image preprocessing") }
        Int8Quantization.clearCalibration(of: cnn)   // a quantized model given as input is calibrated afresh
        let (seen, failures) = try calibrate(on: dataset, preprocessing: preprocessing, name: spec.model) { x, _ in try forward(x) }
        try Int8Quantization.write(cnn, architecture: spec.architecture, weights: weights, to: url)
        return try Summary(model: spec.weights ?? spec.model, architecture: spec.architecture, out: url.path, items: seen,
                           calibratedConvolutions: Int8Quantization.ranges(of: cnn).count,
                           convolutions: Int8Quantization.convolutionCount(of: cnn), calibration: Int8Quantization.calibrationMethod,
                           weights: weights.rawValue, bytes: Self.size(of: url), failures: failures, usage: usage)
    }

    /// Calibrates the trained network of a fine-tuned or from-scratch image bundle (any task: classification,
    /// multi-label, regression, detection) on `dataset` and writes a copy of the bundle to `out` (atomically) whose
    /// `model.safetensors` carries the ranges; it runs int8 under `--precision int8` (`TrainedModel(bundle:precision:)`).
    public func run(bundle: URL, dataset: any Dataset, to out: URL) throws -> Summary {
        let model = try TrainedModel(bundle: bundle, precision: .fp32)
        let manifest = model.manifest
        guard manifest.input == .image else { throw Int8Quantization.textNeedsNoCalibration(bundle.path) }
        guard case let .network(network) = model.scorer, let preprocessing = model.preprocessing else {
            throw TransferError.unsupported("\(bundle.path) is a feature bundle: quantize its backbone (`graft quantize --model ...`), "
                + "extract int8 features with it and fit the head on them")
        }
        guard dataset.kind == .image else {
            throw TransferError.unsupported("\(bundle.path) reads images but the calibration data holds \(dataset.kind.rawValue)s")
        }
        let module = network.module
        Int8Quantization.clearCalibration(of: module)
        let (seen, failures) = try calibrate(on: dataset, preprocessing: preprocessing, name: bundle.path) { _, batch in
            _ = try network.outputs(batch, training: false)
        }
        let architecture = manifest.backbone.architecture
        try BundleStore.writeAtomically(out) { tmp in
            for name in try FileManager.default.contentsOfDirectory(atPath: bundle.path) where name != "model.safetensors" {
                try FileManager.default.copyItem(at: bundle.appendingPathComponent(name), to: tmp.appendingPathComponent(name))
            }
            try Int8Quantization.write(module, architecture: architecture, weights: weights, to: tmp.appendingPathComponent("model.safetensors"))
        }
        let command = manifest.task == .detection ? "graft detect --bundle" : "graft predict --bundle"
        return try Summary(model: bundle.path, architecture: architecture, out: out.path, items: seen,
                           calibratedConvolutions: Int8Quantization.ranges(of: module).count,
                           convolutions: Int8Quantization.convolutionCount(of: module), calibration: Int8Quantization.calibrationMethod,
                           weights: weights.rawValue, bytes: Self.size(of: out.appendingPathComponent("model.safetensors")),
                           failures: failures, usage: "\(command) \(out.path) --precision int8")
    }

    private static func size(of url: URL) throws -> Int {
        (try FileManager.default.attributesOfItem(atPath: url.path)[.size] as? NSNumber)?.intValue ?? 0
    }

    /// An imported ONNX graph: calibrated through the executor of its output (every convolution the graph's output
    /// needs) and written as the same ONNX file with the ranges in its metadata (`OnnxInt8Quantization`), the
    /// convolution weights as s8 codes turned back into fp32 by standard operators (or as they were, `weights` fp32).
    private func run(_ onnx: OnnxBackbone, dataset: any Dataset, to url: URL) throws -> Summary {
        let spec = onnx.spec, source = URL(fileURLWithPath: onnx.graph.file)
        guard url.pathExtension == "onnx" else {
            throw TransferError.unsupported("\(source.path) is an ONNX graph: its quantized copy is an ONNX file too (--out FILE.onnx)")
        }
        let model = try OnnxModel(graph: onnx.graph, outputs: [onnx.headCut])   // its own executor: nothing shared with extraction
        guard model.convolutionCount > 0 else {
            throw TransferError.unsupported("\(source.path) has no convolution with constant weights to quantize")
        }
        model.clearCalibration()   // a quantized graph given as input is calibrated afresh
        let input = onnx.graph.inputs[0].name, output = onnx.headCut
        let (seen, failures) = try calibrate(on: dataset, preprocessing: onnx.prep, name: spec.model) { x, _ in
            // A graph exported with a fixed batch size runs in chunks of it (the last padded with zero images, which
            // calibrate too: a mid-grey image after normalization, inside the ranges of real ones in practice).
            _ = try x.inChunks(of: onnx.fixedBatch ?? x.shape[0]) { chunk in
                guard let y = try model.runChannelsLast([input: chunk])[output] else { throw TransferError.unsupported("\(output) produced no value") }
                return y
            }
        }
        let ranges = model.int8Ranges
        try OnnxInt8Quantization.write(source, ranges: ranges, weights: weights, to: url)
        return try Summary(model: source.path, architecture: "onnx", out: url.path, items: seen, calibratedConvolutions: ranges.count,
                           convolutions: model.convolutionCount, calibration: Int8Quantization.calibrationMethod,
                           weights: weights.rawValue, bytes: Self.size(of: url), failures: failures,
                           usage: "graft extract --model \(url.path) --preprocess \(spec.preprocess ?? "RECIPE") --precision int8 --data DATA --out DIR")
    }

    /// Runs up to `items` of `dataset` (spread evenly) through `forward` in fp32 while every convolution it reaches
    /// records its input range (the caller clears earlier ranges first); returns the items seen and the unreadable ones.
    private func calibrate(on dataset: any Dataset, preprocessing: Preprocessing, name: String,
                           forward: (Tensor, Batch) throws -> Void) throws -> (seen: Int, failures: [String]) {
        guard items >= 1 else { throw TransferError.unsupported("calibration needs at least one item (items \(items))") }
        let n = min(items, dataset.count)
        guard n > 0 else { throw TransferError.emptyData("no items to calibrate \(name) on") }
        let indices = (0..<n).map { $0 * dataset.count / n }
        let loader = BatchLoader(dataset: dataset, indices: indices, preprocessing: preprocessing,
                                 options: .init(batchSize: batchSize, strict: strict))
        let meter = ProgressMeter(phase: .extracting, total: n)
        var seen = 0, done = 0, failures: [String] = []
        while let batch = try loader.next() {
            failures += batch.failures.map(\.description)
            if batch.count > 0 {
                let x = try Tensor(shape: [batch.count, batch.height, batch.width, 3], values: batch.pixels)
                try Calibration.recording { try withPrecision(.fp32) { try withNoGrad { try forward(x, batch) } } }
                seen += batch.count
            }
            done = min(done + batchSize, n)
            progress?(meter.event(completed: done))
        }
        guard seen > 0 else { throw TransferError.emptyData("none of the \(n) calibration items could be read") }
        return (seen, failures)
    }

}
