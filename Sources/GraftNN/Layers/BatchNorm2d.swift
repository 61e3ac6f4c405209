import GraftTensor

/// Batch norm over the channel (last) dim of NHWC maps, PyTorch keys:
/// `weight`, `bias`, buffers `running_mean`, `running_var`, `num_batches_tracked`.
///
/// Policy: batch statistics are used only when `training` is true and the
/// module is not frozen; a frozen BN (inside a frozen trunk) always uses its
/// running statistics, whatever the training flag says.
public final class BatchNorm2d: Module, UnaryLayer, @unchecked Sendable {  // unchecked: as Module
    public let weight: Tensor
    public let bias: Tensor
    public let runningMean: Tensor
    public let runningVar: Tensor
    public let numBatchesTracked: Tensor
    public var epsilon: Float
    public var momentum: Float
    public var activation: Activation?

    public init(_ channels: Int, epsilon: Float = 1e-5, momentum: Float = 0.1) {
        weight = Tensor.ones([channels]); weight.requiresGrad = true
        bias = Tensor.zeros([channels]); bias.requiresGrad = true
        runningMean = Tensor.zeros([channels])
        runningVar = Tensor.ones([channels])
        numBatchesTracked = Tensor.zeros([])
        self.epsilon = epsilon
        self.momentum = momentum
    }

    public override var keyedParameters: [(String, Tensor)] { [("weight", weight), ("bias", bias)] }
    public override var keyedBuffers: [(String, Tensor)] {
        [("running_mean", runningMean), ("running_var", runningVar), ("num_batches_tracked", numBatchesTracked)]
    }

    public func forward(_ x: Tensor, training: Bool) throws -> Tensor {
        var y: Tensor
        if training && !isFrozen {
            let (out, mean, variance) = try x.batchNormTraining(scale: weight, shift: bias, epsilon: epsilon)
            // PyTorch updates running_var with the unbiased batch variance.
            let n = Float(x.count / (x.shape.last ?? 1))
            let unbias = n > 1 ? n / (n - 1) : 1
            let m = momentum
            runningMean.withMutableValues { rm in for i in 0..<rm.count { rm[i] = (1 - m) * rm[i] + m * mean.pointer[i] } }
            runningVar.withMutableValues { rv in for i in 0..<rv.count { rv[i] = (1 - m) * rv[i] + m * variance.pointer[i] * unbias } }
            numBatchesTracked.withMutableValues { $0[0] += 1 }
            y = out
        } else {
            y = try x.batchNormInference(scale: weight, shift: bias, mean: runningMean, variance: runningVar, epsilon: epsilon)
        }
        if let activation { y = try y.activation(activation) }
        return y
    }
}
