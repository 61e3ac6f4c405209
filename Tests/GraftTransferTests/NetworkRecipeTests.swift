import GraftData
import GraftHeads
import GraftNN
import GraftTensor
import XCTest
@testable import GraftTransfer

/// The shared recipe of the network strategies: LP-FT's warm start scores
/// exactly as the probe it copies, and each front end gets the same defaults.
final class NetworkRecipeTests: XCTestCase {
    func testWarmStartedHeadScoresAsTheProbe() throws {
        // Three classes in 6 features, with offsets and scales standardisation must undo.
        var g = SeededGenerator(seed: 7)
        let (n, d, k) = (45, 6, 3)
        var values = [Float](), labels = [Int]()
        for i in 0..<n {
            let c = i % k
            for j in 0..<d { values.append(Float.random(in: -1...1, using: &g) * Float(j + 1) + (j == c ? 2 : 0) + 10) }
            labels.append(c)
        }
        let x = try FeatureMatrix(rows: n, columns: d, values: values)
        let fit = try HeadChoice.logisticRegression().fit(x, labels: labels, seed: 0)
        XCTAssertNotNil(fit.head.standardization)
        let linear = Linear(d, k, generator: &g)
        XCTAssertTrue(try NetworkRecipe.copy(fit.head, into: linear))
        let logits = try withNoGrad { try linear.forward(Tensor(shape: [n, d], values: values), training: false) }.values
        let expected = try fit.head.decisionFunction(x).values
        for (a, b) in zip(logits, expected) { XCTAssertEqual(a, b, accuracy: 1e-3 * max(1, abs(b))) }
        // A probe of other classes or width is refused, leaving the head as it was.
        let other = Linear(d + 1, k, generator: &g)
        let before = other.weight.values
        XCTAssertFalse(try NetworkRecipe.copy(fit.head, into: other))
        XCTAssertEqual(other.weight.values, before)
    }

    func testFewShotProbeFitsWithOneExamplePerClass() throws {
        // Too few examples for 5-fold cross-validation: C falls back to 1 instead of failing.
        let x = try FeatureMatrix(rows: 2, columns: 2, values: [1, 0, 0, 1])
        let fit = try HeadChoice.logisticRegression().fit(x, labels: [0, 1])
        XCTAssertEqual(fit.head.C, 1)
        XCTAssertEqual(try fit.head.predict(x), [0, 1])
    }

    func testDefaultsComeFromTheBackboneAndOverridesChangeOnlyWhatTheyName() throws {
        let cnn = try Backbones.load(.efficientNetLite0, weights: false)
        let text = try Backbones.load(.miniLM)
        let ft = cnn.defaultOptions(for: .fineTune(unfreeze: 2))
        XCTAssertEqual(ft.optimizer, .adamw)
        XCTAssertEqual(ft.learningRate, 5e-4)
        XCTAssertEqual(ft.trunkLearningRateScale, 0.2)
        XCTAssertEqual(ft.epochs, 4)
        XCTAssertEqual(text.defaultOptions(for: .fineTune(unfreeze: 1)).learningRate, 2e-3)
        XCTAssertEqual(cnn.defaultOptions(for: .fromScratch).learningRate, 0.05)
        var o = TrainingOverrides()
        o.epochs = 1; o.augment = false
        let recipe = NetworkRecipe(.fineTune(unfreeze: 2), backbone: cnn, overrides: o)
        var expected = ft
        expected.epochs = 1; expected.augment = false
        XCTAssertEqual(recipe.options, expected)
        XCTAssertTrue(recipe.linearProbe)
        XCTAssertFalse(NetworkRecipe(.fromScratch, backbone: cnn).isFineTuning)
    }
}
