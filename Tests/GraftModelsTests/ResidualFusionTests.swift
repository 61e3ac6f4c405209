import GraftModels
import GraftNN
import GraftTensor
import XCTest

/// The inference path folds each residual add (and ResNet's ReLU after it)
/// into the block's last convolution and writes into the block input's buffer
/// when the model's own loop owns it. These tests check that this changes no
/// value: fused (no tape) and taped forwards agree at every cut point, the
/// caller's input and a public block call's input stay intact, and a second
/// forward gives the same result.
final class ResidualFusionTests: XCTestCase {
    /// Random batch-norm statistics and affine parameters, so folding is not the identity.
    func randomizeBatchNorms(_ model: Module, seed: UInt64) {
        var g = SeededGenerator(seed: seed)
        for (key, t) in model.stateDict() where key.contains("running_") || (key.contains("bn") && !key.contains("num_batches")) {
            let values = key.hasSuffix("running_var") ? Tensor.uniform([t.count], low: 0.5, high: 1.5, generator: &g)
                : Tensor.uniform([t.count], low: -0.5, high: 0.5, generator: &g)
            t.pointer.update(from: values.pointer, count: t.count)
            t.storage.markModified()
        }
    }

    func maxAbsDiff(_ a: Tensor, _ b: Tensor) -> Float { zip(a.values, b.values).map { abs($0 - $1) }.max() ?? .infinity }

    func check(_ model: some ImageBackbone & Module, input size: Int, cuts: [String?], file: StaticString = #filePath, line: UInt = #line) throws {
        randomizeBatchNorms(model, seed: 3)
        var g = SeededGenerator(seed: 5)
        let x = Tensor.uniform([2, size, size, 3], low: -2, high: 2, generator: &g)
        let original = x.values
        for cut in cuts {
            let fused = try withNoGrad { try model.forward(x, upTo: cut, training: false) }
            let again = try withNoGrad { try model.forward(x, upTo: cut, training: false) }
            let taped = try model.forward(x, upTo: cut, training: false)   // parameters want gradients: separate ops
            let scale = max(1e-3, taped.values.map(abs).max() ?? 0)
            let what = "\(model.architecture) \(cut ?? "logits")"
            XCTAssertEqual(fused.shape, taped.shape, what, file: file, line: line)
            XCTAssertLessThanOrEqual(maxAbsDiff(fused, taped), 1e-4 * scale, "\(what): fused vs taped", file: file, line: line)
            XCTAssertEqual(fused.values, again.values, "\(what): a second forward differs", file: file, line: line)
            XCTAssertEqual(x.values, original, "\(what): the caller's input was written", file: file, line: line)
        }
    }

    func testResNetBottleneck() throws {
        let model = try ResNet(.init(name: "resnet-small", block: .bottleneck, layers: [2, 2, 1, 1], widths: [8, 16, 16, 32], numClasses: 10))
        try check(model, input: 64, cuts: ["layer1.0", "layer1.1", "layer2", nil])
        // A block called on its own leaves its input alone (identity shortcut: layer1.1).
        let h = try withNoGrad { try model.forward(Tensor.ones([1, 64, 64, 3]), upTo: "layer1.0", training: false) }
        let before = h.values
        let block = model.layers[0].items[1]
        let out = try withNoGrad { try block.forward(h, training: false) }
        XCTAssertEqual(h.values, before)
        XCTAssertFalse(out.storage === h.storage)
    }

    func testResNetBasic() throws {
        let model = try ResNet(.init(name: "resnet-basic-small", block: .basic, layers: [2, 1, 1, 1], widths: [8, 16, 16, 32], numClasses: 10))
        try check(model, input: 48, cuts: ["layer1.1", nil])
    }

    func testMobileNetV2() throws {
        let model = try MobileNetV2(.init(widthMultiplier: 0.25, numClasses: 10))
        try check(model, input: 64, cuts: ["features.3", "features.5", nil])
    }

    func testEfficientNetLite0() throws {
        let model = EfficientNetLite(try .lite(0, numClasses: 10))
        try check(model, input: 64, cuts: ["block2", "block4", nil])
    }
}
