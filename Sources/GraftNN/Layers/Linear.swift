import Foundation
import GraftTensor

/// y = x W^T + b, PyTorch's `nn.Linear` (keys `weight` [out, in], `bias` [out]).
public final class Linear: Module, UnaryLayer, @unchecked Sendable {  // unchecked: as Module
    public let weight: Tensor
    public let bias: Tensor?

    /// PyTorch's default initialisation: U(-1/sqrt(in), 1/sqrt(in)) for both.
    public init(_ inFeatures: Int, _ outFeatures: Int, bias: Bool = true, generator: inout SeededGenerator) {
        let bound = 1 / Float(inFeatures).squareRoot()
        weight = Tensor.uniform([outFeatures, inFeatures], low: -bound, high: bound, generator: &generator)
        weight.requiresGrad = true
        self.bias = bias ? Tensor.uniform([outFeatures], low: -bound, high: bound, generator: &generator) : nil
        self.bias?.requiresGrad = true
    }

    public var inFeatures: Int { weight.shape[1] }
    public var outFeatures: Int { weight.shape[0] }

    public override var keyedParameters: [(String, Tensor)] {
        [("weight", weight)] + (bias.map { [("bias", $0)] } ?? [])
    }

    public func forward(_ x: Tensor, training: Bool) throws -> Tensor { try x.linear(weight: weight, bias: bias) }
}
