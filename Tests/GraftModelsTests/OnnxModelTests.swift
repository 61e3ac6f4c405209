import Foundation
import GraftModels
import GraftTensor
import GraftWeights
import XCTest

/// OnnxModel on hand-built graphs: operator checks before running, cut points, fusion.
final class OnnxModelTests: XCTestCase {
    func node(_ op: String, _ inputs: [String], _ outputs: [String], _ name: String, ints: [String: [Int64]] = [:]) -> Onnx_NodeProto {
        var n = Onnx_NodeProto()
        n.opType = op; n.input = inputs; n.output = outputs; n.name = name
        for (k, v) in ints.sorted(by: { $0.key < $1.key }) {
            var a = Onnx_AttributeProto(); a.name = k; a.type = .ints; a.ints = v
            n.attribute.append(a)
        }
        return n
    }

    func tensor(_ name: String, _ dims: [Int64], _ values: [Float]) -> Onnx_TensorProto {
        var t = Onnx_TensorProto(); t.name = name; t.dataType = 1; t.dims = dims; t.floatData = values
        return t
    }

    func graph(_ nodes: [Onnx_NodeProto], outputs: [String], initializers: [Onnx_TensorProto] = [], input: [Int64] = [1, 2, 4, 4]) throws -> OnnxGraph {
        var g = Onnx_GraphProto()
        g.node = nodes
        var x = Onnx_ValueInfoProto(); x.name = "x"
        var tt = Onnx_TypeProto.Tensor(); tt.elemType = 1
        var shape = Onnx_TensorShapeProto()
        shape.dim = input.map { d in var v = Onnx_TensorShapeProto.Dimension(); v.dimValue = d; return v }
        tt.shape = shape; x.type.tensorType = tt
        g.input = [x]
        g.output = outputs.map { var v = Onnx_ValueInfoProto(); v.name = $0; return v }
        g.initializer = initializers
        var m = Onnx_ModelProto(); m.irVersion = 8
        var op = Onnx_OperatorSetIdProto(); op.version = 17; m.opsetImport = [op]
        m.graph = g
        return try OnnxGraph(serializedBytes: try m.serializedBytes(), file: "g.onnx")
    }

    func testUnsupportedOperatorsAreListedTogetherBeforeRunning() throws {
        let g = try graph([node("Relu", ["x"], ["a"], "r"), node("FooOp", ["a"], ["b"], "foo1"), node("BarOp", ["b"], ["c"], "bar"),
                           node("FooOp", ["c"], ["y"], "foo2")], outputs: ["y"])
        XCTAssertThrowsError(try OnnxModel(graph: g)) { e in
            XCTAssertEqual(e as? OnnxError, .unsupportedOperators(file: "g.onnx", operators: ["FooOp": ["foo1", "foo2"], "BarOp": ["bar"]]))
            XCTAssertTrue("\(e)".contains("BarOp") && "\(e)".contains("FooOp"), "\(e)")
        }
        // A cut before the unsupported part runs.
        let cut = try OnnxModel(graph: g, outputs: ["a"])
        let x = try Tensor(shape: [1, 2, 4, 4], values: (0..<32).map { Float($0) - 16 })
        XCTAssertEqual(try cut.run(["x": x])["a"]?.values, x.values.map { max($0, 0) })
        XCTAssertThrowsError(try OnnxModel(graph: g, outputs: ["nope"])) { e in
            guard case .unknownValue(_, "nope", _)? = e as? OnnxError else { return XCTFail("\(e)") }
        }
        XCTAssertEqual(OnnxModel.cutPoints(of: g).map(\.value), ["a", "b", "c", "y"])
    }

    func testFedShapeIsChecked() throws {
        let m = try OnnxModel(graph: try graph([node("Relu", ["x"], ["y"], "r")], outputs: ["y"]))
        XCTAssertThrowsError(try m.run(["x": Tensor.zeros([1, 3, 4, 4])])) { e in
            guard case .nodeFailed(_, _, "x", _)? = e as? OnnxError else { return XCTFail("\(e)") }
        }
    }

    /// Conv -> BatchNormalization -> Add(x) -> Relu fused into one convolution equals the same nodes
    /// run one by one (asking for every intermediate value disables fusion).
    func testConvBatchNormAddReluFusionEqualsUnfused() throws {
        var gen = SeededGenerator(seed: 3)
        func r(_ n: Int, _ lo: Float = -1, _ hi: Float = 1) -> [Float] { Tensor.uniform([n], low: lo, high: hi, generator: &gen).values }
        let inits = [tensor("w", [2, 2, 3, 3], r(36)), tensor("b", [2], r(2)), tensor("g", [2], r(2, 0.5, 1.5)), tensor("beta", [2], r(2)),
                     tensor("m", [2], r(2)), tensor("v", [2], r(2, 0.5, 1.5))]
        let nodes = [node("Conv", ["x", "w", "b"], ["c"], "conv", ints: ["pads": [1, 1, 1, 1]]),
                     node("BatchNormalization", ["c", "g", "beta", "m", "v"], ["n"], "bn"),
                     node("Add", ["n", "x"], ["s"], "add"), node("Relu", ["s"], ["y"], "relu")]
        let g = try graph(nodes, outputs: ["y"], initializers: inits)
        let x = try Tensor(shape: [1, 2, 4, 4], values: r(32, -2, 2))
        let fused = try OnnxModel(graph: g).run(["x": x])["y"]!
        let unfused = try OnnxModel(graph: g, outputs: ["c", "n", "s", "y"]).run(["x": x])["y"]!
        XCTAssertEqual(fused.shape, [1, 2, 4, 4])
        for (a, b) in zip(fused.values, unfused.values) { XCTAssertEqual(a, b, accuracy: 1e-5) }
        XCTAssertTrue(fused.values.contains { $0 > 0 } && fused.values.contains { $0 == 0 })
    }
}
