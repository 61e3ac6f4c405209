import GraftTensor

/// A pointwise activation as a layer (no parameters).
public final class ActivationLayer: Module, UnaryLayer, @unchecked Sendable {  // unchecked: as Module
    public let kind: Activation
    public init(_ kind: Activation) { self.kind = kind }
    public func forward(_ x: Tensor, training: Bool) throws -> Tensor { try x.activation(kind) }
}

/// Inverted dropout, active only in training, from its own seeded generator.
public final class Dropout: Module, UnaryLayer, @unchecked Sendable {  // unchecked: as Module
    public let probability: Float
    /// The mask stream; a trainer saves and restores it with its checkpoints, so a resumed run draws
    /// the masks the uninterrupted one would have.
    public var generator: SeededGenerator
    /// Set by data-parallel training: this process holds rows `first..<first + n` of a global batch
    /// of `total` rows. The layer then draws exactly the mask rows one process with the whole batch
    /// would draw for those rows, and leaves its stream where that process's would be, so N ranks
    /// train like one process (and never share masks). Nil: the input is the whole batch.
    public var batchShard: BatchShard?
    public init(_ probability: Float, seed: UInt64 = 0) {
        self.probability = probability
        generator = SeededGenerator(seed: seed)
    }
    public func forward(_ x: Tensor, training: Bool) throws -> Tensor {
        guard training && !isFrozen && probability > 0 else { return x }
        guard let shard = batchShard, x.rank > 0, x.shape[0] > 0 else {
            return try x.dropout(probability: probability, generator: &generator)
        }
        // One draw per element, row-major: skip the rows of the ranks before this one, draw ours,
        // skip the rest.
        let rows = x.shape[0], perRow = x.count / rows
        generator.discard(shard.first * perRow)
        let y = try x.dropout(probability: probability, generator: &generator)
        generator.discard(max(0, shard.total - shard.first - rows) * perRow)
        return y
    }
}

/// Rows `first..<first + n` of a global batch of `total` rows (see `Dropout.batchShard`).
public struct BatchShard: Sendable, Equatable {
    public var first: Int
    public var total: Int
    public init(first: Int, total: Int) { self.first = first; self.total = total }
}

/// Layers applied in order; children keyed "0", "1", ... like `nn.Sequential`.
public final class Sequential: Module, UnaryLayer, @unchecked Sendable {  // unchecked: as Module
    public let layers: [any UnaryLayer]
    public init(_ layers: [any UnaryLayer]) { self.layers = layers }
    public override var keyedChildren: [(String, Module)] { layers.enumerated().map { (String($0.offset), $0.element) } }
    public func forward(_ x: Tensor, training: Bool) throws -> Tensor {
        try layers.reduce(x) { try $1.forward($0, training: training) }
    }
}

/// Flattens [N, ...] to [N, features].
public final class Flatten: Module, UnaryLayer, @unchecked Sendable {  // unchecked: as Module
    public override init() {}
    public func forward(_ x: Tensor, training: Bool) throws -> Tensor { try x.flattened(fromAxis: 1) }
}

/// Global average pooling [N, H, W, C] -> [N, C].
public final class GlobalAvgPool: Module, UnaryLayer, @unchecked Sendable {  // unchecked: as Module
    public override init() {}
    public func forward(_ x: Tensor, training: Bool) throws -> Tensor { try x.globalAvgPool2d() }
}

/// Max pooling with PyTorch's arguments.
public final class MaxPool2d: Module, UnaryLayer, @unchecked Sendable {  // unchecked: as Module
    public let kernel: Int, stride: Int, padding: Int
    public init(kernel: Int, stride: Int? = nil, padding: Int = 0) { self.kernel = kernel; self.stride = stride ?? kernel; self.padding = padding }
    public func forward(_ x: Tensor, training: Bool) throws -> Tensor { try x.maxPool2d(kernel: kernel, stride: stride, padding: padding) }
}
