import GraftTensor

/// Parameters that share a learning-rate multiplier and weight decay.
/// Discriminative fine-tuning gives the trunk a smaller `learningRateScale`
/// than the head; norms and biases get `weightDecay: 0`.
public struct ParameterGroup {
    public var parameters: [Tensor]
    public var learningRateScale: Float
    public var weightDecay: Float

    public init(_ parameters: [Tensor], learningRateScale: Float = 1, weightDecay: Float = 0) {
        self.parameters = parameters
        self.learningRateScale = learningRateScale
        self.weightDecay = weightDecay
    }

    /// Splits a module's trainable parameters: weights of rank >= 2 decay,
    /// biases and normalisation scales (rank 1) do not.
    public static func decaySplit(_ module: Module, weightDecay: Float, learningRateScale: Float = 1) -> [ParameterGroup] {
        let params = module.trainableParameters.map(\.1)
        return [ParameterGroup(params.filter { $0.rank >= 2 }, learningRateScale: learningRateScale, weightDecay: weightDecay),
                ParameterGroup(params.filter { $0.rank < 2 }, learningRateScale: learningRateScale, weightDecay: 0)]
            .filter { !$0.parameters.isEmpty }
    }
}

/// Updates parameters in place from their `.grad`.
public protocol Optimizer: AnyObject {
    var groups: [ParameterGroup] { get }
    var learningRate: Float { get set }
    func step() throws
    /// Per-parameter state (momentum, Adam moments), keyed by group and
    /// position, for checkpoints that resume bit-exactly.
    func exportState() -> [String: [Float]]
    func importState(_ state: [String: [Float]])
}

extension Optimizer {
    public func zeroGrad() { for g in groups { for p in g.parameters { p.grad = nil } } }
}

/// Rescales all gradients so their global L2 norm is at most `maxNorm`;
/// returns the norm before clipping.
@discardableResult
public func clipGradientNorm(_ parameters: [Tensor], maxNorm: Float) -> Float {
    var total: Double = 0
    // Squares in Double: a Float square overflows to inf from |g| > 1.8e19, and an infinite norm would scale
    // every gradient to zero (a step that silently changes nothing).
    for p in parameters { if let g = p.grad { for i in 0..<g.count { let v = Double(g.pointer[i]); total += v * v } } }
    let norm = Float(total.squareRoot())
    if norm > maxNorm {
        let scale = maxNorm / (norm + 1e-6)
        for p in parameters { if let g = p.grad { g.withMutableValues { for i in 0..<$0.count { $0[i] *= scale } } } }
    }
    return norm
}
