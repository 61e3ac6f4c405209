import Foundation
import GraftData
import GraftModels
import GraftNN
import GraftTensor
import XCTest
@testable import GraftTransfer

/// The learning-rate range test (`--lr auto`) and the step budget (`--steps`): what they record follows
/// from their own losses, and neither leaves a trace on the network or the training that follows.
final class LearningRateRangeTestTests: XCTestCase {
    static let smallCNN = BackboneSpec(input: .image, model: "small-cnn", architecture: "small-cnn", pretrained: false)

    /// A small CNN on 200 of scikit-learn's 8x8 digits, trained by plain SGD from random weights.
    func trainer(_ configure: (inout TrainingOptions) -> Void = { _ in }) throws -> (Trainer, any Dataset) {
        let network = try CNNBackbone(SmallCNN(inputSize: 16, classes: 10, seed: 1), spec: Self.smallCNN).network(outputs: 10, unfreeze: nil, seed: 0)
        var o = TrainingOptions()
        o.batchSize = 16; o.augment = false; o.learningRate = 0.05; o.clipNorm = 0
        configure(&o)
        return (Trainer(network: network, options: o), Subset(try BuiltinDatasets.digits(), indices: Array(0..<200)))
    }

    func state(_ module: Module) -> [[Float]] { module.stateDict().map { $0.1.values } }

    func testTheTestLeavesTheNetworkAsItWasAndItsSuggestionFollowsFromItsLosses() throws {
        let (trainer, digits) = try trainer()
        let before = state(trainer.network.module)
        var test = LearningRateRangeTest()
        test.steps = 30; test.lowest = 1e-4; test.highest = 1_000
        let result = try test.run(trainer, dataset: digits, train: Array(0..<200))
        XCTAssertEqual(state(trainer.network.module), before, "weights and batch-norm statistics are put back bit for bit")

        // Rates grow geometrically from `lowest`; SGD at 1,000 without clipping blows the loss up before the end.
        let points = result.points
        XCTAssertEqual(points.first?.learningRate, 1e-4)
        let ratio = pow(Float(1_000 / 1e-4), 1 / Float(29))
        for (a, b) in zip(points, points.dropFirst()) { XCTAssertEqual(b.learningRate / a.learningRate, ratio, accuracy: 1e-4) }
        XCTAssertTrue(result.stoppedEarly)
        XCTAssertLessThan(points.count, 30)
        XCTAssertGreaterThan(points.last!.smoothedLoss, 4 * points.map(\.smoothedLoss).min()!)

        // The smoothed curve, the breaking rate and the suggestion, recomputed from the raw losses.
        var average = 0.0, lowest = Double.infinity, breaking: Float?
        for (i, p) in points.enumerated() {
            average = 0.9 * average + 0.1 * p.loss
            let smoothed = average / (1 - pow(0.9, Double(i + 1)))
            XCTAssertEqual(p.smoothedLoss, smoothed, accuracy: 1e-12)
            lowest = min(lowest, smoothed)
            if breaking == nil, i >= 4, smoothed > 1.25 * lowest { breaking = p.learningRate }
        }
        XCTAssertEqual(result.breakingRate, try XCTUnwrap(breaking))
        XCTAssertEqual(result.suggested, result.breakingRate / 10)
        XCTAssertEqual(result.minimumLossRate, points.min { $0.smoothedLoss < $1.smoothedLoss }!.learningRate)
        // From random weights the loss falls before it breaks: the lowest loss sits below the breaking rate.
        XCTAssertLessThan(result.minimumLossRate, result.breakingRate)
        XCTAssertLessThan(points.map(\.smoothedLoss).min()!, points[0].loss)

        // Nothing moved, so a second test is the same test.
        XCTAssertEqual(try test.run(trainer, dataset: digits, train: Array(0..<200)), result)
    }

    func testBadSettingsAndEmptyDataAreTypedErrors() throws {
        let (trainer, digits) = try trainer()
        var test = LearningRateRangeTest()
        test.highest = test.lowest
        XCTAssertThrowsError(try test.run(trainer, dataset: digits, train: [0, 1])) { XCTAssertTrue("\($0)".contains("range test"), "\($0)") }
        XCTAssertThrowsError(try LearningRateRangeTest().run(trainer, dataset: digits, train: [])) {
            guard case .emptyData? = $0 as? TransferError else { return XCTFail("\($0)") }
        }
    }

    func testAStepBudgetRunsExactlyThatManySteps() throws {
        var o = TrainingOptions()
        o.batchSize = 16
        XCTAssertTrue(o.plannedSteps(items: 40) == (5, 15, 3))   // 5 epochs of 3 steps
        o.steps = 5
        XCTAssertTrue(o.plannedSteps(items: 40) == (2, 5, 3))    // 2 epochs, the second cut after 2 steps
        o.steps = 100
        XCTAssertTrue(o.plannedSteps(items: 1_000) == (2, 100, 63))

        let (trainer, digits) = try trainer { $0.steps = 5; $0.patience = 0; $0.schedule = .cosine; $0.warmupFraction = 0 }
        let result = try trainer.fit(dataset: digits, train: Array(0..<40), validation: Array(40..<60))
        XCTAssertEqual(result.history.count, 2)
        // The schedule spans the 5 steps: the last step ran at its fifth factor, not at an epoch-based one.
        let last = LearningRateSchedule.warmupCosine(warmup: 0, total: 5).factor(step: 4) * 0.05
        XCTAssertEqual(result.history[1].learningRate, Double(last), accuracy: 1e-9)
        XCTAssertNotEqual(result.history[1].learningRate,
                          Double(LearningRateSchedule.warmupCosine(warmup: 0, total: 6).factor(step: 5) * 0.05), accuracy: 1e-9)
    }
}

/// `--unfreeze auto`'s rule, at the sizes issue 21 measured.
final class AutomaticDepthTests: XCTestCase {
    func testTheHeadAloneTrainsWhereNoDepthBeatTheProbe() {
        // EfficientNet-Lite0 (18 blocks) on Fashion-MNIST: 300 per class kept the probe, 1,000 per class gained most with 5.
        XCTAssertEqual(AutomaticDepth.blocks(trainingItems: 3_000, input: .image, blockCount: 18), 0)
        XCTAssertEqual(AutomaticDepth.blocks(trainingItems: 10_000, input: .image, blockCount: 18), 5)
        XCTAssertEqual(AutomaticDepth.blocks(trainingItems: 4_999, input: .image, blockCount: 18), 0)
        XCTAssertEqual(AutomaticDepth.blocks(trainingItems: 5_000, input: .image, blockCount: 18), 5)
        XCTAssertEqual(AutomaticDepth.blocks(trainingItems: 10_000, input: .image, blockCount: 6), 2)   // ResNet's stages
        // MiniLM (6 layers) on Rotten Tomatoes: 100 per class kept the probe, 1,000 per class trained past it.
        XCTAssertEqual(AutomaticDepth.blocks(trainingItems: 200, input: .text, blockCount: 6), 0)
        XCTAssertEqual(AutomaticDepth.blocks(trainingItems: 2_000, input: .text, blockCount: 6), 2)
        XCTAssertEqual(AutomaticDepth.blocks(trainingItems: 2_000, input: .text, blockCount: 1), 1)
    }
}
