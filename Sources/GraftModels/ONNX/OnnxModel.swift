import Foundation
import GraftNN
import GraftTensor
import GraftWeights

/// An ONNX graph ready to run on Graft's tensors. Loading checks that every operator needed for the
/// requested outputs is implemented (all missing ones in one error), folds the nodes whose inputs are
/// all constant (weights, shape arithmetic), and fuses each 2-D convolution with the batch norm,
/// residual add and activation that follow it, as the native models do. Values between
/// convolutions stay channels-last; feeds and results are in ONNX (NCHW) layout.
public final class OnnxModel: @unchecked Sendable {  // unchecked: every field is a `let` set at load; its Tensors (classes) are never written after
    public let graph: OnnxGraph
    /// The values `run` returns: the graph outputs, or the cut points asked for.
    public let outputNames: [String]
    private let kernels: OnnxKernels
    private let constants: [String: OnnxValue]
    private let steps: [Step]
    /// For each step, the values whose last reader it is (freed after it runs).
    private let releases: [[String]]

    enum Step {
        case node(OnnxGraph.Node)
        case conv(ConvStep)
        case invertedResidual(OnnxInvertedResidual)
        case residualBlock(OnnxResidualBlock)

        var inputs: [String] {
            switch self {
            case let .node(n): n.inputs.filter { !$0.isEmpty }
            case let .conv(c): [c.input] + (c.residual.map { [$0] } ?? [])
            case let .invertedResidual(b): [b.input]
            case let .residualBlock(b): [b.input]
            }
        }
    }

    /// A Conv (node) reading `input`, with its batch norm folded and the add and activation after it, writing `output`.
    struct ConvStep {
        let node: OnnxGraph.Node
        let input: String
        let fused: FusedConv
        let residual: String?
        let output: String
        /// The input range calibration saw (or a quantized file gave): with it the step computes in int8 under int8.
        let calibration = InputCalibration()
        let int8Scales = WeightScaleCache()

        /// The key of this convolution's range in a quantized file: the Conv node's own output value (unique in a graph).
        var key: String { node.outputs[0] }
    }

    public convenience init(contentsOf url: URL, outputs: [String]? = nil) throws {
        try self.init(graph: try OnnxGraph(contentsOf: url), outputs: outputs)
    }

    /// `outputs`: value names to compute (cut points); nil means the graph's outputs.
    public init(graph: OnnxGraph, outputs: [String]? = nil) throws {
        self.graph = graph
        let file = graph.file
        kernels = OnnxKernels(opset: graph.opsetVersion, file: file)
        let wanted = outputs ?? graph.outputs.map(\.name)
        outputNames = wanted
        let producer = graph.producerIndex
        let graphValues = Set(graph.inputs.map(\.name)).union(graph.initializers.keys)
        for w in wanted where producer[w] == nil && !graphValues.contains(w) {
            throw OnnxError.unknownValue(file: file, name: w, known: Self.cutPoints(of: graph).map(\.value))
        }
        // Only the nodes the wanted values depend on are checked, folded and run.
        let nodes = graph.ancestors(of: wanted).sorted().map { graph.nodes[$0] }
        if let missing = OnnxOperators.unsupported(in: nodes) {
            throw OnnxError.unsupportedOperators(file: file, operators: missing)
        }
        var constants: [String: OnnxValue] = [:]
        for (name, t) in graph.initializers { constants[name] = try OnnxValue(t) }
        var runtime: [OnnxGraph.Node] = []
        for n in nodes {
            let ins = n.inputs.filter { !$0.isEmpty }
            if ins.allSatisfy({ constants[$0] != nil }) {
                let outs = try Self.execute(kernels, n, n.inputs.map { $0.isEmpty ? nil : constants[$0] })
                for (name, v) in zip(n.outputs, outs) where !name.isEmpty { constants[name] = v }
            } else {
                runtime.append(n)
            }
        }
        self.constants = constants
        steps = OnnxResidualBlock.group(OnnxInvertedResidual.fuse(try Self.fuse(runtime, constants: constants, keep: Set(wanted), kernels: kernels),
                                                                  keep: Set(wanted)), keep: Set(wanted))
        var lastUse: [String: Int] = [:]
        for (i, s) in steps.enumerated() { for v in s.inputs { lastUse[v] = i } }
        var releases = [[String]](repeating: [], count: steps.count)
        for (v, i) in lastUse where !wanted.contains(v) && constants[v] == nil { releases[i].append(v) }
        self.releases = releases
        if OnnxInt8Quantization.isQuantized(graph) {
            let ranges = try OnnxInt8Quantization.ranges(in: graph)
            for c in convSteps { c.calibration.range = ranges[c.key] }
        }
    }

    /// Every fused convolution step, those inside inverted-residual blocks too, in execution order.
    var convSteps: [ConvStep] {
        steps.flatMap { s -> [ConvStep] in
            switch s {
            case let .conv(c): [c]
            case let .invertedResidual(b): b.convs
            case let .residualBlock(b): b.convs
            case .node: []
            }
        }
    }

    /// The convolutions this executor runs that can compute in int8 (a constant weight): `graft quantize` calibrates these.
    public var convolutionCount: Int { convSteps.count }

    /// The calibrated convolutions' input ranges, by `OnnxInt8Quantization`'s key (the Conv node's output value).
    public var int8Ranges: [String: (min: Float, max: Float)] {
        var out: [String: (min: Float, max: Float)] = [:]
        for c in convSteps { if let r = c.calibration.range { out[c.key] = r } }
        return out
    }

    /// Forgets every range (a new calibration starts from nothing, also on a graph that was quantized before).
    public func clearCalibration() {
        for c in convSteps { c.calibration.range = nil }
    }

    /// Inverted-residual blocks (1x1 expansion + ReLU6, depthwise + ReLU6, 1x1 projection, + input) found in the
    /// graph: each runs as one fused kernel wherever `FusedInvertedResidual`'s size policy fuses the native blocks.
    public var invertedResidualBlocks: Int {
        steps.reduce(0) { n, s in if case .invertedResidual = s { return n + 1 }; return n }
    }

    /// Residual blocks (two or three convolutions adding the block's input or its projection) found in the graph: at
    /// int8 each runs as one int8 chain, as the native ResNet blocks do (`OnnxResidualBlock`).
    public var residualBlocks: Int {
        steps.reduce(0) { n, s in if case .residualBlock = s { return n + 1 }; return n }
    }

    /// Every node output in execution order, with the operator that makes it: the cut points.
    public static func cutPoints(of graph: OnnxGraph) -> [(value: String, op: String, node: String)] {
        graph.nodes.flatMap { n in n.outputs.filter { !$0.isEmpty }.map { ($0, n.opType, n.name) } }
    }

    /// Runs the graph on NCHW feeds (by graph input name); returns the requested values in ONNX layout
    /// (integer results as floats).
    public func run(_ feeds: [String: Tensor]) throws -> [String: Tensor] {
        try runValues(feeds.mapValues { OnnxValue.nchw($0) }).mapValues { try $0.nchwTensor() }
    }

    /// Runs on channels-last feeds (rank-4 ones as [N, H, W, C] images, the layout Graft's data loaders make) and
    /// returns rank-4 values channels-last too: when the graph starts and ends with convolutions or pools, no
    /// layout copy happens at either end.
    public func runChannelsLast(_ feeds: [String: Tensor]) throws -> [String: Tensor] {
        try runValues(feeds.mapValues { $0.rank == 4 ? .float($0, channelsLast: true) : .nchw($0) })
            .mapValues { $0.shape.count == 4 ? try $0.nhwcTensor() : try $0.nchwTensor() }
    }

    /// Runs on decoded tensors (the onnx test-data `.pb` inputs may be integer), returning decoded tensors.
    public func run(_ feeds: [String: OnnxTensorData]) throws -> [String: OnnxTensorData] {
        try runValues(feeds.mapValues { try OnnxValue($0) }).mapValues { try $0.data }
    }

    func runValues(_ feeds: [String: OnnxValue]) throws -> [String: OnnxValue] {
        let file = graph.file
        var values = constants
        for input in graph.inputs {
            guard let v = feeds[input.name] else {
                throw OnnxError.unknownValue(file: file, name: input.name, known: Array(feeds.keys))
            }
            if let dims = input.dims {
                let s = v.shape
                guard s.count == dims.count, zip(s, dims).allSatisfy({ $1 == nil || $0 == $1 }) else {
                    throw OnnxError.nodeFailed(file: file, node: "graph input", op: input.name,
                                               reason: "fed shape \(s), the graph declares \(dims.map { $0.map(String.init) ?? "?" })")
                }
            }
            values[input.name] = v
        }
        try withNoGrad {
            for (i, step) in steps.enumerated() {
                switch step {
                case let .node(n):
                    let outs = try Self.execute(kernels, n, n.inputs.map { $0.isEmpty ? nil : values[$0] })
                    for (name, v) in zip(n.outputs, outs) where !name.isEmpty { values[name] = v }
                case let .conv(c):
                    values[c.output] = try runConv(c, values, consumingResidual: c.residual.map { canConsume($0, at: i, values) } ?? false)
                case let .invertedResidual(b):
                    guard let x = values[b.input] else { throw OnnxError.nodeFailed(file: file, node: b.convs[0].node.name, op: "Conv", reason: "input missing") }
                    if let y = try b.fusedForward(x) ?? b.int8Forward(x, kernels: kernels) {
                        values[b.output] = y
                    } else {
                        // The block's convolutions one by one; their intermediate values are dropped after.
                        for c in b.convs { values[c.output] = try runConv(c, values, consumingResidual: false) }
                        for c in b.convs.dropLast() { values[c.output] = nil }
                    }
                case let .residualBlock(b):
                    guard let x = values[b.input] else { throw OnnxError.nodeFailed(file: file, node: b.path[0].node.name, op: "Conv", reason: "input missing") }
                    let consumable = canConsume(b.input, at: i, values)
                    if let y = try b.int8Forward(x, kernels: kernels, consumingInput: consumable) {
                        values[b.output] = y
                    } else {
                        // The steps one by one, as before grouping: the shortcut's output (internal to the block) or the
                        // block's input (when the block is its last reader) becomes the last convolution's output buffer.
                        if let p = b.projection { values[p.output] = try runConv(p, values, consumingResidual: false) }
                        for (k, c) in b.path.enumerated() {
                            let last = k == b.path.count - 1
                            values[c.output] = try runConv(c, values, consumingResidual: last && (b.projection != nil || consumable))
                            if k > 0 { values[b.path[k - 1].output] = nil }
                        }
                        if let p = b.projection { values[p.output] = nil }
                    }
                }
                for v in releases[i] { values[v] = nil }
            }
        }
        var out: [String: OnnxValue] = [:]
        for name in outputNames {
            guard let v = values[name] else { throw OnnxError.unknownValue(file: file, name: name, known: Array(values.keys)) }
            out[name] = v
        }
        return out
    }

    /// Whether step `i` may write its output into the buffer of value `name`, as the native residual blocks do:
    /// the step is its last reader, it is an intermediate channels-last value (not a feed, a constant or a
    /// requested output) and no other live value shares its storage (Identity passes a tensor on under a new name).
    private func canConsume(_ name: String, at i: Int, _ values: [String: OnnxValue]) -> Bool {
        guard releases[i].contains(name), !graph.inputs.contains(where: { $0.name == name }),
              case let .float(t, true)? = values[name] else { return false }
        return !values.contains { key, v in
            guard key != name, case let .float(u, _) = v else { return false }
            return u.storage === t.storage
        }
    }

    /// One fused convolution step on the current values.
    private func runConv(_ c: ConvStep, _ values: [String: OnnxValue], consumingResidual: Bool) throws -> OnnxValue {
        let (n, file) = (c.node, graph.file)
        guard let x = values[c.input] else { throw OnnxError.nodeFailed(file: file, node: n.name, op: n.opType, reason: "input missing") }
        var f = c.fused
        var postAdd: OnnxValue?
        if let residual = c.residual {
            guard let r = values[residual] else {
                throw OnnxError.nodeFailed(file: file, node: n.name, op: n.opType, reason: "residual \(residual) missing")
            }
            // The add runs inside the convolution only when it needs no broadcasting.
            let s = r.shape
            if s.count == 4 && s[0] == x.shape[0] && s[1] == c.fused.weight.shape[0] {
                f.residual = r; f.consumesResidual = consumingResidual
            } else {
                postAdd = r
            }
        }
        if postAdd != nil { f.activation = nil }
        return try Self.wrap(n, file) {
            if Calibration.isRecording { c.calibration.observe(x.shape.count == 4 ? try x.nhwcTensor() : try x.nchwTensor()) }
            let int8 = c.int8Scales.parameters(weight: c.fused.weight, calibration: c.calibration)
            var y = try kernels.conv(n, x, .nchw(c.fused.weight), nil, fused: f, int8: int8)
            if let postAdd {
                y = try kernels.binary("Add", y, postAdd)
                if let a = c.fused.activation { y = try kernels.activation(y, a) }
            }
            return y
        }
    }

    private static func wrap<T>(_ n: OnnxGraph.Node, _ file: String, _ body: () throws -> T) throws -> T {
        do { return try body() } catch let f as OnnxKernels.Failure {
            throw f.unsupported ? OnnxError.unsupportedVariant(file: file, node: n.name, op: n.opType, what: f.reason)
                                : OnnxError.nodeFailed(file: file, node: n.name, op: n.opType, reason: f.reason)
        } catch let e as OnnxError { throw e } catch {
            throw OnnxError.nodeFailed(file: file, node: n.name, op: n.opType, reason: "\(error)")
        }
    }

    static func execute(_ k: OnnxKernels, _ n: OnnxGraph.Node, _ inputs: [OnnxValue?]) throws -> [OnnxValue] {
        try wrap(n, k.file) {
            let outs = try k.run(n, inputs)
            guard outs.count >= n.outputs.filter({ !$0.isEmpty }).count || n.opType == "Dropout" else {
                throw OnnxKernels.fail("produces \(outs.count) of \(n.outputs.count) outputs")
            }
            return outs
        }
    }

    /// Conv (+ BatchNormalization) (+ Add of another value) (+ activation) into one step, where each
    /// intermediate value has that single reader and is not a requested output.
    private static func fuse(_ nodes: [OnnxGraph.Node], constants: [String: OnnxValue], keep: Set<String>,
                             kernels: OnnxKernels) throws -> [Step] {
        var readers: [String: [Int]] = [:]
        for (i, n) in nodes.enumerated() { for v in n.inputs where !v.isEmpty { readers[v, default: []].append(i) } }
        var absorbed = Set<Int>()
        // A node joins at most one fused step (two convolutions may feed one Add: the first takes it).
        func soleReader(_ v: String) -> Int? {
            guard !keep.contains(v), let r = readers[v], r.count == 1, !absorbed.contains(r[0]) else { return nil }
            return r[0]
        }
        func floats(_ name: String) -> [Float]? { (try? constants[name]?.floats())?.values }
        // (position, step): a fused step runs where its last absorbed node was, when the residual it
        // adds is surely computed.
        var steps: [(Int, Step)] = []
        for (i, n) in nodes.enumerated() where !absorbed.contains(i) {
            guard n.opType == "Conv", n.inputs.count >= 2, let w = constants[n.inputs[1]], w.shape.count == 4,
                  n.inputs.count < 3 || n.inputs[2].isEmpty || constants[n.inputs[2]] != nil,
                  let out0 = n.outputs.first, var weight = try? w.nchwTensor() else {
                steps.append((i, .node(n))); continue
            }
            var position = i
            let o = weight.shape[0]
            var bias: [Float]? = n.inputs.count >= 3 && !n.inputs[2].isEmpty ? floats(n.inputs[2]) : nil
            var output = out0
            // Batch norm folded into the weights: w' = w * g / sqrt(v + eps), b' = (b - m) * g / sqrt(v + eps) + beta.
            if let r = soleReader(output), nodes[r].opType == "BatchNormalization", nodes[r].inputs.count >= 5,
               let g = floats(nodes[r].inputs[1]), let beta = floats(nodes[r].inputs[2]),
               let m = floats(nodes[r].inputs[3]), let v = floats(nodes[r].inputs[4]),
               [g, beta, m, v].allSatisfy({ $0.count == o }), nodes[r].outputs.filter({ !$0.isEmpty }).count == 1 {
                let eps = nodes[r].float("epsilon") ?? 1e-5
                var wv = weight.values, b = bias ?? [Float](repeating: 0, count: o)
                let per = wv.count / o
                for c in 0..<o {
                    let f = g[c] / (v[c] + eps).squareRoot()
                    for k in 0..<per { wv[c * per + k] *= f }
                    b[c] = (b[c] - m[c]) * f + beta[c]
                }
                weight = try Tensor(shape: weight.shape, values: wv)
                bias = b
                absorbed.insert(r); output = nodes[r].outputs[0]; position = r
            }
            var residual: String?
            if let r = soleReader(output), ["Add", "Sum"].contains(nodes[r].opType), nodes[r].inputs.count == 2,
               let other = nodes[r].inputs.first(where: { $0 != output }), constants[other] == nil, nodes[r].inputs.contains(output) {
                residual = other; absorbed.insert(r); output = nodes[r].outputs[0]; position = r
            }
            var activation: Activation?
            if let r = soleReader(output), let a = fusable(nodes[r], constants) {
                activation = a; absorbed.insert(r); output = nodes[r].outputs[0]; position = r
            }
            let fused = FusedConv(weight: weight, bias: try bias.map { try Tensor(shape: [o], values: $0) }, activation: activation, residual: nil)
            steps.append((position, .conv(ConvStep(node: n, input: n.inputs[0], fused: fused, residual: residual, output: output))))
        }
        return steps.sorted { $0.0 < $1.0 }.map(\.1)
    }

    /// The oneDNN post-op equal to an activation node, if there is one.
    private static func fusable(_ n: OnnxGraph.Node, _ constants: [String: OnnxValue]) -> Activation? {
        switch n.opType {
        case "Relu": return .relu
        case "Sigmoid": return .sigmoid
        case "Tanh": return .tanh
        case "HardSwish": return .hardswish
        case "Gelu": return n.string("approximate") == "tanh" ? nil : .gelu
        case "Clip":
            func bound(_ i: Int, _ attr: String) -> Float? {
                if i < n.inputs.count, !n.inputs[i].isEmpty { return (try? constants[n.inputs[i]]?.floats())?.values.first }
                return n.float(attr)
            }
            if bound(1, "min") == 0 && bound(2, "max") == 6 { return .relu6 }
            return nil
        default: return nil
        }
    }
}
