import Foundation
import GraftNN
import GraftTensor
import GraftWeights

/// Reads any weights file GraftWeights understands (safetensors, PyTorch
/// .pth legacy or zip, ONNX, .npz) into engine tensors by key.
public func loadTensors(_ url: URL) throws -> [String: Tensor] {
    try loadTensors(WeightFile.open(url))
}

/// The tensors of an opened weights file, by key (a quantized file's s8 weights as fp32, `Int8Quantization`).
public func loadTensors(_ file: WeightFile) throws -> [String: Tensor] {
    if file.metadata[Int8Quantization.weightsKey] == Int8WeightStorage.s8.rawValue {
        return try Int8Quantization.dequantizedTensors(file)
    }
    var out: [String: Tensor] = [:]
    for stored in file.tensors {
        out[stored.name] = try Tensor(stored)
    }
    return out
}

extension Tensor {
    /// A Float32 engine tensor from a stored one (other dtypes are converted).
    public convenience init(_ stored: StoredTensor) throws {
        try self.init(shape: stored.shape, values: stored.floats())
    }
}

extension Module {
    /// Loads a weights file by key: strict by default; `sanitize` renames a
    /// family's checkpoint keys to Graft's (one place per family).
    @discardableResult
    public func load(contentsOf url: URL, strict: Bool = true,
                     sanitize: ([String: Tensor]) -> [String: Tensor] = { $0 }) throws -> LoadReport {
        try load(sanitize(loadTensors(url)), strict: strict, source: url.path)
    }
}
