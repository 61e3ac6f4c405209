import GraftDistributed
import GraftNN
import GraftTensor

/// Data-parallel training as a wrapper around a module, PyTorch DDP's design:
/// every rank holds the whole model, rank 0's parameters and buffers are
/// broadcast at the start, and after each backward pass every rank holds the
/// average of all ranks' gradients, so the same optimizer step on every rank
/// keeps the replicas identical.
///
/// Gradients are averaged in buckets (`GradientBuckets`) started from each
/// parameter's `gradientReadyHook`, so communication overlaps the rest of the
/// backward pass. In a world of one it changes nothing.
public final class DataParallel {
    public let communicator: Communicator
    public let buckets: GradientBuckets
    let parameters: [Tensor]

    /// - Parameters:
    ///   - module: broadcast from rank 0 (parameters and buffers).
    ///   - parameters: the trainable parameters whose gradients are averaged, in the optimizer's order.
    public init(module: Module, parameters: [Tensor], communicator: Communicator = .world,
                bucketBytes: Int = 4 << 20, overlap: Bool = true) throws {
        self.communicator = communicator
        self.parameters = parameters
        buckets = GradientBuckets(communicator: communicator, counts: parameters.map(\.count), bucketBytes: bucketBytes, overlap: overlap)
        try Self.checkSameModel(module, parameters: parameters, communicator)
        for (_, tensor) in module.stateDict() {
            try communicator.broadcast(UnsafeMutableBufferPointer(start: tensor.pointer, count: tensor.count), root: 0)
        }
        guard communicator.isDistributed else { return }
        for (index, parameter) in parameters.enumerated() {
            parameter.gradientReadyHook = { [buckets] tensor in
                guard let grad = tensor.grad else { return try buckets.gradientReady(index, nil) }
                try buckets.gradientReady(index, UnsafeBufferPointer(start: grad.pointer, count: grad.count))
            }
        }
    }

    deinit { for parameter in parameters { parameter.gradientReadyHook = nil } }

    /// This rank's share of the current global batch (the weight of its mean
    /// gradient in the average); `1/size` unless the shares differ.
    public func setShare(local: Int, global: Int) {
        buckets.setWeight(Float(local) / Float(max(global, 1)))
    }

    /// Call after `backward()` and before clipping and the optimizer step:
    /// waits for the reductions still in flight and writes the averaged
    /// gradients into `.grad`.
    public func synchronizeGradients() throws {
        guard communicator.isDistributed else { return }
        try buckets.finish { index, average in
            let parameter = parameters[index]
            let grad = parameter.grad ?? Tensor.zeros(parameter.shape)
            if let source = average.baseAddress { grad.pointer.update(from: source, count: average.count) }
            parameter.grad = grad
        }
    }

    /// Ranks must hold the same architecture: compare the parameter shapes
    /// before any broadcast (a mismatched broadcast would hang or corrupt).
    static func checkSameModel(_ module: Module, parameters: [Tensor], _ communicator: Communicator) throws {
        guard communicator.isDistributed else { return }
        let mine = module.stateDict().map { "\($0.0):\($0.1.shape)" }.joined(separator: ",") + "|trainable:\(parameters.map(\.count))"
        let all = try communicator.allgather(Array(mine.utf8)).map { String(decoding: $0, as: UTF8.self) }
        if let other = all.firstIndex(where: { $0 != all[0] }) {
            throw TransferError.unsupported("data-parallel ranks hold different models: rank 0 has \(all[0].prefix(200)), rank \(other) has \(all[other].prefix(200))")
        }
    }
}
