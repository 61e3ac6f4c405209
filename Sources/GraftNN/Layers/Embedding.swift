import GraftTensor

/// A lookup table [count, dim] (key `weight`).
public final class Embedding: Module, @unchecked Sendable {  // unchecked: as Module
    public let weight: Tensor

    public init(_ count: Int, _ dim: Int, generator: inout SeededGenerator) {
        weight = Tensor.randn([count, dim], generator: &generator)
        weight.requiresGrad = true
    }

    public override var keyedParameters: [(String, Tensor)] { [("weight", weight)] }

    public func callAsFunction(_ ids: IndexTensor) throws -> Tensor { try weight.embedding(ids) }
}
