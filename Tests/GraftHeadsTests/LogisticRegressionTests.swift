import Foundation
import GraftHeads
import XCTest

/// Logistic regression against scikit-learn's LogisticRegression(lbfgs) on the same data.
final class LogisticRegressionTests: XCTestCase {
    private func reference(_ file: String, _ key: String) throws -> [String: Any] {
        try (TestData.fixture(file)[key] as? [String: Any]).unwrap(key)
    }

    /// Fits tightly and with defaults; checks objective, accuracy and probabilities.
    private func check(_ split: TestData.Split, reference r: [String: Any], weighting: ClassWeighting = .uniform,
                       file: StaticString = #filePath, line: UInt = #line) throws {
        let C = try (r["C"] as? Double).unwrap("C")
        let standardize = try (r["standardize"] as? Bool).unwrap("standardize")
        var options = LogisticRegression.Options(C: C, classWeighting: weighting, standardize: standardize)
        options.tolerance = 1e-7
        options.maxIterations = 5000
        let tight = try LogisticRegression(options).fit(split.train, labels: split.trainLabels)
        let objective = try (r["objective"] as? Double).unwrap("objective")
        XCTAssertEqual(tight.summary.objective, objective, accuracy: 1e-4 * objective, "objective", file: file, line: line)

        let testAccuracy = TestData.accuracy(try tight.head.predict(split.test), split.testLabels)
        let sklearnAccuracy = try (r["test_accuracy"] as? Double).unwrap("test_accuracy")
        XCTAssertEqual(testAccuracy, sklearnAccuracy, accuracy: 0.005, "converged accuracy", file: file, line: line)

        let probabilities = try tight.head.predictProbabilities(try split.test.selectingRows(Array(0..<20)))
        let expected = try (r["test_probabilities_first20"] as? [[Double]]).unwrap("probabilities")
        var largest = 0.0
        for i in 0..<20 { for c in expected[i].indices { largest = max(largest, abs(Double(probabilities[i, c]) - expected[i][c])) } }
        XCTAssertLessThan(largest, 2e-3, "max probability difference", file: file, line: line)

        // scikit-learn's defaults (tol 1e-4, max_iter 100) against Graft's defaults.
        var defaults = LogisticRegression.Options(C: C, classWeighting: weighting, standardize: standardize)
        defaults.seed = 0
        let fit = try LogisticRegression(defaults).fit(split.train, labels: split.trainLabels)
        let defaultAccuracy = TestData.accuracy(try fit.head.predict(split.test), split.testLabels)
        let sklearnDefault = try (r["default_test_accuracy"] as? Double).unwrap("default_test_accuracy")
        XCTAssertEqual(defaultAccuracy, sklearnDefault, accuracy: 0.005 + 1e-9, "default accuracy", file: file, line: line)
    }

    func testDigitsStandardizedMatchesScikitLearn() throws {
        try check(TestData.digitsSplit(), reference: reference("digits", "logreg_standardized"))
    }

    func testDigitsRawPixelsMatchesScikitLearn() throws {
        // Raw 0..16 pixels, C = 1: badly conditioned, so this exercises the line search hard.
        let split = try TestData.digitsSplit()
        let r = try reference("digits", "logreg_raw")
        var options = LogisticRegression.Options(C: 1, standardize: false)
        options.tolerance = 1e-7
        options.maxIterations = 5000
        let fit = try LogisticRegression(options).fit(split.train, labels: split.trainLabels)
        let objective = try (r["objective"] as? Double).unwrap("objective")
        // Ill-conditioned: where L-BFGS stops on this flat valley moves with the kernels' rounding
        // (1.3e-4 relative on an AVX-512/AMX machine, below 1e-4 on AVX2).
        XCTAssertEqual(fit.summary.objective, objective, accuracy: 3e-4 * objective)
        let accuracy = TestData.accuracy(try fit.head.predict(split.test), split.testLabels)
        XCTAssertEqual(accuracy, try (r["test_accuracy"] as? Double).unwrap("accuracy"), accuracy: 0.005)
    }

    func testBalancedClassWeightsMatchScikitLearn() throws {
        try check(TestData.synthetic(), reference: reference("synthetic", "logreg_balanced"), weighting: .balanced)
    }

    func testBinaryMatchesScikitLearnsBinomialModel() throws {
        try check(TestData.synthetic(binary: true), reference: reference("synthetic", "logreg_binary"))
    }

    func testProbabilitiesAreSoftmaxOfDecisionFunction() throws {
        let split = try TestData.synthetic()
        let fit = try LogisticRegression(.init(C: 1)).fit(split.train, labels: split.trainLabels)
        let scores = try fit.head.decisionFunction(split.test)
        let probabilities = try fit.head.predictProbabilities(split.test)
        for i in 0..<scores.rows {
            let exps = (0..<scores.columns).map { exp(Double(scores[i, $0])) }
            let total = exps.reduce(0, +)
            for c in 0..<scores.columns { XCTAssertEqual(Double(probabilities[i, c]), exps[c] / total, accuracy: 1e-5) }
        }
        XCTAssertEqual(fit.head.classes, [0, 1, 2, 3])
    }
}
