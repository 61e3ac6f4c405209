import GraftTensor

/// Layer norm over the last dimension (keys `weight`, `bias`, as in PyTorch and HF BERT).
public final class LayerNorm: Module, UnaryLayer, @unchecked Sendable {  // unchecked: as Module
    public let weight: Tensor
    public let bias: Tensor
    public var epsilon: Float

    public init(_ features: Int, epsilon: Float = 1e-5) {
        weight = Tensor.ones([features]); weight.requiresGrad = true
        bias = Tensor.zeros([features]); bias.requiresGrad = true
        self.epsilon = epsilon
    }

    public override var keyedParameters: [(String, Tensor)] { [("weight", weight), ("bias", bias)] }

    public func forward(_ x: Tensor, training: Bool) throws -> Tensor {
        try x.layerNorm(gamma: weight, beta: bias, epsilon: epsilon)
    }
}
