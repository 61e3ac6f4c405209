import Foundation
import GraftNN
import GraftTensor
import GraftWeights

extension ONNXGraphBuilder {
    /// Starts an export from an imported ONNX file (a bundle on an ONNX backbone): the source's nodes that compute
    /// `value` from its image input, in their order, the initializers they read (those named in `replacing`
    /// written with the trained values of a fine-tune), and the input renamed `input`. The source's IR and opset
    /// are kept, so its nodes mean what they meant; what the caller appends (pooling, Gemm, Softmax) reads
    /// the same from opset 11 to 18.
    public static func importing(_ file: URL, upTo value: String, input: String, replacing: [String: Tensor]) throws -> ONNXGraphBuilder {
        let path = file.path
        let data: Data
        do { data = try Data(contentsOf: file, options: .alwaysMapped) } catch {
            throw OnnxError.malformed(file: path, reason: "cannot read: \(error.localizedDescription)")
        }
        let model = try OnnxGraph.modelProto(serializedBytes: data, file: path)
        let source = model.graph
        let initializerNames = Set(source.initializer.map(\.name))
        guard let image = source.input.first(where: { !initializerNames.contains($0.name) }) else { throw OnnxError.noGraph(file: path) }
        var producer: [String: Int] = [:]
        for (i, n) in source.node.enumerated() { for o in n.output where !o.isEmpty { producer[o] = i } }
        guard producer[value] != nil || value == image.name else {
            throw OnnxError.unknownValue(file: path, name: value, known: Array(producer.keys.sorted().prefix(20)))
        }
        let needed = OnnxGraph.ancestors(of: [value], producer: producer) { source.node[$0].input }
        var g = ONNXGraphBuilder(name: source.name)
        g.sourceVersions = (model.irVersion, model.opsetImport.first { $0.domain.isEmpty || $0.domain == "ai.onnx" }?.version ?? Self.opset)
        var read = Set<String>()
        for i in needed.sorted() {
            var n = source.node[i]
            n.input = n.input.map { $0 == image.name ? input : $0 }
            read.formUnion(n.input)
            for o in n.output where !o.isEmpty { g.used[o] = 1 }
            if !n.name.isEmpty { g.used[n.name] = 1 }
            g.graph.node.append(n)
        }
        for var t in source.initializer where read.contains(t.name) {
            if let trained = replacing[t.name] {
                guard trained.shape.map(Int64.init) == t.dims || (t.dims.isEmpty && trained.count == 1) else {
                    throw OnnxError.invalidTensor(file: path, tensor: t.name, reason: "the trained tensor is \(trained.shape), the graph's \(t.dims)")
                }
                t = Self.floatTensor(t.name, dims: t.dims, trained)
            }
            g.used[t.name] = 1
            g.graph.initializer.append(t)
        }
        var declared = image
        declared.name = input
        g.used[input] = 1
        g.graph.input = [declared]
        return g
    }

    static func floatTensor(_ name: String, dims: [Int64], _ t: Tensor) -> Onnx_TensorProto {
        var p = Onnx_TensorProto()
        p.name = name
        p.dims = dims
        p.dataType = Int32(Onnx_TensorProto.DataType.float.rawValue)
        p.rawData = Data(bytes: t.pointer, count: t.count * MemoryLayout<Float>.size)
        return p
    }
}
