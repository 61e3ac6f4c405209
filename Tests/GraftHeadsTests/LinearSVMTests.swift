import Foundation
import GraftHeads
import XCTest

/// The one-vs-rest dual coordinate descent SVM against scikit-learn's LinearSVC (LIBLINEAR).
final class LinearSVMTests: XCTestCase {
    /// Primal objective of each one-vs-rest problem of `head` (one problem for two classes),
    /// computed here from the weights: 0.5 (||w||^2 + b^2) + C sum max(0, 1 - y (w.x~ + b))^2.
    private func primalObjectives(_ head: LinearHead, _ x: FeatureMatrix, _ labels: [Int]) throws -> [Double] {
        let features = try head.standardization?.apply(x) ?? x
        let d = head.featureCount
        let problems = head.classes.count == 2 ? [1] : Array(head.classes.indices)
        return problems.map { p in
            let w = head.weights[p * d ..< (p + 1) * d].map(Double.init), b = Double(head.bias[p])
            var total = 0.5 * (w.reduce(0) { $0 + $1 * $1 } + b * b)
            for i in 0..<features.rows {
                let y: Double = labels[i] == head.classes[p] ? 1 : -1
                var margin = b
                for j in 0..<d { margin += w[j] * Double(features[i, j]) }
                let hinge = max(0, 1 - y * margin)
                total += head.C * hinge * hinge
            }
            return total
        }
    }

    private func check(_ split: TestData.Split, _ r: [String: Any], file: StaticString = #filePath, line: UInt = #line) throws {
        let C = try (r["C"] as? Double).unwrap("C")
        var options = LinearSVM.Options(C: C, standardize: try (r["standardize"] as? Bool).unwrap("standardize"))
        options.tolerance = 1e-6
        options.maxIterations = 20000
        let tight = try LinearSVM(options).fit(split.train, labels: split.trainLabels)
        let objectives = try primalObjectives(tight.head, split.train, split.trainLabels)
        let expected = try (r["objectives"] as? [Double]).unwrap("objectives")
        XCTAssertEqual(objectives.count, expected.count, file: file, line: line)
        for (got, want) in zip(objectives, expected) {
            XCTAssertEqual(got, want, accuracy: 1e-3 * want, "one-vs-rest primal objective", file: file, line: line)
        }
        let accuracy = TestData.accuracy(try tight.head.predict(split.test), split.testLabels)
        XCTAssertEqual(accuracy, try (r["test_accuracy"] as? Double).unwrap("accuracy"), accuracy: 0.005 + 1e-9,
                       file: file, line: line)

        let defaults = try LinearSVM(.init(C: C, standardize: options.standardize)).fit(split.train, labels: split.trainLabels)
        let defaultAccuracy = TestData.accuracy(try defaults.head.predict(split.test), split.testLabels)
        XCTAssertEqual(defaultAccuracy, try (r["default_test_accuracy"] as? Double).unwrap("default accuracy"),
                       accuracy: 0.005 + 1e-9, file: file, line: line)
        XCTAssertEqual(defaults.summary.stop, .dualTolerance, file: file, line: line)
    }

    func testDigitsStandardizedMatchesLinearSVC() throws {
        try check(TestData.digitsSplit(), try (TestData.fixture("digits")["svc_standardized"] as? [String: Any]).unwrap("svc"))
    }

    func testRawMulticlassMatchesLinearSVC() throws {
        try check(TestData.synthetic(), try (TestData.fixture("synthetic")["svc_multiclass_raw"] as? [String: Any]).unwrap("svc"))
    }

    func testBinaryMatchesLinearSVC() throws {
        try check(TestData.synthetic(binary: true), try (TestData.fixture("synthetic")["svc_binary"] as? [String: Any]).unwrap("svc"))
    }

    func testShrinkingDoesNotChangeTheSolution() throws {
        let split = try TestData.synthetic()
        var options = LinearSVM.Options(C: 0.05, standardize: false)
        options.tolerance = 1e-7
        options.maxIterations = 20000
        let shrunk = try LinearSVM(options).fit(split.train, labels: split.trainLabels)
        options.shrinking = false
        let full = try LinearSVM(options).fit(split.train, labels: split.trainLabels)
        XCTAssertEqual(shrunk.summary.objective, full.summary.objective, accuracy: 1e-4 * full.summary.objective)
    }

    func testSVMHasNoProbabilities() throws {
        let split = try TestData.synthetic()
        let fit = try LinearSVM(.init(C: 0.1)).fit(split.train, labels: split.trainLabels)
        XCTAssertThrowsError(try fit.head.predictProbabilities(split.test)) { error in
            XCTAssertEqual(error as? HeadsError, .probabilitiesUnavailable(kind: .linearSVM))
        }
        let report = try fit.head.evaluate(split.test, labels: split.testLabels)
        XCTAssertNil(report.logLoss)
    }
}
