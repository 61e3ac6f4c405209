import Foundation
import SwiftProtobuf

/// An ONNX model's graph, parsed with the code generated from the official `onnx.proto`
/// (Generated/onnx.pb.swift) and validated: nodes in topological order, every input produced by a
/// node, a graph input or an initializer, every output produced, tensors consistent with their dims.
/// What an executor needs and nothing more; the weights-only reader (OnnxReader) stays separate
/// because it maps `raw_data` without copying, which the generated code cannot do.
public struct OnnxGraph: Sendable {
    public enum Attribute: Sendable, Equatable {
        case int(Int), float(Float), string(String), ints([Int]), floats([Float]), strings([String])
        case tensor(OnnxTensorData)
        /// A subgraph (If, Loop, Scan): kept by name only; no operator here runs one.
        case graph
    }

    public struct Node: Sendable {
        /// The node's name, or "<op_type>_<index>" when the file gives none.
        public var name: String
        public var opType: String
        public var domain: String
        /// Input value names in order; "" marks an omitted optional input.
        public var inputs: [String]
        public var outputs: [String]
        public var attributes: [String: Attribute]
    }

    /// A graph input or output: its name, element type and dims (nil where symbolic or unknown).
    public struct ValueInfo: Sendable, Equatable {
        public var name: String
        public var elementType: Int32
        public var dims: [Int?]?
    }

    public var file: String
    /// Nodes in an order where every node comes after the producers of its inputs.
    public var nodes: [Node]
    /// Inputs the caller feeds (graph inputs that no initializer supplies).
    public var inputs: [ValueInfo]
    public var outputs: [ValueInfo]
    public var initializers: [String: OnnxTensorData]
    /// Version of the default ("" / "ai.onnx") operator set.
    public var opsetVersion: Int
    public var producer: String
    /// The model's `metadata_props` (a key given twice: the last value), e.g. `graft quantize`'s int8 ranges.
    public var metadata: [String: String]

    public init(contentsOf url: URL) throws {
        let data: Data
        do { data = try Data(contentsOf: url, options: .alwaysMapped) } catch {
            throw OnnxError.malformed(file: url.path, reason: "cannot read: \(error.localizedDescription)")
        }
        try self.init(serializedBytes: data, file: url.path)
    }

    public init(serializedBytes data: Data, file: String) throws {
        try self.init(Self.modelProto(serializedBytes: data, file: file), file: file)
    }

    /// The file's `ModelProto` as generated from onnx.proto, with a graph (nesting bounded: hostile files).
    public static func modelProto(serializedBytes data: Data, file: String) throws -> Onnx_ModelProto {
        let model: Onnx_ModelProto
        do {
            var options = BinaryDecodingOptions()
            options.messageDepthLimit = 64
            model = try Onnx_ModelProto(serializedBytes: data, options: options)
        } catch {
            throw OnnxError.malformed(file: file, reason: "\(error)")
        }
        guard model.hasGraph else { throw OnnxError.noGraph(file: file) }
        return model
    }

    /// The graph of an already parsed `ModelProto` (`modelProto(serializedBytes:file:)`), validated as above.
    public init(_ model: Onnx_ModelProto, file: String) throws {
        self.file = file
        let g = model.graph
        producer = model.producerName
        metadata = Dictionary(model.metadataProps.map { ($0.key, $0.value) }, uniquingKeysWith: { _, last in last })
        opsetVersion = Int(model.opsetImport.first { $0.domain.isEmpty || $0.domain == "ai.onnx" }?.version ?? 0)
        guard g.sparseInitializer.isEmpty else {
            throw OnnxError.invalidTensor(file: file, tensor: g.sparseInitializer[0].values.name, reason: "sparse initializers are not supported")
        }
        var initializers: [String: OnnxTensorData] = [:]
        for (i, t) in g.initializer.enumerated() {
            let d = try OnnxTensorData(t, file: file, fallbackName: "initializer_\(i)")
            guard initializers[d.name] == nil else { throw OnnxError.duplicateValue(file: file, name: d.name) }
            initializers[d.name] = d
        }
        self.initializers = initializers
        func info(_ v: Onnx_ValueInfoProto) -> ValueInfo {
            guard case let .tensorType(t)? = v.type.value else { return ValueInfo(name: v.name, elementType: 0, dims: nil) }
            let dims: [Int?]? = t.hasShape ? t.shape.dim.map { d in
                if case let .dimValue(x)? = d.value, x >= 0, x <= Int64(OnnxTensorData.maxElements) { return Int(x) }
                return nil
            } : nil
            return ValueInfo(name: v.name, elementType: t.elemType, dims: dims)
        }
        inputs = g.input.filter { initializers[$0.name] == nil }.map(info)
        outputs = g.output.map(info)

        var parsed: [Node] = []
        parsed.reserveCapacity(g.node.count)
        var names = Set<String>()
        for (i, n) in g.node.enumerated() {
            // Node names are optional and not always unique; errors and cut points need them to be both.
            var name = n.name.isEmpty ? "\(n.opType)_\(i)" : n.name
            if names.contains(name) { name += "#\(i)" }
            names.insert(name)
            var attributes: [String: Attribute] = [:]
            for a in n.attribute {
                attributes[a.name] = try Self.attribute(a, node: name, file: file)
            }
            parsed.append(Node(name: name, opType: n.opType, domain: n.domain, inputs: n.input, outputs: n.output, attributes: attributes))
        }
        nodes = try Self.topologicallySorted(parsed, available: Set(inputs.map(\.name)).union(initializers.keys),
                                             outputs: outputs.map(\.name), file: file)
    }

    private static func attribute(_ a: Onnx_AttributeProto, node: String, file: String) throws -> Attribute {
        switch a.type {
        case .int: return .int(Int(clamping: a.i))
        case .float: return .float(a.f)
        case .string: return .string(String(decoding: a.s, as: UTF8.self))
        case .ints: return .ints(a.ints.map { Int(clamping: $0) })
        case .floats: return .floats(a.floats)
        case .strings: return .strings(a.strings.map { String(decoding: $0, as: UTF8.self) })
        case .tensor: return .tensor(try OnnxTensorData(a.t, file: file, fallbackName: "\(node).\(a.name)"))
        case .graph, .graphs: return .graph
        default:
            // Files written without `type` (IR < 2): infer from what is set.
            if a.hasT { return .tensor(try OnnxTensorData(a.t, file: file, fallbackName: "\(node).\(a.name)")) }
            if a.hasI { return .int(Int(clamping: a.i)) }
            if a.hasF { return .float(a.f) }
            if a.hasS { return .string(String(decoding: a.s, as: UTF8.self)) }
            if !a.ints.isEmpty { return .ints(a.ints.map { Int(clamping: $0) }) }
            if !a.floats.isEmpty { return .floats(a.floats) }
            return .ints([])
        }
    }

    /// Kahn's algorithm over value names; names the first dangling input, duplicate producer or cycle.
    static func topologicallySorted(_ nodes: [Node], available graphValues: Set<String>, outputs: [String], file: String) throws -> [Node] {
        var producer: [String: Int] = [:]
        for (i, n) in nodes.enumerated() {
            for o in n.outputs where !o.isEmpty {
                guard producer[o] == nil, !graphValues.contains(o) else { throw OnnxError.duplicateValue(file: file, name: o) }
                producer[o] = i
            }
        }
        var pending = [Int](repeating: 0, count: nodes.count)
        var consumers: [Int: [Int]] = [:]
        for (i, n) in nodes.enumerated() {
            for input in n.inputs where !input.isEmpty && !graphValues.contains(input) {
                guard let p = producer[input] else { throw OnnxError.danglingInput(file: file, node: n.name, input: input) }
                pending[i] += 1
                consumers[p, default: []].append(i)
            }
        }
        for o in outputs where producer[o] == nil && !graphValues.contains(o) {
            throw OnnxError.missingOutput(file: file, output: o)
        }
        var ready = (0..<nodes.count).filter { pending[$0] == 0 }.reversed() as [Int]
        var order: [Int] = []
        order.reserveCapacity(nodes.count)
        while let i = ready.popLast() {
            order.append(i)
            for c in (consumers[i] ?? []).reversed() {
                pending[c] -= 1
                if pending[c] == 0 { ready.append(c) }
            }
        }
        guard order.count == nodes.count else {
            let stuck = (0..<nodes.count).filter { pending[$0] > 0 }.map { nodes[$0].name }
            throw OnnxError.cycle(file: file, nodes: stuck)
        }
        return order.map { nodes[$0] }
    }
}

extension OnnxGraph.Node {
    public func int(_ key: String) -> Int? { if case let .int(v)? = attributes[key] { return v }; return nil }
    public func float(_ key: String) -> Float? {
        switch attributes[key] { case let .float(v)?: return v; case let .int(v)?: return Float(v); default: return nil }
    }
    public func string(_ key: String) -> String? { if case let .string(v)? = attributes[key] { return v }; return nil }
    public func ints(_ key: String) -> [Int]? {
        switch attributes[key] { case let .ints(v)?: return v; case let .int(v)?: return [v]; default: return nil }
    }
    public func floats(_ key: String) -> [Float]? { if case let .floats(v)? = attributes[key] { return v }; return nil }
    public func tensor(_ key: String) -> OnnxTensorData? { if case let .tensor(v)? = attributes[key] { return v }; return nil }
}

extension OnnxGraph {
    /// Index in `nodes` of the node that produces each value (graph inputs and initializers have none).
    public var producerIndex: [String: Int] {
        var producer: [String: Int] = [:]
        for (i, n) in nodes.enumerated() { for o in n.outputs where !o.isEmpty { producer[o] = i } }
        return producer
    }

    /// Indices in `nodes` of the nodes `values` depend on: their producers, transitively.
    public func ancestors(of values: [String]) -> Set<Int> {
        Self.ancestors(of: values, producer: producerIndex) { nodes[$0].inputs }
    }

    /// The same walk for any node list: `producer` maps a value to its node's index, `inputs` gives a node's inputs.
    public static func ancestors(of values: [String], producer: [String: Int], inputs: (Int) -> [String]) -> Set<Int> {
        var needed = Set<Int>(), stack = values
        while let v = stack.popLast() {
            guard let i = producer[v], needed.insert(i).inserted else { continue }
            stack.append(contentsOf: inputs(i).filter { !$0.isEmpty })
        }
        return needed
    }
}
