import Foundation
import GraftNN
import GraftTensor
import XCTest

/// Two training steps of a small CNN (conv, BN in training mode, ReLU, max
/// pool, global pool, linear; label-smoothed cross-entropy) from identical
/// weights and batch: weights after SGD-with-momentum and after AdamW match
/// PyTorch (fixtures/nn/make_optimizer_steps.py) within 1e-5.
final class OptimizerParityTests: XCTestCase {
    struct Case { let x: Tensor; let labels: IndexTensor; let initial: [String: Tensor]; let after: [String: [String: Tensor]] }

    func loadCase() throws -> Case {
        let url = FixturePaths.fixtures.appendingPathComponent("nn/optimizer_steps.json")
        let json = try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as! [String: Any]
        func tensor(_ any: Any) throws -> Tensor {
            let d = any as! [String: Any]
            return try Tensor(shape: (d["shape"] as! [NSNumber]).map(\.intValue), values: (d["data"] as! [NSNumber]).map(\.floatValue))
        }
        func dict(_ any: Any) throws -> [String: Tensor] { try (any as! [String: Any]).mapValues(tensor) }
        return Case(x: try tensor(json["x"]!), labels: IndexTensor((json["labels"] as! [NSNumber]).map(\.intValue)),
                    initial: try dict(json["initial"]!), after: ["sgd": try dict(json["sgd"]!), "adamw": try dict(json["adamw"]!)])
    }

    func makeModel(_ c: Case) throws -> Sequential {
        var g = SeededGenerator(seed: 0)
        let model = Sequential([Conv2d(3, 4, kernel: 3, padding: 1, bias: false, generator: &g), BatchNorm2d(4), ActivationLayer(.relu),
                                MaxPool2d(kernel: 2), GlobalAvgPool(), Linear(4, 3, generator: &g)])
        try model.load(c.initial)
        return model
    }

    func train(_ model: Sequential, _ opt: Optimizer, _ c: Case) throws {
        for _ in 0..<2 {
            opt.zeroGrad()
            let loss = try model(c.x, training: true).crossEntropy(labels: c.labels, labelSmoothing: 0.1)
            try loss.backward()
            try opt.step()
        }
    }

    func assertMatches(_ model: Sequential, _ expected: [String: Tensor], file: StaticString = #filePath, line: UInt = #line) {
        for (key, t) in model.stateDict() where !key.hasSuffix("num_batches_tracked") {
            let e = expected[key]!
            let diff = zip(t.values, e.values).map { abs($0 - $1) }.max() ?? 0
            XCTAssertLessThanOrEqual(diff, 1e-5, "\(key): max abs diff \(diff)", file: file, line: line)
        }
    }

    func testSGDWithMomentumMatchesPyTorch() throws {
        let c = try loadCase()
        let model = try makeModel(c)
        let opt = SGD([ParameterGroup(model.trainableParameters.map(\.1), weightDecay: 1e-3)], learningRate: 0.1, momentum: 0.9)
        try train(model, opt, c)
        assertMatches(model, c.after["sgd"]!)
    }

    func testAdamWMatchesPyTorch() throws {
        let c = try loadCase()
        let model = try makeModel(c)
        let opt = AdamW([ParameterGroup(model.trainableParameters.map(\.1), weightDecay: 0.05)], learningRate: 0.01)
        try train(model, opt, c)
        assertMatches(model, c.after["adamw"]!)
    }

    func testFrozenParametersStayBitIdenticalAndGetNoGradients() throws {
        let c = try loadCase()
        let model = try makeModel(c)
        let trunk = [model.layers[0], model.layers[1]] as [Module]
        for m in trunk { m.freeze() }
        let before = trunk.flatMap { $0.stateDict().map { $0.1.values } }
        let opt = SGD(ParameterGroup.decaySplit(model, weightDecay: 1e-3), learningRate: 0.1)
        try train(model, opt, c)
        let after = trunk.flatMap { $0.stateDict().map { $0.1.values } }
        XCTAssertEqual(before, after, "frozen weights and BN statistics unchanged, bit for bit")
        for m in trunk { for (k, p) in m.namedParameters() { XCTAssertNil(p.grad, "\(k) allocated a gradient") } }
        XCTAssertNotNil((model.layers[5] as! Linear).weight.grad)
    }

    func testStrictLoadListsEveryProblem() throws {
        let c = try loadCase()
        let model = try makeModel(c)
        var bad = c.initial
        bad.removeValue(forKey: "1.bias")
        bad["5.weight"] = Tensor.zeros([2, 4])
        bad["extra.weight"] = Tensor.zeros([1])
        XCTAssertThrowsError(try model.load(bad)) { error in
            let text = "\(error)"
            XCTAssertTrue(text.contains("missing (1): 1.bias"), text)
            XCTAssertTrue(text.contains("unexpected (1): extra.weight"), text)
            XCTAssertTrue(text.contains("shape mismatch 5.weight: module [3, 4], weights [2, 4]"), text)
        }
        // Non-strict grafting loads the rest and reports the skipped keys.
        let report = try model.load(bad, strict: false)
        XCTAssertEqual(report.missing, ["1.bias"])
        XCTAssertEqual(report.unexpected, ["extra.weight"])
        XCTAssertEqual(report.loaded.count, model.stateDict().count - 2) // all but 1.bias and 5.weight
    }

    /// A wrong architecture used to print every missing name (247 for a ResNet); the
    /// message now gives counts and the first few, the error value keeps them all.
    func testStrictLoadSummarisesLongListsAndKeepsTheFullOne() throws {
        var g = SeededGenerator(seed: 1)
        let model = Sequential((0..<40).map { _ in Linear(2, 2, generator: &g) as any UnaryLayer })
        let weights = Dictionary(uniqueKeysWithValues: (0..<30).map { ("other.\($0).weight", Tensor.zeros([1])) })
        XCTAssertThrowsError(try model.load(weights, source: "w.safetensors")) { error in
            guard case let .incompatible(source, report)? = error as? LoadError else { return XCTFail("\(error)") }
            XCTAssertEqual(source, "w.safetensors")
            XCTAssertEqual(report.missing.count, 80)
            XCTAssertEqual(report.unexpected.count, 30)
            let text = "\(error)"
            XCTAssertTrue(text.contains("missing (80): 0.weight, 0.bias, 1.weight, 1.bias, 2.weight, ... and 75 more"), text)
            XCTAssertTrue(text.contains("unexpected (30): other.0.weight, other.1.weight, other.10.weight, other.11.weight, other.12.weight, ... and 25 more"), text)
            XCTAssertLessThan(text.count, 600, text)
            let full = (error as! LoadError).fullDescription
            for key in report.missing + report.unexpected { XCTAssertTrue(full.contains(key), key) }
        }
    }

    func testSchedules() {
        let s = LearningRateSchedule.warmupCosine(warmup: 10, total: 110)
        XCTAssertEqual(s.factor(step: 0), 0.1, accuracy: 1e-6)
        XCTAssertEqual(s.factor(step: 9), 1, accuracy: 1e-6)
        XCTAssertEqual(s.factor(step: 60), 0.5, accuracy: 1e-6)
        XCTAssertEqual(s.factor(step: 110), 0, accuracy: 1e-6)
        let one = LearningRateSchedule.oneCycle(total: 100)
        XCTAssertEqual(one.factor(step: 0), 1.0 / 25, accuracy: 1e-6)
        XCTAssertEqual(one.factor(step: 29), 1, accuracy: 1e-6)
        XCTAssertLessThan(one.factor(step: 99), 1e-4)
    }
}
