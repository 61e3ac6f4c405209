import Foundation
import GraftData
import GraftTensor
import GraftWeights
import XCTest
@testable import GraftTransfer

/// OnnxBackbone runs every forward at one shape, as CNNBackbone does: a short batch padded to the extraction's
/// batch size, and a graph exported with a fixed batch size (PP-OCR's are 1) in chunks of that size.
final class OnnxBackboneBatchTests: XCTestCase {
    var tmp: URL!
    override func setUp() { tmp = FileManager.default.temporaryDirectory.appendingPathComponent("graft-onnx-batch-\(UUID().uuidString)") }
    override func tearDown() { try? FileManager.default.removeItem(at: tmp) }

    /// x [batch, 3, 8, 8] -> GlobalAveragePool -> y: features are each image's channel means.
    func channelMeans(batch: Int64?) throws -> URL {
        var x = Onnx_ValueInfoProto(); x.name = "x"
        var tt = Onnx_TypeProto.Tensor(); tt.elemType = 1
        var shape = Onnx_TensorShapeProto()
        shape.dim = [batch, 3, 8, 8].map { d in
            var v = Onnx_TensorShapeProto.Dimension()
            if let d { v.dimValue = d } else { v.dimParam = "batch" }
            return v
        }
        tt.shape = shape; x.type.tensorType = tt
        var n = Onnx_NodeProto(); n.opType = "GlobalAveragePool"; n.input = ["x"]; n.output = ["y"]; n.name = "pool"
        var g = Onnx_GraphProto(); g.node = [n]; g.input = [x]
        var y = Onnx_ValueInfoProto(); y.name = "y"; g.output = [y]
        var m = Onnx_ModelProto(); m.irVersion = 8
        var op = Onnx_OperatorSetIdProto(); op.version = 17; m.opsetImport = [op]
        m.graph = g
        try FileManager.default.createDirectory(at: tmp, withIntermediateDirectories: true)
        let url = tmp.appendingPathComponent("means-\(batch.map(String.init) ?? "any").onnx")
        try m.encoded().write(to: url)
        return url
    }

    func testShortAndFixedSizeBatchesGiveEachImageItsOwnRow() throws {
        let digits = try BuiltinDatasets.digits()
        for batchDim in [nil, 1, 2, 4] as [Int64?] {
            let backbone = try Backbones.load(.onnx(try channelMeans(batch: batchDim), preprocess: "imagenet"))
            XCTAssertEqual(try backbone.featureDimension(at: "y", pool: .avg), 3)
            let loader = BatchLoader(dataset: digits, indices: Array(0..<5), preprocessing: try XCTUnwrap(backbone.preprocessing),
                                     options: .init(batchSize: 5))
            let batch = try XCTUnwrap(try loader.next())
            guard case let .images(pixels, h, w) = batch.inputs else { return XCTFail("not images") }
            XCTAssertEqual([h, w], [8, 8])
            let expected = try Tensor(shape: [5, h * w, 3], values: pixels).mean(axes: [1])
            // 5 images padded to 8 (dynamic batch), or in chunks of 1, 2 (the last padded) or 4 (the last padded).
            let rows = try backbone.features(batch, at: "y", pool: .avg, paddedTo: 8)
            XCTAssertEqual(rows.shape, [5, 3], "batch dim \(batchDim.map(String.init) ?? "dynamic")")
            for (a, b) in zip(rows.values, expected.values) { XCTAssertEqual(a, b, accuracy: 1e-5) }
        }
    }
}
