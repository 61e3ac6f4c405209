import Foundation
import GraftNN
import GraftTensor
import GraftWeights

/// A Darknet network (YOLOv3-tiny, YOLOv3, YOLOv4-tiny) built from its `.cfg`, run NHWC on Graft's
/// tensors. `forward` returns the raw input of every `[yolo]` layer ([N, H, W, anchors * (5 + classes)],
/// channels grouped per anchor as Darknet stores them: x, y, w, h, objectness, classes).
///
/// Mirrors Darknet's forward (src/network.c `forward_network`): each layer reads the previous
/// layer's output, `[route]` and `[shortcut]` read earlier outputs by index. Keys are
/// `layers.{i}.conv.*` / `layers.{i}.bn.*`, as `DarknetWeights` names them.
public final class DarknetNetwork: Module, @unchecked Sendable {
    public let config: DarknetConfig
    /// The `[convolutional]` layers by layer index.
    public private(set) var units: [Int: DarknetConvUnit]
    /// Outputs that a later `[route]` or `[shortcut]` reads; others are released as soon as used.
    private let kept: Set<Int>

    /// Darknet's batch norm divides by sqrt(var) + 1e-6 (src/blas.c `normalize_cpu`); Graft's by
    /// sqrt(var + eps). 1e-12 inside the root matches it to float precision for var >= 1e-6.
    public static let batchNormEpsilon: Float = 1e-6

    /// Whether int8 reads the leaky-ReLU outputs (signed, down to about -0.1 x their maximum) as u8 with a zero point
    /// rather than symmetric s8 (docs/PRECISION.md "int8 detection"); `GRAFT_INT8_ZERO_POINTS=0` compares.
    static let asymmetricInt8Inputs = ProcessInfo.processInfo.environment["GRAFT_INT8_ZERO_POINTS"] != "0"

    public init(config: DarknetConfig, seed: UInt64 = 0) {
        self.config = config
        var g = SeededGenerator(seed: seed)
        var units: [Int: DarknetConvUnit] = [:]
        var kept = Set<Int>()
        for layer in config.layers {
            switch layer.kind {
            case let .convolutional(c): units[layer.index] = DarknetConvUnit(c, generator: &g)
            case let .route(r): kept.formUnion(r.layers)
            case let .shortcut(from, _): kept.insert(from)
            default: break
            }
        }
        self.units = units
        self.kept = kept
    }

    /// Builds the network from a cfg and loads a `.weights` file for it (every float checked).
    public convenience init(cfg: URL, weights: URL) throws {
        let config = try DarknetConfig.read(cfg)
        self.init(config: config)
        try load(DarknetWeights.read(weights, config: config))
    }

    /// Copies Darknet weights in (strict: the reader already matched them to this cfg).
    public func load(_ weights: DarknetWeights) throws {
        var byKey: [String: Tensor] = [:]
        for stored in weights.tensors { byKey[stored.name] = try Tensor(stored) }
        for (i, unit) in units where unit.bn != nil { byKey["layers.\(i).bn.num_batches_tracked"] = Tensor.zeros([]) }
        try load(byKey, strict: true, source: "darknet weights for \(config.file)")
    }

    public override var keyedChildren: [(String, Module)] {
        units.keys.sorted().map { ("layers.\($0)", units[$0]!) }
    }

    /// The `[yolo]` heads in cfg order.
    public var heads: [DarknetLayer.YoloHead] {
        config.layers.compactMap { if case let .yolo(h) = $0.kind { h } else { nil } }
    }

    /// Cut points: `layer{i}` for every layer (the output of Darknet layer i).
    public var cutPoints: [String] { config.layers.map { "layer\($0.index)" } }

    /// Replaces the 1x1 convolution that feeds each `[yolo]` layer with one for `classes` classes,
    /// randomly initialised, every other layer copied (a new head on the pretrained trunk). Returns the
    /// new network and the indices of the replaced convolutions.
    public func withNewHeads(classes: Int, seed: UInt64 = 0) throws -> (network: DarknetNetwork, replaced: [Int]) {
        let (newConfig, replaced) = try config.withClasses(classes)
        let network = DarknetNetwork(config: newConfig, seed: seed)
        let replacedKeys = replaced.map { "layers.\($0)." }
        var trunk: [String: Tensor] = [:]
        for (k, v) in stateDict() where !replacedKeys.contains(where: { k.hasPrefix($0) }) { trunk[k] = try v.copy() }
        try network.load(trunk, strict: false, source: "darknet trunk")
        return (network, replaced)
    }

    /// Raw outputs of the `[yolo]` layers (before any sigmoid), in cfg order.
    public func forward(_ x: Tensor, training: Bool = false) throws -> [Tensor] {
        var heads: [Tensor] = []
        _ = try run(x, upTo: nil, training: training) { heads.append($0) }
        return heads
    }

    /// The output of layer `cut` ("layer{i}"), or of the last layer when `cut` is nil.
    public func forward(_ x: Tensor, upTo cut: String?, training: Bool = false) throws -> Tensor {
        var stop: Int? = nil
        if let cut {
            guard cut.hasPrefix("layer"), let i = Int(cut.dropFirst(5)), config.layers.indices.contains(i) else {
                throw ModelError.unknownCutPoint(cut, model: "darknet", available: ["layer0...layer\(config.layers.count - 1)"])
            }
            stop = i
        }
        return try run(x, upTo: stop, training: training) { _ in }
    }

    private func run(_ x: Tensor, upTo stop: Int?, training: Bool, yolo: (Tensor) -> Void) throws -> Tensor {
        let input = config.input
        guard x.rank == 4, x.shape[3] == input.channels else {
            throw ModelError.invalidConfig("darknet input must be [N, H, W, \(input.channels)], got \(x.shape)")
        }
        var outputs: [Int: Tensor] = [:]
        var h = x
        for layer in config.layers {
            switch layer.kind {
            case .convolutional:
                h = try units[layer.index]!.forward(h, training: training)
            case let .maxpool(p):
                // Darknet's window starts padding/2 cells before the map; padded cells never win.
                h = try h.pool2d(.max, kernel: (p.size, p.size),
                                 options: Conv2DOptions(strideH: p.stride, strideW: p.stride, padTop: p.padBefore,
                                                        padBottom: maxPoolPadAfter(h.shape[1], p),
                                                        padLeft: p.padBefore, padRight: maxPoolPadAfter(h.shape[2], p)))
            case let .route(r):
                let parts = r.layers.map { outputs[$0]! }
                h = parts.count == 1 ? parts[0] : try Tensor.concat(parts, axis: 3)
                if r.groups > 1 {
                    let width = h.shape[3] / r.groups
                    h = try h.slice(axis: 3, (r.groupID * width)..<((r.groupID + 1) * width))
                }
            case let .upsample(stride):
                h = try h.upsampledNearest(stride)
            case let .shortcut(from, activation):
                h = try h + outputs[from]!
                if let a = activation.graftActivation { h = try h.activation(a) }
            case .yolo:
                yolo(h)
            }
            if kept.contains(layer.index) { outputs[layer.index] = h }
            if layer.index == stop { return h }
        }
        return h
    }

    /// Padding after the map that gives Darknet's output size ((n + padding - size) / stride + 1).
    private func maxPoolPadAfter(_ n: Int, _ p: DarknetLayer.MaxPool) -> Int {
        let out = (n + p.padding - p.size) / p.stride + 1
        return max(0, (out - 1) * p.stride + p.size - n - p.padBefore)
    }
}

/// One `[convolutional]`: conv (+ batch norm) + activation, folded into one oneDNN convolution at inference.
public final class DarknetConvUnit: Module, UnaryLayer, @unchecked Sendable {
    public let conv: Conv2d
    public let bn: BatchNorm2d?
    public let activation: Activation?
    private let folded: ConvBatchNorm?

    init(_ c: DarknetLayer.Convolution, generator: inout SeededGenerator) {
        conv = Conv2d(c.inputChannels, c.filters, kernel: c.size, stride: c.stride, padding: c.padding, groups: c.groups,
                      bias: !c.batchNormalize, generator: &generator)
        conv.calibration.asymmetricCodes = DarknetNetwork.asymmetricInt8Inputs
        let bn = c.batchNormalize ? BatchNorm2d(c.filters, epsilon: DarknetNetwork.batchNormEpsilon) : nil
        self.bn = bn
        activation = c.activation.graftActivation
        folded = bn.map { [conv] in ConvBatchNorm(conv, $0, c.activation.graftActivation) }
    }

    public override var keyedChildren: [(String, Module)] {
        [("conv", conv)] + (bn.map { [("bn", $0 as Module)] } ?? [])
    }

    public func forward(_ x: Tensor, training: Bool) throws -> Tensor {
        if let folded { return try folded.forward(x, training: training) }
        if !GradMode.isEnabled || (!x.needsGrad && !conv.weight.requiresGrad) {
            if Calibration.isRecording { conv.calibration.observe(x) }
            return try withNoGrad {
                try x.conv2d(weight: conv.weight, bias: conv.bias, options: conv.options, activation: activation,
                             int8: conv.int8Parameters(weight: conv.weight))
            }
        }
        let y = try conv.forward(x, training: training)
        return try activation.map { try y.activation($0) } ?? y
    }
}

extension DarknetLayer.Activation {
    var graftActivation: Activation? {
        switch self {
        case .linear: nil
        case .leaky: .leakyRelu
        case .relu: .relu
        case .logistic: .sigmoid
        }
    }
}
