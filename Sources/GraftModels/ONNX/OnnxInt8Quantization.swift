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
    /// source carried is replaced, every other metadata entry kept.
    public static func write(_ source: URL, ranges: [String: (min: Float, max: Float)], to url: URL) throws {
        guard !ranges.isEmpty else { throw ModelError.invalidConfig("\(source.path): no calibrated convolution to write") }
        let bytes: Data
        do { bytes = try Data(contentsOf: source, options: .alwaysMapped) } catch {
            throw OnnxError.malformed(file: source.path, reason: "cannot read: \(error.localizedDescription)")
        }
        var model = try OnnxGraph.modelProto(serializedBytes: bytes, file: source.path)
        let entries = [Int8Quantization.formatKey: "int8", Int8Quantization.architectureKey: "onnx",
                       Int8Quantization.rangesKey: try Int8Quantization.rangesJSON(ranges),
                       Int8Quantization.calibrationKey: Int8Quantization.calibrationMethod,
                       Int8Quantization.weightsKey: Int8WeightStorage.fp32.rawValue]
        model.metadataProps.removeAll { entries[$0.key] != nil }
        for (key, value) in entries.sorted(by: { $0.key < $1.key }) {
            var entry = Onnx_StringStringEntryProto()
            entry.key = key; entry.value = value
            model.metadataProps.append(entry)
        }
        try AtomicFile.write(model.encoded(), to: url)
    }
}
