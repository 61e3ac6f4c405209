import Foundation
import GraftModels
import GraftNN
import GraftTensor
import GraftWeights
import XCTest

/// One fine-tuning step of the imported ResNet and MobileNetV2 fixtures from a named node on, against PyTorch
/// (fixtures/onnx/make_onnx_finetune_fixtures.py: the same graph, interpreted on torch ops in float64): loss,
/// the gradient of every trainable initializer and of the new head, and every parameter after one SGD and one
/// AdamW step, each to 1e-5 of the reference's scale (AdamW: plus the gradient's tolerance propagated through its
/// first step, which amplifies it where a gradient is near zero; `assertAdamWStepClose`).
final class OnnxFineTuneParityTests: XCTestCase {
    static let dir = FixturePaths.fixtures.appendingPathComponent("onnx")

    struct Entry: Decodable { let start: String; let nodes: [String]; let parameters: [String]; let loss: Double }

    func entry(_ name: String) throws -> Entry {
        let all = try JSONDecoder().decode([String: Entry].self, from: Data(contentsOf: Self.dir.appendingPathComponent("finetune.json")))
        return try XCTUnwrap(all[name])
    }

    func graph(_ name: String) throws -> OnnxGraph { try OnnxGraph(contentsOf: Self.dir.appendingPathComponent("\(name).onnx")) }

    /// The model from `start` with the reference's head, and the reference tensors.
    func model(_ name: String, start: String?) throws -> (OnnxFineTuneModel, [String: Tensor]) {
        let ref = try loadTensors(Self.dir.appendingPathComponent("\(name).finetune.safetensors"))
        let head = try XCTUnwrap(ref["head.weight"])
        var g = SeededGenerator(seed: 1)
        let m = try OnnxFineTuneModel(graph: graph(name), start: start, outputs: head.shape[0], features: head.shape[1], generator: &g)
        try m.classifier.weight.assign(head)
        try XCTUnwrap(m.classifier.bias).assign(XCTUnwrap(ref["head.bias"]))
        return (m, ref)
    }

    /// max |a - b| <= tolerance * max |b|; returns max |a - b| / max |b|.
    @discardableResult
    func assertClose(_ got: Tensor?, _ want: Tensor?, _ what: String, tolerance: Float = 1e-5, file: StaticString = #filePath, line: UInt = #line) -> Float {
        guard let got, let want else { XCTFail("\(what): missing (got \(got != nil), reference \(want != nil))", file: file, line: line); return .infinity }
        XCTAssertEqual(got.shape, want.shape, what, file: file, line: line)
        guard got.shape == want.shape else { return .infinity }
        let scale = want.values.map(abs).max() ?? 0
        let diff = zip(got.values, want.values).map { abs($0 - $1) }.max() ?? .infinity
        XCTAssertGreaterThan(scale, 0, "\(what): degenerate reference", file: file, line: line)
        XCTAssertLessThanOrEqual(diff, tolerance * scale, "\(what): max |diff| \(diff), scale \(scale)", file: file, line: line)
        return diff / scale
    }

    /// AdamW's first step moves each weight by lr * g / (|g| + eps) (plus the exact decay): for a gradient near zero
    /// that amplifies the gradient's float32 error by up to lr / eps (1e5). So each element may differ by 1e-5 of the
    /// scale plus the gradient tolerance (1e-5 of the gradient's scale, asserted above) propagated through that
    /// step: lr * eps * tolerance / (|g| - tolerance + eps)^2. Away from zero gradients this is the plain 1e-5 check.
    func assertAdamWStepClose(_ got: Tensor, _ want: Tensor?, gradient: Tensor, _ what: String, file: StaticString = #filePath, line: UInt = #line) {
        guard let want, got.shape == want.shape, gradient.shape == want.shape else { return XCTFail("\(what): shapes", file: file, line: line) }
        let (lr, eps): (Float, Float) = (1e-3, 1e-8)
        let scale = want.values.map(abs).max() ?? 0
        let tolerance = 1e-5 * (gradient.values.map(abs).max() ?? 0)
        var worst: (excess: Float, diff: Float, g: Float) = (-.infinity, 0, 0)
        var amplified = 0
        for (i, (a, b)) in zip(got.values, want.values).enumerated() {
            let g = abs(gradient.values[i]), slack = Swift.max(g - tolerance, 0) + eps
            let propagated = lr * eps * tolerance / (slack * slack)
            if g > 0 && propagated > 1e-5 * scale { amplified += 1 }   // an exact zero moves only by the decay, on both sides
            let excess = abs(a - b) - (1e-5 * scale + propagated)
            if excess > worst.excess { worst = (excess, abs(a - b), gradient.values[i]) }
        }
        XCTAssertLessThanOrEqual(worst.excess, 0, "\(what): |diff| \(worst.diff) at gradient \(worst.g) (scale \(scale))", file: file, line: line)
        XCTAssertLessThanOrEqual(amplified, got.count / 20, "\(what): \(amplified) of \(got.count) elements have near-zero gradients", file: file, line: line)
    }

    func nhwc(_ x: Tensor) throws -> Tensor { try Tensor(shape: [x.shape[0], x.shape[2], x.shape[3], x.shape[1]], values: x.permuted([0, 2, 3, 1]).values) }

    /// The reference's key of a parameter: its initializer name, the head's as `head.*`.
    func referenceKey(_ key: String, _ m: OnnxFineTuneModel) -> String {
        key.hasPrefix(m.classifierKey + ".") ? "head" + key.dropFirst(m.classifierKey.count) : key
    }

    func checkStep(_ name: String) throws {
        let e = try entry(name)
        for optimizer in ["sgd", "adamw"] {
            let (m, ref) = try model(name, start: e.start)
            XCTAssertEqual(m.trainableNodes, e.nodes, name)
            XCTAssertEqual(m.namedParameters().map { referenceKey($0.0, m) }, e.parameters + ["head.weight", "head.bias"], name)
            let x = try nhwc(XCTUnwrap(ref["x"]))
            let labels = try XCTUnwrap(ref["labels"]).values.map { Int($0) }
            let loss = try m.forward(x, training: true).crossEntropy(labels: IndexTensor(labels))
            XCTAssertEqual(Double(loss.values[0]), e.loss, accuracy: 1e-5 * e.loss, "\(name) loss")
            try loss.backward()
            var worst: Float = 0
            for (key, p) in m.namedParameters() {
                worst = Swift.max(worst, assertClose(p.grad, ref["grad.\(referenceKey(key, m))"], "\(name) gradient of \(key)"))
            }
            let params = m.trainableParameters.map(\.1)
            XCTAssertEqual(params.count, e.parameters.count + 2)
            let step: any Optimizer = optimizer == "sgd"
                ? SGD([ParameterGroup(params)], learningRate: 0.1, momentum: 0.9)
                : AdamW([ParameterGroup(params, weightDecay: 0.01)], learningRate: 1e-3)
            try step.step()
            for (key, p) in m.namedParameters() {
                let want = ref["\(optimizer).\(referenceKey(key, m))"]
                if optimizer == "sgd" {
                    worst = Swift.max(worst, assertClose(p, want, "\(name) \(key) after one SGD step"))
                } else {
                    try assertAdamWStepClose(p, want, gradient: XCTUnwrap(ref["grad.\(referenceKey(key, m))"]), "\(name) \(key) after one AdamW step")
                }
            }
            print("\(name) (\(optimizer) run): loss \(loss.values[0]) vs \(e.loss); worst max|diff|/scale over gradients\(optimizer == "sgd" ? " and the SGD step" : ""): \(worst)")
        }
    }

    func testResNetLayer4StepEqualsPyTorch() throws { try checkStep("resnet-basic") }

    func testMobileNetV2LastBlocksStepEqualsPyTorch() throws { try checkStep("mobilenet_v2-0.25") }

    /// The frozen prefix + taped suffix computes what the fused executor computes at the classifier's input, from
    /// any start (a node, a node output, the graph input, none); and a node output starts at the node after it.
    func testForwardFromAnyStartEqualsInference() throws {
        let name = "resnet-basic"
        let g = try graph(name)
        let (headInput, weight) = OnnxFineTuneModel.classifierInput(of: g)
        XCTAssertEqual(headInput, "/Flatten_output_0")
        XCTAssertEqual(weight, "fc.weight")
        let ref = try loadTensors(Self.dir.appendingPathComponent("\(name).finetune.safetensors"))
        let x = try XCTUnwrap(ref["x"])
        let want = try XCTUnwrap(OnnxModel(graph: g, outputs: [headInput]).run(["x": x])[headInput])
        for start in [nil, "x", "/layer2/layer2.0/conv1/Conv", "/layer3/layer3.1/relu_1/Relu_output_0"] {
            var gen = SeededGenerator(seed: 1)
            let m = try OnnxFineTuneModel(graph: g, start: start, outputs: 3, features: 64, generator: &gen)
            assertClose(try m.features(nhwc(x)), want, "features from \(start ?? "none")")
            XCTAssertEqual(m.classifierKey, "fc")
            if start == nil { XCTAssertEqual(m.trainableNodes, []); XCTAssertEqual(m.namedParameters().map(\.0), ["fc.weight", "fc.bias"]) }
        }
        var gen = SeededGenerator(seed: 1)
        let fromValue = try OnnxFineTuneModel(graph: g, start: "/layer3/layer3.1/relu_1/Relu_output_0", outputs: 3, features: 64, generator: &gen)
        XCTAssertEqual(fromValue.trainableNodes, try entry(name).nodes)
    }

    /// MobileNetV3-small from its first squeeze-excitation gate on: the gates (GlobalAveragePool, HardSigmoid, a
    /// broadcast Mul), HardSwish and the classifier's hidden Gemm train; the forward equals the fused executor's at
    /// the classifier's input (the last Gemm's), and every parameter gets a gradient.
    func testMobileNetV3SmallTrainsThroughSqueezeExcitation() throws {
        let name = "mobilenet_v3_small-0.25"
        let g = try graph(name)
        let manifest = try JSONSerialization.jsonObject(with: Data(contentsOf: Self.dir.appendingPathComponent("manifest.json"))) as? [String: Any]
        let gate = try XCTUnwrap(((manifest?[name] as? [String: Any])?["cuts"] as? [String])?.first)
        let (headInput, weight) = OnnxFineTuneModel.classifierInput(of: g)
        XCTAssertEqual(weight, "classifier.3.weight")
        let x = try XCTUnwrap(loadTensors(Self.dir.appendingPathComponent("\(name).ort.safetensors"))["x"])
        let want = try XCTUnwrap(OnnxModel(graph: g, outputs: [headInput]).run(["x": x])[headInput])
        var gen = SeededGenerator(seed: 1)
        let m = try OnnxFineTuneModel(graph: g, start: gate, outputs: 3, features: want.shape[1], generator: &gen)
        let ops = Set(m.trainableNodes.compactMap { n in g.nodes.first { $0.name == n }?.opType })
        XCTAssertTrue(ops.isSuperset(of: ["Mul", "HardSigmoid", "HardSwish", "GlobalAveragePool", "Gemm", "Conv", "Add"]), "\(ops)")
        XCTAssertEqual(m.classifierKey, "classifier.3")
        let features = try m.features(nhwc(x))
        assertClose(features, want, "\(name) features from \(gate)", tolerance: 1e-4)
        try m.classifier.forward(features, training: true).crossEntropy(labels: IndexTensor([0, 2])).backward()
        for (key, p) in m.namedParameters() {
            XCTAssertGreaterThan(p.grad?.values.map(abs).max() ?? 0, 0, "\(key) got no gradient")
        }
    }

    func testUnknownStartNamesItAndListsTheNodes() throws {
        var gen = SeededGenerator(seed: 1)
        for bad in ["/layer9/Conv", "/fc/Gemm", "logits"] {
            XCTAssertThrowsError(try OnnxFineTuneModel(graph: graph("resnet-basic"), start: bad, outputs: 3, features: 64, generator: &gen)) { error in
                guard case let OnnxFineTuneError.unknownStart(_, start, valid) = error else { return XCTFail("\(error)") }
                XCTAssertEqual(start, bad)
                XCTAssertEqual(valid.first, "/conv1/Conv")
                XCTAssertTrue(valid.contains("/layer4/layer4.0/conv1/Conv"))
                XCTAssertFalse(valid.contains("/fc/Gemm"))
                XCTAssertTrue("\(error)".contains(bad) && "\(error)".contains("/layer4/layer4.1/conv2/Conv"), "\(error)")
            }
        }
    }

    /// The tiny ViT from its patch convolution on: Erf (its GELU) and the shape arithmetic of the class token have
    /// no backward here; all named in one error, before anything runs. From its final LayerNormalization on (and the
    /// Gather of the class token) it trains.
    func testOperatorsWithoutBackwardAreNamedTogether() throws {
        let g = try graph("tiny-vit")
        var gen = SeededGenerator(seed: 1)
        XCTAssertThrowsError(try OnnxFineTuneModel(graph: g, start: "/patch/Conv", outputs: 3, features: 32, generator: &gen)) { error in
            guard case let OnnxFineTuneError.noBackward(_, operators) = error else { return XCTFail("\(error)") }
            XCTAssertNotNil(operators["Erf"], "\(operators.keys.sorted())")
            XCTAssertNotNil(operators["Shape"], "\(operators.keys.sorted())")
            XCTAssertNil(operators["Conv"])
            XCTAssertNil(operators["MatMul"])
        }
        let m = try OnnxFineTuneModel(graph: g, start: "/norm/LayerNormalization", outputs: 3, features: 32, generator: &gen)
        XCTAssertFalse(m.namedParameters().isEmpty)
    }
}
