import Foundation
import GraftNN
import GraftTensor
import GraftWeights

/// An imported ONNX image graph fine-tuned from one node on, with a new linear head in place of the graph's
/// classifier. The nodes before the start run frozen in the fused executor (`OnnxModel`, no tape: inference
/// speed); the nodes from the start to the classifier's input run one by one on the executor's own kernels,
/// whose tensor ops record the tape, with the initializers they read as trainable parameters. Parameters and
/// buffers are keyed by their initializer names, so a state dict (checkpoint, bundle) saves and reloads them.
///
/// Batch norms keep their running statistics (the Keras rule of native fine-tuning, docs/TRANSFER.md); their
/// scale and shift train. Graphs exported in inference mode have their batch norms folded into the convolutions
/// already, so there the folded weights and biases train.
public final class OnnxFineTuneModel: Module, @unchecked Sendable {  // Module is @unchecked (one owner mutates parameters); subclasses restate it
    public let graph: OnnxGraph
    /// The first trainable node's name (nil: only the head trains).
    public let start: String?
    /// The value the head reads: the input of the graph's final classifier (Gemm, or MatMul + Add), else the graph output.
    public let headInput: String
    /// Names of the nodes that run with gradients, in order.
    public var trainableNodes: [String] { suffix.map(\.name) }
    /// The new head.
    public let classifier: Linear
    /// Its state-dict key: the replaced classifier's (`fc`, `classifier.1`) when its weight is named `X.weight`, else `head`.
    public let classifierKey: String

    private let prefix: OnnxModel?
    /// Values the trainable part reads from the frozen prefix or the graph input.
    private let frontier: [String]
    private let suffix: [OnnxGraph.Node]
    private let kernels: OnnxKernels
    private let parameters: [(String, Tensor)]
    private let buffers: [(String, Tensor)]
    /// Parameters, buffers and folded constants the trainable part reads, by value name.
    private let fixed: [String: OnnxValue]

    /// Operators whose kernels record every float input on the tape (checked against PyTorch,
    /// `OnnxFineTuneParityTests`), plus the ones this type runs itself (`Clip`, `HardSigmoid`, `LayerNormalization`, `Gather` of one constant index:
    /// a ViT's class token).
    public static let differentiable: Set<String> = [
        "Identity", "Dropout", "Constant", "Conv", "BatchNormalization", "Relu", "Sigmoid", "Tanh", "HardSwish", "Gelu", "Clip",
        "HardSigmoid", "MaxPool", "AveragePool", "GlobalAveragePool", "Add", "Sub", "Mul", "Div", "Flatten", "Reshape", "Squeeze",
        "Unsqueeze", "Transpose", "Concat", "Gemm", "MatMul", "Softmax", "LogSoftmax", "LayerNormalization", "Gather",
    ]

    /// `start`: a node name, or a node output (then the nodes after its producer train), or the graph input's name
    /// (everything trains); nil trains the head alone. `features`: the width of `headInput` (average-pooled when it is a map).
    public init(graph: OnnxGraph, start: String?, outputs: Int, features: Int, generator: inout SeededGenerator) throws {
        self.graph = graph
        self.start = start
        let file = graph.file
        let kernels = OnnxKernels(opset: graph.opsetVersion, file: file)
        self.kernels = kernels
        let (headInput, classifierWeight) = Self.classifierInput(of: graph)
        self.headInput = headInput
        if let w = classifierWeight, w.hasSuffix(".weight"), w.count > 7 { classifierKey = String(w.dropLast(7)) } else { classifierKey = "head" }
        classifier = Linear(features, outputs, generator: &generator)

        let producer = graph.producerIndex
        let needed = graph.ancestors(of: [headInput])   // the nodes the head's input depends on
        let candidates = needed.sorted().filter { graph.nodes[$0].opType != "Constant" }
        var first = graph.nodes.count
        if let start {
            let inputName = graph.inputs.first?.name
            if start == inputName {
                first = 0
            } else if let i = graph.nodes.firstIndex(where: { $0.name == start }), needed.contains(i) {
                first = i
            } else if let i = producer[start], needed.contains(i), let next = candidates.first(where: { $0 > i }) {
                first = next
            } else {
                throw OnnxFineTuneError.unknownStart(file: file, start: start, valid: candidates.map { graph.nodes[$0].name })
            }
        }
        let trainable = needed.sorted().filter { $0 >= first }.map { graph.nodes[$0] }

        // Constants the trainable part reads: initializers (trainable, buffers, or fixed) and Constant nodes, folded.
        var fixed: [String: OnnxValue] = [:], parameters: [(String, Tensor)] = [], buffers: [(String, Tensor)] = []
        let made = Set(trainable.flatMap(\.outputs))
        for n in trainable {
            for (slot, name) in n.inputs.enumerated() where !name.isEmpty && fixed[name] == nil && !made.contains(name) {
                if let t = graph.initializers[name] {
                    let value = try OnnxValue(t)
                    guard case let .float(tensor, _) = value else { fixed[name] = value; continue }
                    switch Self.role(of: n, slot: slot, count: tensor.count) {
                    case .parameter: tensor.requiresGrad = true; parameters.append((name, tensor))
                    case .buffer: buffers.append((name, tensor))
                    case .constant: break
                    }
                    fixed[name] = value
                } else if let i = producer[name], graph.nodes[i].opType == "Constant" {
                    fixed[name] = try OnnxModel.execute(kernels, graph.nodes[i], [])[0]
                }
            }
        }
        var runtime: [OnnxGraph.Node] = []
        for n in trainable {   // Constant nodes and shape arithmetic on constants run once, here
            let ins = n.inputs.filter { !$0.isEmpty }
            if ins.allSatisfy({ name in fixed[name] != nil && !parameters.contains { $0.0 == name } }) {
                let outs = try OnnxModel.execute(kernels, n, n.inputs.map { $0.isEmpty ? nil : fixed[$0] })
                for (name, v) in zip(n.outputs, outs) where !name.isEmpty { fixed[name] = v }
            } else {
                runtime.append(n)
            }
        }
        suffix = runtime
        self.fixed = fixed
        self.parameters = parameters
        self.buffers = buffers

        var missing: [String: [String]] = [:]
        for n in runtime {
            if let what = Self.withoutBackward(n) { missing[what, default: []].append(n.name) }
            if n.opType == "Gather", (n.inputs.count < 2 ? nil : fixed[n.inputs[1]])?.shape.reduce(1, *) != 1 {
                missing["Gather (indices not one constant)", default: []].append(n.name)
            }
        }
        guard missing.isEmpty else { throw OnnxFineTuneError.noBackward(file: file, operators: missing) }

        let made2 = Set(runtime.flatMap(\.outputs))
        var frontier: [String] = []
        for n in runtime {
            for v in n.inputs where !v.isEmpty && fixed[v] == nil && !made2.contains(v) && !frontier.contains(v) { frontier.append(v) }
        }
        if runtime.isEmpty { frontier = [headInput] }
        self.frontier = frontier
        let inputs = Set(graph.inputs.map(\.name))
        let computed = frontier.filter { !inputs.contains($0) }
        prefix = computed.isEmpty ? nil : try OnnxModel(graph: graph, outputs: computed)
        super.init()
    }

    public override var keyedParameters: [(String, Tensor)] { parameters }
    public override var keyedBuffers: [(String, Tensor)] { buffers }
    public override var keyedChildren: [(String, Module)] { [(classifierKey, classifier)] }

    /// The head's input for NHWC images `x`: [N, features], taped from the start node on when `training` records.
    /// A graph exported with a fixed batch size (PP-OCR's are 1) runs in chunks of that size, the last padded with
    /// zero images whose rows are dropped (batch norms use running statistics, so rows never mix).
    public func features(_ x: Tensor) throws -> Tensor {
        guard let fixed = graph.inputs.first?.dims?.first ?? nil, fixed > 0 else { return try featuresOfOneRun(x) }
        return try x.inChunks(of: fixed, featuresOfOneRun)
    }

    private func featuresOfOneRun(_ x: Tensor) throws -> Tensor {
        guard let input = graph.inputs.first?.name else { throw OnnxError.noGraph(file: graph.file) }
        let feed = OnnxValue.float(x, channelsLast: true)
        var values = fixed
        if let prefix {
            for (k, v) in try prefix.runValues([input: feed]) { values[k] = v }
        }
        values[input] = feed
        for n in suffix {
            let ins = n.inputs.map { $0.isEmpty ? nil : values[$0] }
            let outs = try run(n, ins)
            if GradMode.isEnabled, ins.contains(where: { if case let .float(t, _)? = $0 { return t.needsGrad }; return false }),
               outs.contains(where: { if case let .float(t, _) = $0 { return !t.needsGrad }; return false }) {
                throw OnnxFineTuneError.noBackward(file: graph.file, operators: ["\(n.opType) (this form)": [n.name]])
            }
            for (name, v) in zip(n.outputs, outs) where !name.isEmpty { values[name] = v }
        }
        guard let h = values[headInput] else { throw OnnxError.unknownValue(file: graph.file, name: headInput, known: frontier) }
        switch h {
        case let .float(t, true): return try t.globalAvgPool2d()
        default:
            let t = try h.nchwTensor()
            return t.rank == 4 ? try t.mean(axes: [2, 3]) : try t.flattened(fromAxis: 1)
        }
    }

    /// Logits of the new head: [N, outputs].
    public func forward(_ x: Tensor, training: Bool) throws -> Tensor {
        try classifier.forward(features(x), training: training)
    }

    // MARK: - the trainable part's operators

    private func run(_ n: OnnxGraph.Node, _ inputs: [OnnxValue?]) throws -> [OnnxValue] {
        func x(_ i: Int) throws -> OnnxValue {
            guard i < inputs.count, let v = inputs[i] else { throw OnnxError.nodeFailed(file: graph.file, node: n.name, op: n.opType, reason: "input \(i) is missing") }
            return v
        }
        func float(_ v: OnnxValue) -> (Tensor, Bool)? { if case let .float(t, cl) = v { return (t, cl) }; return nil }
        switch n.opType {
        case "Clip":
            var lo = n.float("min") ?? -Float.greatestFiniteMagnitude, hi = n.float("max") ?? Float.greatestFiniteMagnitude
            if inputs.count > 1, let v = inputs[1] { lo = try v.floats().values.first ?? lo }
            if inputs.count > 2, let v = inputs[2] { hi = try v.floats().values.first ?? hi }
            if lo == 0 && hi == 6 || lo == 0 && hi == .greatestFiniteMagnitude { return try OnnxModel.execute(kernels, n, inputs) }
            guard let (t, cl) = float(try x(0)) else { return try OnnxModel.execute(kernels, n, inputs) }
            return [.float(try t.clamp(min: lo, max: hi), channelsLast: cl)]
        case "HardSigmoid":
            guard let (t, cl) = float(try x(0)) else { return try OnnxModel.execute(kernels, n, inputs) }
            let a = n.float("alpha") ?? 0.2, b = n.float("beta") ?? 0.5
            return [.float(try t.affine(scale: a, shift: b).clamp(min: 0, max: 1), channelsLast: cl)]
        case "LayerNormalization":
            let t = try x(0).nchwTensor()
            let axis = n.int("axis") ?? -1
            guard axis == -1 || axis == t.rank - 1, let gamma = float(try x(1))?.0, gamma.count == t.shape.last else {
                throw OnnxError.unsupportedVariant(file: graph.file, node: n.name, op: n.opType, what: "training a LayerNormalization over more than the last axis")
            }
            let cols = gamma.count
            let beta = inputs.count > 2 ? inputs[2].flatMap { float($0)?.0 } : nil
            let y = try t.reshaped([t.count / Swift.max(cols, 1), cols])
                .layerNorm(gamma: gamma.reshaped([cols]), beta: beta?.reshaped([cols]) ?? Tensor.zeros([cols]), epsilon: n.float("epsilon") ?? 1e-5)
            return [.nchw(try y.reshaped(t.shape))]
        case "Gather":
            guard let (t0, cl) = float(try x(0)) else { return try OnnxModel.execute(kernels, n, inputs) }
            let t = cl ? try x(0).nchwTensor() : t0
            let idx = try x(1)
            let rank = t.rank
            var axis = n.int("axis") ?? 0
            if axis < 0 { axis += rank }
            var i = Int(try idx.ints().values[0])
            guard axis >= 0, axis < rank else { throw OnnxError.nodeFailed(file: graph.file, node: n.name, op: n.opType, reason: "axis \(axis) of rank \(rank)") }
            if i < 0 { i += t.shape[axis] }
            var shape = t.shape
            if idx.shape.isEmpty { shape.remove(at: axis) } else { shape[axis] = 1 }
            return [.nchw(try t.slice(axis: axis, i..<(i + 1)).reshaped(shape))]
        default:
            return try OnnxModel.execute(kernels, n, inputs)
        }
    }

    /// Why node `n` cannot run with gradients ("Op" or "Op (variant)"), nil when it can.
    static func withoutBackward(_ n: OnnxGraph.Node) -> String? {
        guard differentiable.contains(n.opType) else { return n.opType }
        if n.opType == "Gelu", n.string("approximate") == "tanh" { return "Gelu (approximate tanh)" }
        return nil
    }

    enum Role { case parameter, buffer, constant }

    /// What an initializer read at input `slot` of `n` is: weights train, batch-norm statistics are frozen
    /// buffers, shapes and scalar operands (a Clip bound, a Div by 2) are constants.
    static func role(of n: OnnxGraph.Node, slot: Int, count: Int) -> Role {
        switch n.opType {
        case "Conv", "Gemm", "LayerNormalization": return slot >= 1 ? .parameter : .constant
        case "BatchNormalization": return slot == 1 || slot == 2 ? .parameter : (slot >= 3 ? .buffer : .constant)
        case "MatMul": return .parameter
        case "Add", "Sub", "Mul", "Div": return count > 1 ? .parameter : .constant
        default: return .constant
        }
    }

    /// The input of the graph's final classifier: walking back from the first output through Softmax/Identity/
    /// Dropout/Flatten to a Gemm or MatMul (+ Add) whose weight is an initializer; that layer is what the new head
    /// replaces (its weight's name returned too). A graph without one is read at its output.
    public static func classifierInput(of graph: OnnxGraph) -> (value: String, classifierWeight: String?) {
        guard let output = graph.outputs.first?.name else { return ("", nil) }
        let producer = graph.producerIndex.mapValues { graph.nodes[$0] }
        var v = output
        while let n = producer[v], ["Softmax", "LogSoftmax", "Identity", "Dropout"].contains(n.opType), let i = n.inputs.first { v = i }
        guard var n = producer[v] else { return (output, nil) }
        if n.opType == "Add", n.inputs.count == 2 {
            let (a, b) = (n.inputs[0], n.inputs[1])
            let other = graph.initializers[b] != nil ? a : (graph.initializers[a] != nil ? b : nil)
            guard let other, let mm = producer[other], mm.opType == "MatMul" else { return (output, nil) }
            n = mm
        }
        guard n.opType == "Gemm" || n.opType == "MatMul", n.inputs.count >= 2, graph.initializers[n.inputs[1]] != nil else { return (output, nil) }
        return (n.inputs[0], n.inputs[1])
    }
}
