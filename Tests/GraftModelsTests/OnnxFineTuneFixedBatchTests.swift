import Foundation
import GraftModels
import GraftNN
import GraftTensor
import GraftWeights
import XCTest

/// A graph exported with a fixed batch size (PP-OCR's are 1) fine-tunes at any batch size: `OnnxFineTuneModel`
/// runs it in chunks of its size, the last padded, and the features and gradients equal those of the same graph
/// with a dynamic batch.
final class OnnxFineTuneFixedBatchTests: XCTestCase {
    /// x [batch, 3, 8, 8] -> Conv 1x1 (4 filters, seeded) -> Relu -> GlobalAveragePool -> Reshape to [batch, 4] -> y,
    /// the batch written into the Reshape's shape as fixed-batch exports write it (-1 when dynamic).
    func graph(batch: Int64?) throws -> OnnxGraph {
        func info(_ name: String, _ dims: [Int64?]) -> Onnx_ValueInfoProto {
            var v = Onnx_ValueInfoProto(); v.name = name
            var tt = Onnx_TypeProto.Tensor(); tt.elemType = 1
            var shape = Onnx_TensorShapeProto()
            shape.dim = dims.map { d in
                var dim = Onnx_TensorShapeProto.Dimension()
                if let d { dim.dimValue = d } else { dim.dimParam = "batch" }
                return dim
            }
            tt.shape = shape; v.type.tensorType = tt
            return v
        }
        func node(_ op: String, _ inputs: [String], _ output: String) -> Onnx_NodeProto {
            var n = Onnx_NodeProto(); n.opType = op; n.input = inputs; n.output = [output]; n.name = output
            return n
        }
        var g = SeededGenerator(seed: 11)
        var w = Onnx_TensorProto(); w.name = "conv.weight"; w.dims = [4, 3, 1, 1]; w.dataType = 1
        w.floatData = Tensor.uniform([12], low: -1, high: 1, generator: &g).values
        var b = Onnx_TensorProto(); b.name = "conv.bias"; b.dims = [4]; b.dataType = 1
        b.floatData = [0.1, -0.2, 0.3, 0]
        var shape = Onnx_TensorProto(); shape.name = "shape"; shape.dims = [2]; shape.dataType = 7
        shape.int64Data = [batch ?? -1, 4]
        var graph = Onnx_GraphProto()
        graph.node = [node("Conv", ["x", "conv.weight", "conv.bias"], "c"), node("Relu", ["c"], "r"), node("GlobalAveragePool", ["r"], "p"), node("Reshape", ["p", "shape"], "y")]
        graph.initializer = [w, b, shape]
        graph.input = [info("x", [batch, 3, 8, 8])]
        graph.output = [info("y", [batch, 4])]
        var m = Onnx_ModelProto(); m.irVersion = 8
        var op = Onnx_OperatorSetIdProto(); op.version = 17; m.opsetImport = [op]
        m.graph = graph
        return try OnnxGraph(serializedBytes: m.serializedData(), file: "fixed-\(batch.map(String.init) ?? "any").onnx")
    }

    func testFixedBatchGraphTrainsAtAnyBatchSize() throws {
        var g = SeededGenerator(seed: 3)
        let x = Tensor.uniform([5, 8, 8, 3], low: -1, high: 1, generator: &g)   // 5 images: chunks of 2, 2 and 1 padded
        var results: [(features: [Float], grads: [Float])] = []
        for batch in [nil, 2, 1] as [Int64?] {
            var h = SeededGenerator(seed: 7)
            let model = try OnnxFineTuneModel(graph: graph(batch: batch), start: "c", outputs: 2, features: 4, generator: &h)
            let features = try model.features(x)
            XCTAssertEqual(features.shape, [5, 4])
            let loss = try model.classifier.forward(features, training: true).crossEntropy(labels: IndexTensor([0, 1, 0, 1, 1]))
            try loss.backward()
            let weight = try XCTUnwrap(model.namedParameters().first { $0.0 == "conv.weight" }?.1)
            results.append((features.values, try XCTUnwrap(weight.grad).values))
        }
        XCTAssertGreaterThan(results[0].grads.map(abs).max() ?? 0, 1e-4)
        for r in results.dropFirst() {
            for (a, b) in zip(r.features, results[0].features) { XCTAssertEqual(a, b, accuracy: 1e-6) }
            for (a, b) in zip(r.grads, results[0].grads) { XCTAssertEqual(a, b, accuracy: 1e-6) }
        }
    }
}
