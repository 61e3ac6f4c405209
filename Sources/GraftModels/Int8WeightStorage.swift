import Foundation
import GraftNN
import GraftTensor
import GraftWeights

/// How a quantized file stores the weights of its calibrated convolutions and its linear layers (docs/PRECISION.md,
/// "The quantized file's weights").
public enum Int8WeightStorage: String, Sendable, Codable, CaseIterable {
    /// Symmetric s8 codes, one fp32 scale per output channel (max |w| / 127) in `<key>_scale`: a quarter of the
    /// bytes. Batch norm folds into a convolution by one factor per output channel, so where an int8 layer keeps 127
    /// levels (VNNI, AMX, or s8 inputs) the codes it derives from the loaded weights at run time are these codes (up
    /// to float rounding at exact ties); against u8 inputs on AVX2 (63 levels) it rounds them once more. An fp32 run
    /// of the file (and the linear layers, such as a classifier, which compute in fp32) uses the rounded weights.
    case s8
    /// The fp32 weights as they were: the file run in fp32 is the original network, bit for bit.
    case fp32
}

extension Int8Quantization {
    /// Suffix of the tensor holding an s8 weight's per-output-channel scales.
    public static let scaleSuffix = "_scale"

    /// `model`'s state dict as stored tensors, the weights of its calibrated convolutions and linear layers as
    /// `weights` says.
    public static func storedTensors(of model: Module, weights: Int8WeightStorage) throws -> [StoredTensor] {
        let coded: Set<String> = weights == .fp32 ? [] : Set(model.namedModules().compactMap { path, m in
            m is Linear || (m as? Conv2d)?.calibration.range != nil ? (path.isEmpty ? "weight" : "\(path).weight") : nil
        })
        var out: [StoredTensor] = []
        for (key, tensor) in model.stateDict() {
            guard coded.contains(key), let outChannels = tensor.shape.first, outChannels > 0 else {
                out.append(try StoredTensor(name: key, shape: tensor.shape, floats: tensor.values))
                continue
            }
            let (codes, scales) = s8Codes(tensor.values, outChannels: outChannels)
            out.append(try StoredTensor(name: key, dtype: .i8, shape: tensor.shape, bytes: TensorBytes(copyingValuesOf: codes)))
            out.append(try StoredTensor(name: key + scaleSuffix, shape: [outChannels], floats: scales))
        }
        return out
    }

    /// Per-output-channel symmetric codes of a weight stored output channel first: scale max |w| / 127 (1 for a
    /// channel of zeros), code round-half-even(w / scale), as oneDNN's reorders round.
    public static func s8Codes(_ values: [Float], outChannels: Int) -> (codes: [Int8], scales: [Float]) {
        let perOut = values.count / outChannels
        var codes = [Int8](repeating: 0, count: values.count), scales = [Float](repeating: 1, count: outChannels)
        for o in 0..<outChannels {
            let row = (o * perOut)..<((o + 1) * perOut)
            let largest = values[row].reduce(0) { max($0, abs($1)) }
            if largest > 0 { scales[o] = largest / 127 }
            for i in row { codes[i] = Int8((values[i] / scales[o]).rounded(.toNearestOrEven).clamped(-127, 127)) }
        }
        return (codes, scales)
    }

    /// The engine tensors of a file with s8 weights: each s8 tensor times its per-output-channel scales, the scales
    /// themselves dropped. An s8 tensor without scales, or scales that are not one positive finite number per
    /// output channel, is a typed error naming the file and the tensor.
    static func dequantizedTensors(_ file: WeightFile) throws -> [String: Tensor] {
        let scaleNames = Set(file.tensors.filter { $0.dtype == .i8 }.map { $0.name + scaleSuffix })
        var out: [String: Tensor] = [:]
        for stored in file.tensors where !scaleNames.contains(stored.name) {
            let tensor = try Tensor(stored)   // codes as floats
            if stored.dtype == .i8 { try scale(tensor, codes: stored, in: file) }
            out[stored.name] = tensor
        }
        return out
    }

    /// Multiplies `tensor` (the codes of `codes`) by their scales, in place.
    private static func scale(_ tensor: Tensor, codes: StoredTensor, in file: WeightFile) throws {
        let name = codes.name + scaleSuffix
        guard let scaleTensor = file[name] else {
            throw ModelError.invalidConfig("\(file.source): s8 weight '\(codes.name)' has no '\(name)'")
        }
        let scales = try scaleTensor.floats(), outChannels = codes.shape.first ?? 0
        guard outChannels > 0, scales.count == outChannels, codes.elementCount % outChannels == 0,
              scales.allSatisfy({ $0.isFinite && $0 > 0 }) else {
            throw ModelError.invalidConfig("\(file.source): '\(name)' must hold \(outChannels) positive finite scales "
                + "(one per output channel of '\(codes.name)'), it holds \(scales.count)")
        }
        let perOut = codes.elementCount / outChannels, values = tensor.pointer
        for o in 0..<outChannels { for i in (o * perOut)..<((o + 1) * perOut) { values[i] *= scales[o] } }
    }
}

private extension Float {
    func clamped(_ low: Float, _ high: Float) -> Float { Swift.min(Swift.max(self, low), high) }
}
