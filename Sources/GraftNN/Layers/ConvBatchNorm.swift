import GraftTensor
import Synchronization

/// Conv -> batch norm -> activation, run as one oneDNN convolution whenever
/// no gradient is needed: the frozen statistics fold into the conv weights
/// (W' = W * g / sqrt(var + eps), b' = beta + (b - mean) * g / sqrt(var + eps))
/// and the activation becomes a post-op. The folded copy is cached and
/// rebuilt only when a source tensor's version changes (under a lock: models
/// may run forwards from several threads).
///
/// Each architecture declares a conv + batch norm pair once, as this unit, with the reference's key
/// names for the two (`keys`): a block whose reference nests them (torchvision `Conv2dNormActivation`,
/// "0" and "1") lists the unit as a child; one whose reference keeps them as flat siblings
/// (`_expand_conv`, `_bn0`; `conv1`, `bn1`) lists `unit.keyedChildren` among its own.
public final class ConvBatchNorm: Module, UnaryLayer, @unchecked Sendable {  // unchecked: as Module
    public let conv: Conv2d
    public let bn: BatchNorm2d
    public let activation: Activation?
    /// The keys the conv and the batch norm load under.
    public let keys: (conv: String, bn: String)
    private let folded = Mutex<(key: [Int], weight: Tensor, bias: Tensor)?>(nil)

    public init(_ conv: Conv2d, _ bn: BatchNorm2d, _ activation: Activation?, keys: (conv: String, bn: String) = ("0", "1")) {
        self.conv = conv; self.bn = bn; self.activation = activation; self.keys = keys
    }

    public override var keyedChildren: [(String, Module)] { [(keys.conv, conv), (keys.bn, bn)] }

    /// True when `forward(x, training:)` runs the folded convolution: frozen statistics
    /// and no tape to record (neither `x` nor a parameter needs a gradient).
    public func runsFolded(_ x: Tensor, training: Bool) -> Bool {
        let batchStatistics = training && !bn.isFrozen
        let params = [conv.weight, bn.weight, bn.bias] + (conv.bias.map { [$0] } ?? [])
        let needsTape = GradMode.isEnabled && (x.needsGrad || params.contains { $0.requiresGrad })
        return !batchStatistics && !needsTape
    }

    public func forward(_ x: Tensor, training: Bool) throws -> Tensor {
        if runsFolded(x, training: training) {
            let (w, b) = try foldedWeights()
            if Calibration.isRecording { conv.calibration.observe(x) }
            return try withNoGrad {
                try x.conv2d(weight: w, bias: b, options: conv.options(for: x), activation: activation, int8: conv.int8Parameters(weight: w))
            }
        }
        var y = try conv.forward(x, training: training)
        y = try bn.forward(y, training: training)
        if let activation { y = try y.activation(activation) }
        return y
    }

    /// after(bn(conv(x)) + residual), the end of a residual block (this unit's
    /// own activation, if any, runs before the sum). Without a tape and with
    /// frozen statistics it is one oneDNN convolution with sum and eltwise
    /// post-ops; `consumingResidual` lets it write into the residual's buffer
    /// (the caller promises `residual` is not read afterwards).
    public func forward(_ x: Tensor, adding residual: Tensor, then after: Activation?, training: Bool,
                        consumingResidual: Bool = false) throws -> Tensor {
        if activation == nil && runsFolded(x, training: training) && !(GradMode.isEnabled && residual.needsGrad) {
            let (w, b) = try foldedWeights()
            if Calibration.isRecording { conv.calibration.observe(x) }
            return try withNoGrad {
                try x.conv2d(weight: w, bias: b, options: conv.options(for: x), adding: residual, activation: after,
                             consumingResidual: consumingResidual, int8: conv.int8Parameters(weight: w))
            }
        }
        let y = try forward(x, training: training) + residual
        return try after.map { try y.activation($0) } ?? y
    }

    /// The conv weight with the frozen batch norm folded in, and the matching bias
    /// (cached; new tensors only after a source tensor's version changed).
    public func foldedWeights() throws -> (weight: Tensor, bias: Tensor) {
        let sources = [conv.weight, bn.weight, bn.bias, bn.runningMean, bn.runningVar] + (conv.bias.map { [$0] } ?? [])
        let key = sources.flatMap { [$0.storage.id, $0.storage.version] }
        return try folded.withLock { cached in
            if let f = cached, f.key == key { return (f.weight, f.bias) }
            let out = conv.outChannels, perOut = conv.weight.count / out
            let w = try Tensor(uninitializedShape: conv.weight.shape), b = try Tensor(uninitializedShape: [out])
            for o in 0..<out {
                let s = bn.weight.pointer[o] / (bn.runningVar.pointer[o] + bn.epsilon).squareRoot()
                for i in 0..<perOut { w.pointer[o * perOut + i] = conv.weight.pointer[o * perOut + i] * s }
                let convBias = conv.bias?.pointer[o] ?? 0
                b.pointer[o] = bn.bias.pointer[o] + (convBias - bn.runningMean.pointer[o]) * s
            }
            cached = (key, w, b)
            return (w, b)
        }
    }
}
