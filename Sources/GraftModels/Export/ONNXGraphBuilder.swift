import Foundation
import GraftNN
import GraftTensor
import GraftWeights

/// Builds an ONNX graph (the generated `Onnx_*` types of onnx.proto) node by node: the writer behind
/// `graft export --format onnx`. Values are named by the nodes that make them; initializers carry
/// Graft's fp32 weights as little-endian `raw_data`. Opset 17 (LayerNormalization, ReduceSum with axes
/// as an input) is what ONNX Runtime and every current importer read.
public struct ONNXGraphBuilder {
    public static let opset: Int64 = 17
    public internal(set) var graph = Onnx_GraphProto()
    var used: [String: Int] = [:]   // internal: ImportedGraph+ONNX.swift registers a source graph's names
    /// State-dict keys of the exported modules' tensors: an initializer is named by its key when it has one.
    private var keys: [ObjectIdentifier: String] = [:]
    /// The IR and default-domain opset of an imported graph (`importing`): its nodes keep their meaning.
    var sourceVersions: (ir: Int64, opset: Int64)?

    public init(name: String) { graph.name = name }

    /// Names the initializers made from `module`'s parameters and buffers by their state-dict keys.
    public mutating func nameTensors(of module: Module, prefix: String = "") {
        for (key, t) in module.stateDict() { keys[ObjectIdentifier(t)] = prefix + key }
    }

    /// A fresh value name starting with `hint` (node outputs and initializers share one namespace).
    public mutating func unique(_ hint: String) -> String {
        let n = used[hint, default: 0]
        used[hint] = n + 1
        return n == 0 ? hint : "\(hint)_\(n)"
    }

    /// The state-dict key `nameTensors(of:)` gave `tensor`.
    public func key(of tensor: Tensor) -> String? { keys[ObjectIdentifier(tensor)] }

    /// An fp32 initializer with `shape` (Graft's row-major order is ONNX's).
    @discardableResult
    public mutating func constant(_ hint: String, shape: [Int], values: [Float]) -> String {
        precondition(shape.reduce(1, *) == values.count, "initializer \(hint): \(values.count) values for shape \(shape)")
        return initializer(hint, shape: shape, raw: values.withUnsafeBytes { Data($0) })
    }

    /// fp32 `raw_data` (x86-64 and arm64 are little-endian, as raw_data is).
    private mutating func initializer(_ hint: String, shape: [Int], raw: Data) -> String {
        var t = Onnx_TensorProto()
        t.name = unique(hint)
        t.dims = shape.map(Int64.init)
        t.dataType = Int32(Onnx_TensorProto.DataType.float.rawValue)
        t.rawData = raw
        graph.initializer.append(t)
        return t.name
    }

    public mutating func constant(_ hint: String, _ tensor: Tensor) -> String {
        // One copy, straight from the tensor's storage into raw_data.
        initializer(keys[ObjectIdentifier(tensor)] ?? hint, shape: tensor.shape,
                    raw: Data(bytes: tensor.pointer, count: tensor.count * MemoryLayout<Float>.size))
    }

    /// An int64 initializer (shapes, axes, indices).
    public mutating func int64s(_ hint: String, _ values: [Int], shape: [Int]? = nil) -> String {
        var t = Onnx_TensorProto()
        t.name = unique(hint)
        t.dims = (shape ?? [values.count]).map(Int64.init)
        t.dataType = Int32(Onnx_TensorProto.DataType.int64.rawValue)
        t.int64Data = values.map(Int64.init)
        graph.initializer.append(t)
        return t.name
    }

    /// Adds `op` and returns its (first) output's name.
    @discardableResult
    public mutating func node(_ op: String, _ inputs: [String], _ attributes: [Onnx_AttributeProto] = [], name hint: String? = nil,
                              outputs: Int = 1) -> String {
        let base = unique(hint ?? op.lowercased())
        var n = Onnx_NodeProto()
        n.opType = op
        n.name = base
        n.input = inputs
        n.output = outputs == 1 ? [base] : (0..<outputs).map { "\(base):\($0)" }
        n.attribute = attributes
        graph.node.append(n)
        return n.output[0]
    }

    /// Renames the graph output `value` to `name` with an Identity node, and declares it.
    public mutating func output(_ value: String, as name: String, elementType: Onnx_TensorProto.DataType = .float, dims: [ONNXDim]) {
        let out = node("Identity", [value], name: name)
        graph.output.append(Self.valueInfo(out, elementType: elementType, dims: dims))
    }

    public mutating func input(_ name: String, elementType: Onnx_TensorProto.DataType = .float, dims: [ONNXDim]) -> String {
        let n = unique(name)
        graph.input.append(Self.valueInfo(n, elementType: elementType, dims: dims))
        return n
    }

    static func valueInfo(_ name: String, elementType: Onnx_TensorProto.DataType, dims: [ONNXDim]) -> Onnx_ValueInfoProto {
        var shape = Onnx_TensorShapeProto()
        shape.dim = dims.map { d in
            var dim = Onnx_TensorShapeProto.Dimension()
            switch d {
            case let .fixed(v): dim.dimValue = Int64(v)
            case let .named(s): dim.dimParam = s
            }
            return dim
        }
        var tensor = Onnx_TypeProto.Tensor()
        tensor.elemType = Int32(elementType.rawValue)
        tensor.shape = shape
        var type = Onnx_TypeProto()
        type.tensorType = tensor
        var info = Onnx_ValueInfoProto()
        info.name = name
        info.type = type
        return info
    }

    /// The whole model: this graph, opset 17 (or the imported graph's, `importing`), the producer, and `metadata` as `metadata_props`.
    public func model(metadata: [(String, String)], producerVersion: String) -> Onnx_ModelProto {
        var m = Onnx_ModelProto()
        m.irVersion = sourceVersions?.ir ?? 8   // the IR of opset 17
        m.producerName = "graft"
        m.producerVersion = producerVersion
        var op = Onnx_OperatorSetIdProto()
        op.domain = ""
        op.version = sourceVersions?.opset ?? Self.opset
        m.opsetImport = [op]
        m.graph = graph
        m.metadataProps = metadata.map { var e = Onnx_StringStringEntryProto(); e.key = $0.0; e.value = $0.1; return e }
        return m
    }
}

/// One dimension of a graph input or output: a size, or a symbol (`N`, `L`) left to the caller.
public enum ONNXDim: Sendable {
    case fixed(Int)
    case named(String)
}

/// Node attributes (ONNX's `AttributeProto` by type).
public enum ONNXAttribute {
    public static func int(_ name: String, _ v: Int) -> Onnx_AttributeProto {
        var a = Onnx_AttributeProto(); a.name = name; a.type = .int; a.i = Int64(v); return a
    }
    public static func ints(_ name: String, _ v: [Int]) -> Onnx_AttributeProto {
        var a = Onnx_AttributeProto(); a.name = name; a.type = .ints; a.ints = v.map(Int64.init); return a
    }
    public static func float(_ name: String, _ v: Float) -> Onnx_AttributeProto {
        var a = Onnx_AttributeProto(); a.name = name; a.type = .float; a.f = v; return a
    }
}
