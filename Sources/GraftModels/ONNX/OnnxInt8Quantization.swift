import Foundation
import GraftWeights

/// Post-training static quantization of an imported ONNX graph (`graft quantize --model model.onnx`,
/// docs/PRECISION.md "int8 for imported ONNX graphs"): the quantized model is the same ONNX file with the calibrated
/// input range of each convolution in its `metadata_props`, under the keys of Graft's own quantized files
/// (`Int8Quantization`), the ranges keyed by each Conv node's output value. The graph, its fp32 weights included, is
/// unchanged, so the file still runs in fp32 anywhere (ONNX Runtime ignores metadata); `OnnxModel` reads the ranges
/// and computes those convolutions in int8 under `--precision int8` (inverted-residual blocks as int8 chains).
public enum OnnxInt8Quantization {
    /// True when `graph` carries a quantization `graft quantize` wrote.
    public static func isQuantized(_ graph: OnnxGraph) -> Bool {
        graph.metadata[Int8Quantization.formatKey] == "int8"
    }

    /// The ranges a quantized graph records; a key that names no Conv node's output, or a range that is not
    /// [min, max], is a typed error naming the file and key.
    public static func ranges(in graph: OnnxGraph) throws -> [String: (min: Float, max: Float)] {
        let ranges = try Int8Quantization.parseRanges(graph.metadata, source: graph.file)
        let convs = Set(graph.nodes.filter { $0.opType == "Conv" }.compactMap(\.outputs.first))
        if let stray = ranges.keys.sorted().first(where: { !convs.contains($0) }) {
            throw ModelError.invalidConfig("\(graph.file): \(Int8Quantization.rangesKey) names '\(stray)', which is not the output of a Conv node of this graph")
        }
        return ranges
    }

    /// Writes `source` (an ONNX file) to `url` (atomically) with `ranges` as its quantization; any quantization the
    /// source carried is replaced, every other metadata entry kept. `weights` `.s8` stores each Conv node's fp32
    /// weight initializer as s8 codes with one fp32 scale per output channel (as `Int8Quantization.s8Codes`, the
    /// native files' rule) and turns them back into that weight inside the graph with standard operators,
    /// `Cast(codes, FLOAT) * scales`, so the file stays valid ONNX for any runtime (they fold the two into a constant
    /// at load, as Graft does); `.fp32` leaves the graph as it was.
    public static func write(_ source: URL, ranges: [String: (min: Float, max: Float)], weights: Int8WeightStorage = .s8,
                             to url: URL) throws {
        guard !ranges.isEmpty else { throw ModelError.invalidConfig("\(source.path): no calibrated convolution to write") }
        let bytes: Data
        do { bytes = try Data(contentsOf: source, options: .alwaysMapped) } catch {
            throw OnnxError.malformed(file: source.path, reason: "cannot read: \(error.localizedDescription)")
        }
        var model = try OnnxGraph.modelProto(serializedBytes: bytes, file: source.path)
        if weights == .s8 { try storeConvolutionWeightsAsCodes(&model, graph: OnnxGraph(model, file: source.path)) }
        let entries = [Int8Quantization.formatKey: "int8", Int8Quantization.architectureKey: "onnx",
                       Int8Quantization.rangesKey: try Int8Quantization.rangesJSON(ranges),
                       Int8Quantization.calibrationKey: Int8Quantization.calibrationMethod,
                       Int8Quantization.weightsKey: weights.rawValue]
        model.metadataProps.removeAll { entries[$0.key] != nil }
        for (key, value) in entries.sorted(by: { $0.key < $1.key }) {
            var entry = Onnx_StringStringEntryProto()
            entry.key = key; entry.value = value
            model.metadataProps.append(entry)
        }
        try AtomicFile.write(model.encoded(), to: url)
    }

    /// Each fp32 rank-4 initializer a Conv node reads as its weight becomes `<name>_s8` (INT8 codes) and `<name>_scale`
    /// (FLOAT [O, 1, 1, 1]) with `Cast` and `Mul` nodes, placed first, producing `<name>` again. Weights already
    /// produced by nodes (a file quantized before) stay as they are.
    private static func storeConvolutionWeightsAsCodes(_ model: inout Onnx_ModelProto, graph: OnnxGraph) throws {
        var taken = Set(model.graph.node.flatMap { $0.output + $0.input } + model.graph.initializer.map(\.name) + model.graph.input.map(\.name))
        func fresh(_ name: String) -> String {
            var candidate = name, i = 1
            while taken.contains(candidate) { candidate = "\(name)_\(i)"; i += 1 }
            taken.insert(candidate)
            return candidate
        }
        let weightNames = Set(model.graph.node.filter { $0.opType == "Conv" && $0.input.count >= 2 }.map { $0.input[1] })
        var nodes: [Onnx_NodeProto] = [], coded = Set<String>()
        for (i, initializer) in model.graph.initializer.enumerated() where weightNames.contains(initializer.name) {
            guard let data = graph.initializers[initializer.name], data.shape.count == 4, data.shape[0] > 0,
                  case let .float(values) = data.values else { continue }
            let name = initializer.name, outChannels = data.shape[0]
            let (codes, scales) = Int8Quantization.s8Codes(values, outChannels: outChannels)
            var q = Onnx_TensorProto()
            q.name = fresh(name + "_s8"); q.dims = initializer.dims; q.dataType = 3   // INT8
            q.rawData = codes.withUnsafeBufferPointer { Data(buffer: $0) }
            var scale = Onnx_TensorProto()
            scale.name = fresh(name + "_scale"); scale.dims = [Int64(outChannels), 1, 1, 1]; scale.dataType = 1   // FLOAT
            scale.rawData = scales.withUnsafeBufferPointer { Data(buffer: $0) }
            var cast = Onnx_NodeProto()
            cast.opType = "Cast"; cast.name = fresh(name + "_dequantize_cast"); cast.input = [q.name]
            cast.output = [fresh(name + "_s8_float")]
            var to = Onnx_AttributeProto()
            to.name = "to"; to.type = .int; to.i = 1
            cast.attribute = [to]
            var mul = Onnx_NodeProto()
            mul.opType = "Mul"; mul.name = fresh(name + "_dequantize_mul"); mul.input = [cast.output[0], scale.name]; mul.output = [name]
            nodes += [cast, mul]
            model.graph.initializer[i] = q
            model.graph.initializer.append(scale)
            coded.insert(name)
        }
        // A value a node produces cannot be a graph input too (IR < 4 lists initializers among the inputs).
        model.graph.input.removeAll { coded.contains($0.name) }
        model.graph.node.insert(contentsOf: nodes, at: 0)
    }
}
