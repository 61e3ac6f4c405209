import Foundation
import GraftData
import GraftModels
import GraftNN
import GraftTensor
import GraftTransfer
import XCTest

/// `OnnxBackbone.network`: what the job path trains for an imported graph, and what a bundle rebuilds from its
/// `BackboneSpec` (file, preprocessing, `unfreezeFrom`) and state dict. The step's values are checked against
/// PyTorch in GraftModelsTests/OnnxFineTuneParityTests.
final class OnnxFineTuneNetworkTests: XCTestCase {
    static let onnx = FixturePaths.fixtures.appendingPathComponent("onnx/resnet-basic.onnx")
    static let layer4 = "/layer4/layer4.0/conv1/Conv"

    func network(from start: String?, unfreeze: Int? = 0, outputs: Int = 3) throws -> TaskNetwork {
        let spec = BackboneSpec.onnx(Self.onnx, preprocess: "imagenet", unfreezeFrom: start)
        return try Backbones.load(spec).network(outputs: outputs, unfreeze: unfreeze, seed: 5)
    }

    func batch(_ count: Int, side: Int = 64, seed: UInt64 = 3) throws -> Batch {
        var g = SeededGenerator(seed: seed)
        return Batch.images(Tensor.uniform([count * side * side * 3], low: -2, high: 2, generator: &g).values, side: side, count: count)
    }

    func testTrainsLayer4AndTheNewHead() throws {
        let net = try network(from: Self.layer4, unfreeze: 2)   // --unfreeze-from replaces the block count
        let linear = try XCTUnwrap(net as? OnnxTaskNetwork)
        let (head, trunk) = net.trainableParameters()
        XCTAssertEqual(head.count, 2)
        XCTAssertEqual(trunk.count, 10)   // layer4: 5 convolutions (BN folded by the export), weight + bias each
        XCTAssertEqual(linear.head.inFeatures, 64)
        XCTAssertEqual(net.module.namedParameters().map(\.0).suffix(2), ["fc.weight", "fc.bias"])
        let out = try net.outputs(batch(4), training: true)
        XCTAssertEqual(out.shape, [4, 3])
        let loss = try out.crossEntropy(labels: IndexTensor([0, 1, 2, 0]))
        try loss.backward()
        for (key, p) in net.module.namedParameters() {
            XCTAssertGreaterThan(p.grad?.values.map(abs).max() ?? 0, 0, "\(key) got no gradient")
        }
    }

    /// Without `--unfreeze-from`: `--unfreeze 0` trains the head alone on the classifier's input, `all` every node,
    /// a block count is refused with the way to name a node.
    func testWithoutAStartNode() throws {
        XCTAssertEqual(try network(from: nil, unfreeze: 0).trainableParameters().trunk.count, 0)
        XCTAssertEqual(try network(from: nil, unfreeze: nil).trainableParameters().trunk.count, 40)   // every conv: 20 x (weight, bias)
        XCTAssertThrowsError(try network(from: nil, unfreeze: 2)) { error in
            XCTAssertTrue("\(error)".contains("--unfreeze-from"), "\(error)")
        }
    }

    /// What a bundle does: the spec (with its start node) survives JSON, a network rebuilt from it reads the state dict
    /// and computes the trained network's outputs.
    func testStateDictAndSpecRebuildTheTrainedNetwork() throws {
        let spec = BackboneSpec.onnx(Self.onnx, preprocess: "imagenet", unfreezeFrom: Self.layer4)
        let decoded = try JSONDecoder().decode(BackboneSpec.self, from: JSONEncoder().encode(spec))
        XCTAssertEqual(decoded, spec)
        XCTAssertEqual(decoded.unfreezeFrom, Self.layer4)

        let trained = try Backbones.load(spec).network(outputs: 3, unfreeze: nil, seed: 5)
        let x = try batch(2)
        let loss = try trained.outputs(x, training: true).crossEntropy(labels: IndexTensor([1, 2]))
        try loss.backward()
        let params = trained.module.trainableParameters.map(\.1)
        try SGD([ParameterGroup(params)], learningRate: 0.5).step()
        let want = try withNoGrad { try trained.outputs(x, training: false) }

        let file = FileManager.default.temporaryDirectory.appendingPathComponent("onnx-ft-\(UUID().uuidString).safetensors")
        defer { try? FileManager.default.removeItem(at: file) }
        try StateDictFile.write(trained.module, to: file)
        let rebuilt = try Backbones.load(decoded, weights: false).network(outputs: 3, unfreeze: 0, seed: 0)
        let before = try withNoGrad { try rebuilt.outputs(x, training: false) }
        XCTAssertGreaterThan(zip(before.values, want.values).map { abs($0 - $1) }.max() ?? 0, 1e-3, "the step changed nothing")
        _ = try StateDictFile.read(into: rebuilt.module, from: file)
        let got = try withNoGrad { try rebuilt.outputs(x, training: false) }
        XCTAssertEqual(got.values, want.values)
    }
}
