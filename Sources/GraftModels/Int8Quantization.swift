import Foundation
import GraftNN
import GraftTensor
import GraftWeights

/// Post-training static quantization of an image network (docs/PRECISION.md): calibration records the input range
/// of every convolution, and a quantized model is the network's own state dict in a safetensors file with those
/// ranges in its metadata, so it loads like any weights file (`--model FILE --arch ARCH`) and runs int8 where asked.
/// The weights of the calibrated convolutions and linear layers are stored as s8 codes with a scale per output channel
/// (`Int8WeightStorage.s8`, the default: a quarter of the bytes) or as they were (`.fp32`); loading turns codes back
/// into fp32 weights, from which a layer derives its per-channel s8 scales when it first runs, as for any network.
public enum Int8Quantization {
    /// Metadata keys of a quantized model file.
    public static let formatKey = "graft.quantization", rangesKey = "graft.int8.input_ranges", architectureKey = "graft.architecture"
    /// Metadata key saying how the weights are stored (`Int8WeightStorage`; absent: fp32).
    public static let weightsKey = "graft.int8.weights"
    /// How activation ranges are calibrated (docs/PRECISION.md).
    public static let calibrationMethod = "minmax"

    /// The calibrated convolutions of `model` by dotted path, with their input range.
    public static func ranges(of model: Module) -> [String: (min: Float, max: Float)] {
        var out: [String: (min: Float, max: Float)] = [:]
        for (path, m) in model.namedModules() {
            if let conv = m as? Conv2d, let r = conv.calibration.range { out[path] = r }
        }
        return out
    }

    /// Every convolution of `model`.
    public static func convolutionCount(of model: Module) -> Int {
        model.namedModules().filter { $0.1 is Conv2d }.count
    }

    /// True when calibration (or a quantized file) gave at least one convolution an input range.
    public static func isCalibrated(_ model: Module) -> Bool {
        model.namedModules().contains { ($0.1 as? Conv2d)?.calibration.range != nil }
    }

    /// Throws `KernelError.unsupportedPrecision` unless `model` is calibrated (what `--precision int8` needs).
    public static func requireCalibration(_ model: Module, name: String, architecture: String) throws {
        guard isCalibrated(model) else {
            throw KernelError.unsupportedPrecision(precision: .int8, reason: "\(name) has no int8 calibration: make a quantized copy with "
                + "`graft quantize --model \(name) --data DATA --out FILE` and run that (--model FILE --arch \(architecture))")
        }
    }

    /// Why `graft quantize` has nothing to do for a text model: its int8 linears quantize their inputs dynamically
    /// (docs/PRECISION.md, "int8 linears"), so `--precision int8` runs it as it is.
    public static func textNeedsNoCalibration(_ name: String) -> ModelError {
        .invalidConfig("\(name) is a text model: its int8 linears quantize their inputs per batch and need no calibration; "
            + "run it with --precision int8 as it is")
    }

    /// Forgets every range (a new calibration starts from nothing).
    public static func clearCalibration(of model: Module) {
        for case let (_, conv as Conv2d) in model.namedModules() { conv.calibration.range = nil }
    }

    /// The model's state dict plus the ranges, as safetensors (atomic write), the weights of the calibrated
    /// convolutions and linear layers stored as `weights` says.
    public static func write(_ model: Module, architecture: String, weights: Int8WeightStorage = .s8, to url: URL) throws {
        var metadata = try metadata(of: model, architecture: architecture)
        metadata[weightsKey] = weights.rawValue
        try WeightFile(tensors: storedTensors(of: model, weights: weights)).writeSafetensors(to: url, metadata: metadata)
    }

    /// The metadata that makes a weights file of `model` a quantized one (its ranges); a model without a calibrated
    /// convolution is an error.
    public static func metadata(of model: Module, architecture: String) throws -> [String: String] {
        let ranges = ranges(of: model)
        guard !ranges.isEmpty else { throw ModelError.invalidConfig("\(architecture) has no calibrated convolution to write") }
        return [formatKey: "int8", architectureKey: architecture, rangesKey: try rangesJSON(ranges), calibrationKey: calibrationMethod]
    }

    /// Metadata key naming the calibration method.
    public static let calibrationKey = "graft.int8.calibration"

    /// Ranges by convolution as the JSON object of `rangesKey`: `{"name": [min, max]}`, keys sorted.
    public static func rangesJSON(_ ranges: [String: (min: Float, max: Float)]) throws -> String {
        let json = try JSONSerialization.data(withJSONObject: ranges.mapValues { [Double($0.min), Double($0.max)] }, options: [.sortedKeys])
        return String(decoding: json, as: UTF8.self)
    }

    /// The ranges a quantized file's metadata records (`rangesJSON`'s object); anything else, or a range that is not
    /// two finite ordered numbers, is a typed error naming `source` and the key.
    public static func parseRanges(_ metadata: [String: String], source: String) throws -> [String: (min: Float, max: Float)] {
        guard let text = metadata[rangesKey],
              let object = try? JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any] else {
            throw ModelError.invalidConfig("\(source): metadata \(rangesKey) is missing or not a JSON object")
        }
        var ranges: [String: (min: Float, max: Float)] = [:]
        for (name, value) in object {
            guard let pair = value as? [NSNumber], pair.count == 2, pair.allSatisfy({ $0.doubleValue.isFinite }),
                  pair[0].doubleValue <= pair[1].doubleValue else {
                throw ModelError.invalidConfig("\(source): \(rangesKey)['\(name)'] is not [min, max]")
            }
            ranges[name] = (pair[0].floatValue, pair[1].floatValue)
        }
        return ranges
    }

    /// Applies the ranges a quantized file records to `model` (nothing for an ordinary weights file). A path that
    /// names no convolution, or a range that is not two finite numbers, is a typed error naming the file and key.
    public static func applyRanges(from file: WeightFile, to model: Module) throws {
        guard file.metadata[formatKey] == "int8" else { return }
        let convs = Dictionary(model.namedModules().compactMap { p in (p.1 as? Conv2d).map { (p.0, $0) } }, uniquingKeysWith: { a, _ in a })
        for (path, range) in try parseRanges(file.metadata, source: file.source) {
            guard let conv = convs[path] else {
                throw ModelError.invalidConfig("\(file.source): \(rangesKey) names '\(path)', which is not a convolution of this network")
            }
            conv.calibration.range = range
        }
    }

    /// The architecture a quantized file was made from, nil for other files.
    public static func architecture(of url: URL) -> String? {
        guard let file = try? WeightFile.open(url), file.metadata[formatKey] == "int8" else { return nil }
        return file.metadata[architectureKey]
    }
}
