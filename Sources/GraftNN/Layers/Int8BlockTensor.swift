import GraftKernels
import GraftTensor

/// A block's input or output in int8 inference: fp32, or u8/s8 codes in `quantization` (docs/PRECISION.md "int8
/// blocks"), one byte per element of `shape` at the start of a float tensor's storage used as bytes (the storage keeps
/// them alive and counted like any tensor). ResNet blocks and inverted-residual blocks hand codes to the next block
/// when both run as int8 chains, so the tensor between them is written once, as bytes, and not quantized again.
public enum Int8BlockTensor {
    case fp32(Tensor)
    case codes(Tensor, shape: [Int], quantization: ActivationQuantization)

    public var shape: [Int] {
        switch self {
        case .fp32(let t): t.shape
        case .codes(_, let shape, _): shape
        }
    }

    /// The fp32 tensor (codes dequantized).
    public func fp32() throws -> Tensor {
        switch self {
        case .fp32(let t): return t
        case .codes(let storage, let shape, let q):
            let t = try Tensor(uninitializedShape: shape)
            try Kernels.dequantize(UnsafeRawPointer(storage.pointer), count: t.count, q, into: t.pointer)
            return t
        }
    }

    /// Room for `shape.reduce(1, *)` codes.
    public static func codesStorage(_ shape: [Int]) throws -> Tensor {
        try Tensor(uninitializedShape: [(shape.reduce(1, *) + 3) / 4])
    }

    /// `links` from `input` into new codes of `shape` in `next`, no residual: a chain handing its output on as codes.
    /// The caller keeps the links' weights and the input alive.
    public static func chained(_ links: [Kernels.Int8ChainLink], input: Kernels.Int8ChainInput, shape: [Int],
                               next: ActivationQuantization) throws -> Int8BlockTensor {
        let codes = try codesStorage(shape)
        try Kernels.conv2dInt8Chain(links, input: input, output: .quantized(UnsafeMutableRawPointer(codes.pointer), next), residual: .none)
        return .codes(codes, shape: shape, quantization: next)
    }

    /// A chain's input reading this tensor: fp32, or its codes when they are in `quantization` (nil otherwise: the
    /// caller dequantizes).
    public func chainInput(_ quantization: ActivationQuantization) -> Kernels.Int8ChainInput? {
        switch self {
        case .fp32(let t): return .fp32(t.pointer)
        case .codes(let storage, _, let q): return q == quantization ? .quantized(UnsafeRawPointer(storage.pointer), q) : nil
        }
    }

    /// `links` (a block whose output has this tensor's shape) with this tensor as their residual, summed in place in
    /// codes: the output is codes in `next`, written over this tensor's codes (its own buffer when `consuming`). nil when
    /// the sum cannot run on codes (`next` and the links' input quantization differ in sign, or codes in another scale).
    public func summedInPlace(_ links: [Kernels.Int8ChainLink], next: ActivationQuantization, consuming: Bool) throws -> Int8BlockTensor? {
        guard let q = links.first?.parameters.input, next.unsigned == q.unsigned, let codes = try residualCodes(q, consuming: consuming)
        else { return nil }
        let p = UnsafeMutableRawPointer(codes.pointer)
        try Kernels.conv2dInt8Chain(links, input: .quantized(UnsafeRawPointer(p), q), output: .quantized(p, next), residual: .destination)
        return .codes(codes, shape: shape, quantization: next)
    }

    /// Codes in `quantization` that a chain may sum into and overwrite: this tensor's own storage when its codes are in
    /// that quantization and `consuming` (nobody reads it afterwards), else a new buffer filled with them.
    func residualCodes(_ quantization: ActivationQuantization, consuming: Bool) throws -> Tensor? {
        switch self {
        case .codes(let storage, let shape, let q):
            guard q == quantization else { return nil }
            if consuming { storage.storage.markModified(); return storage }
            let codes = try Self.codesStorage(shape)
            UnsafeMutableRawPointer(codes.pointer).copyMemory(from: storage.pointer, byteCount: shape.reduce(1, *))
            return codes
        case .fp32(let t):
            let codes = try Self.codesStorage(t.shape)
            try Kernels.quantize(t.pointer, count: t.count, into: UnsafeMutableRawPointer(codes.pointer), quantization)
            return codes
        }
    }

    /// An fp32 tensor holding this one's values that a chain may sum into and overwrite (the input's own buffer when
    /// `consuming` and it needs no gradient).
    public func residualFP32(consuming: Bool) throws -> Tensor {
        switch self {
        case .fp32(let t) where consuming && !t.needsGrad:
            t.storage.markModified()
            return t
        case .fp32(let t):
            let y = try Tensor(uninitializedShape: t.shape)
            y.pointer.update(from: t.pointer, count: t.count)
            return y
        case .codes:
            return try fp32()
        }
    }
}
