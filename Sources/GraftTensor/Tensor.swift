import Foundation

/// A dense, contiguous, row-major Float32 tensor.
///
/// Ownership: a tensor's values are immutable once an op has produced it;
/// the only writers are explicit in-place calls (`assign`, optimizer updates
/// via `withMutableValues`), which bump the storage version. Images are NHWC.
/// Tensors are reference types so the tape can hold them without copying.
/// `@unchecked`: `grad`, `requiresGrad` and the tape node mutate only in the task that
/// runs backward or trains; values follow the ownership rule above.
public final class Tensor: @unchecked Sendable {
    public let shape: [Int]
    public let storage: Storage
    /// Leaf tensors that want gradients (parameters). Results of ops
    /// inherit the need through their tape node instead.
    public var requiresGrad: Bool
    /// Gradient accumulated by `backward()` for leaves with `requiresGrad`.
    public var grad: Tensor?
    /// How this tensor was computed, kept only while grad mode is on.
    var node: TapeNode?
    /// Called by `backward()` right after this leaf's gradient for the pass is
    /// final (PyTorch's post-accumulate-grad hook): data-parallel training
    /// starts averaging it while the rest of backward runs.
    public var gradientReadyHook: ((Tensor) throws -> Void)?

    public var count: Int { storage.count }
    public var rank: Int { shape.count }
    public var pointer: UnsafeMutablePointer<Float> { storage.pointer }

    /// Uninitialised storage for `shape` (ops fill it completely). Throws `KernelError.outOfMemory`
    /// when the system has no block of this size.
    public init(uninitializedShape shape: [Int]) throws {
        self.shape = shape
        self.storage = try Storage(count: shape.reduce(1, *))
        self.requiresGrad = false
    }

    /// Uninitialised storage for a constant or a parameter, made when a model is built rather than
    /// per request or step (the non-throwing constructors below): those callers have no error path.
    private init(constantShape shape: [Int]) {
        self.shape = shape
        do {
            self.storage = try Storage(count: shape.reduce(1, *))
        } catch {
            // Justified: building a model's parameters and constants is not a request path, and
            // these constructors are non-throwing by design; ops and requests allocate through the
            // throwing `init(uninitializedShape:)`.
            fatalError("GraftTensor: \(error) while building a constant or parameter of shape \(shape)")
        }
        self.requiresGrad = false
    }

    public init(shape: [Int], storage: Storage, requiresGrad: Bool = false) {
        precondition(shape.reduce(1, *) == storage.count, "storage size does not match shape")
        self.shape = shape
        self.storage = storage
        self.requiresGrad = requiresGrad
    }

    public convenience init(shape: [Int], values: [Float], requiresGrad: Bool = false) throws {
        guard shape.reduce(1, *) == values.count, shape.allSatisfy({ $0 >= 0 }) else {
            throw TensorError.invalidShape(op: "Tensor(shape:values:)", shape: shape,
                                           reason: "needs \(shape.reduce(1, *)) values, got \(values.count)")
        }
        try self.init(uninitializedShape: shape)
        values.withUnsafeBufferPointer { src in
            if let base = src.baseAddress { pointer.update(from: base, count: values.count) }
        }
        self.requiresGrad = requiresGrad
    }

    public convenience init(repeating value: Float, shape: [Int], requiresGrad: Bool = false) {
        self.init(constantShape: shape)
        pointer.update(repeating: value, count: count)
        self.requiresGrad = requiresGrad
    }

    /// `value` everywhere, for ops (throws `KernelError.outOfMemory` instead of stopping).
    static func filled(_ value: Float, _ shape: [Int]) throws -> Tensor {
        let t = try Tensor(uninitializedShape: shape)
        t.pointer.update(repeating: value, count: t.count)
        return t
    }

    public static func zeros(_ shape: [Int]) -> Tensor { Tensor(repeating: 0, shape: shape) }
    public static func ones(_ shape: [Int]) -> Tensor { Tensor(repeating: 1, shape: shape) }
    public static func scalar(_ v: Float) -> Tensor { Tensor(repeating: v, shape: []) }

    /// Values drawn from N(0, std^2) with a seeded generator.
    public static func randn(_ shape: [Int], std: Float = 1, generator: inout SeededGenerator) -> Tensor {
        let t = Tensor(constantShape: shape)
        for i in 0..<t.count { t.pointer[i] = generator.nextNormal() * std }
        return t
    }

    /// Values drawn uniformly from [low, high).
    public static func uniform(_ shape: [Int], low: Float, high: Float, generator: inout SeededGenerator) -> Tensor {
        let t = Tensor(constantShape: shape)
        for i in 0..<t.count { t.pointer[i] = low + (high - low) * generator.nextUniform() }
        return t
    }

    public var values: [Float] { Array(UnsafeBufferPointer(start: pointer, count: count)) }
    public var scalarValue: Float { pointer[0] }

    /// True when gradients must flow through this tensor.
    public var needsGrad: Bool { requiresGrad || node != nil }

    /// A tensor sharing storage but cut from the tape (like PyTorch's `detach`).
    public func detached() -> Tensor { Tensor(shape: shape, storage: storage) }

    /// A deep copy with no history.
    public func copy() throws -> Tensor {
        let t = try Tensor(uninitializedShape: shape)
        t.pointer.update(from: pointer, count: count)
        return t
    }

    /// Overwrites the values in place (loading weights, optimizer steps).
    public func assign(_ other: Tensor) throws {
        guard other.shape == shape else { throw TensorError.shapeMismatch(op: "assign", lhs: shape, rhs: other.shape) }
        pointer.update(from: other.pointer, count: count)
        storage.markModified()
    }

    public func withMutableValues<R>(_ body: (UnsafeMutableBufferPointer<Float>) throws -> R) rethrows -> R {
        defer { storage.markModified() }
        return try body(UnsafeMutableBufferPointer(start: pointer, count: count))
    }
}

extension Tensor: CustomStringConvertible {
    public var description: String {
        let shown = values.prefix(8).map { String(format: "%.4f", $0) }.joined(separator: ", ")
        return "Tensor(\(shape), [\(shown)\(count > 8 ? ", ..." : "")])"
    }
}
