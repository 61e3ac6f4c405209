import Foundation
import GraftHeads
import XCTest

/// One-vs-rest logistic regression, per-label thresholds and multi-label metrics against scikit-learn
/// (fixtures/tasks/make_fixtures.py): `OneVsRestClassifier(LogisticRegression(C=0.5))` after a
/// `StandardScaler`, `f1_score`, `hamming_loss`, `precision_recall_fscore_support`, `average_precision_score`.
final class MultiLabelTests: XCTestCase {
    struct Split { let x: FeatureMatrix; let labels: [[Int]] }

    static func reference() throws -> (r: [String: Any], train: Split, validation: Split, test: Split) {
        let url = FixturePaths.fixtures.appendingPathComponent("tasks/multilabel.json")
        let r = try (JSONSerialization.jsonObject(with: Data(contentsOf: url)) as? [String: Any]).unwrap("multilabel.json")
        func split(_ name: String) throws -> Split {
            Split(x: try FeatureMatrix(try (r["x_\(name)"] as? [[Int]]).unwrap("x_\(name)").map { $0.map(Float.init) }),
                  labels: try (r["y_\(name)"] as? [[Int]]).unwrap("y_\(name)"))
        }
        return (r, try split("train"), try split("validation"), try split("test"))
    }

    func testOneVsRestThresholdsAndMetricsMatchScikitLearn() throws {
        let (r, train, validation, test) = try Self.reference()
        var options = LogisticRegression.Options(C: 0.5)
        options.tolerance = 1e-10
        options.maxIterations = 10000
        var head = try OneVsRestLogistic(options).fit(train.x, labels: train.labels, labelCount: 5)
        XCTAssertEqual(head.thresholds, [0.5, 0.5, 0.5, 0.5, 0.5])

        func checkProbabilities(_ x: FeatureMatrix, _ key: String) throws {
            let p = try head.probabilities(x), want = try (r[key] as? [[Double]]).unwrap(key)
            for (i, row) in want.enumerated() { for (l, v) in row.enumerated() { XCTAssertEqual(Double(p[i, l]), v, accuracy: 1e-4, "\(key)[\(i)][\(l)]") } }
        }
        try checkProbabilities(validation.x, "validation_proba")
        try checkProbabilities(test.x, "test_proba")

        try OneVsRestLogistic.chooseThresholds(&head, x: validation.x, labels: validation.labels)
        let thresholds = try (r["thresholds"] as? [Double]).unwrap("thresholds")
        for (got, want) in zip(head.thresholds, thresholds) { XCTAssertEqual(Double(got), want, accuracy: 1e-4) }
        XCTAssertEqual(try head.predict(test.x), try (r["predict"] as? [[Int]]).unwrap("predict"))

        let report = try head.evaluate(test.x, truth: test.labels)
        XCTAssertEqual(report.microF1, try (r["micro_f1"] as? Double).unwrap("micro"), accuracy: 1e-12)
        XCTAssertEqual(report.macroF1, try (r["macro_f1"] as? Double).unwrap("macro"), accuracy: 1e-12)
        XCTAssertEqual(report.hammingLoss, try (r["hamming_loss"] as? Double).unwrap("hamming"), accuracy: 1e-12)
        XCTAssertEqual(report.meanAveragePrecision, try (r["mean_average_precision"] as? Double).unwrap("mAP"), accuracy: 1e-4)
        let precision = try (r["precision"] as? [Double]).unwrap("p"), recall = try (r["recall"] as? [Double]).unwrap("r")
        let f1 = try (r["f1"] as? [Double]).unwrap("f1"), support = try TestData.intArray(r["support"])
        let ap = try (r["average_precision"] as? [Double]).unwrap("ap")
        for (l, m) in report.perLabel.enumerated() {
            XCTAssertEqual(m.precision, precision[l], accuracy: 1e-12); XCTAssertEqual(m.recall, recall[l], accuracy: 1e-12)
            XCTAssertEqual(m.f1, f1[l], accuracy: 1e-12); XCTAssertEqual(m.support, support[l])
            XCTAssertEqual(m.averagePrecision, ap[l], accuracy: 1e-4)
        }
    }

    func testMetricsOnFixedPredictionsAndEdgeCases() throws {
        // average_precision_score([1, 0, 1, 0], [0.9, 0.8, 0.8, 0.1]) = 0.5 * 1 + 0.5 * (2/3): the tie enters together.
        XCTAssertEqual(MultiLabelReport.averagePrecision(truth: [true, false, true, false], scores: [0.9, 0.8, 0.8, 0.1]), 0.5 + 1.0 / 3, accuracy: 1e-12)
        XCTAssertEqual(MultiLabelReport.averagePrecision(truth: [false, false], scores: [0.9, 0.1]), 0)
        let p = try FeatureMatrix([[0.9, 0.1], [0.2, 0.7]])
        let report = try MultiLabelReport(truth: [[0], []], predicted: [[0], [1]], probabilities: p, labelCount: 2)
        XCTAssertEqual(report.hammingLoss, 0.25)
        XCTAssertEqual(report.perLabel[1].f1, 0, "no true and one false positive: F1 0")
        XCTAssertEqual(report.microF1, 2.0 / 3, accuracy: 1e-12)
        XCTAssertThrowsError(try MultiLabelReport(truth: [[2], []], predicted: [[0], [1]], probabilities: p, labelCount: 2))

        // A label no training row carries gets a constant (never predicted) model instead of failing.
        let x = try FeatureMatrix([[0, 1], [1, 0], [1, 1], [0, 0]])
        let head = try OneVsRestLogistic().fit(x, labels: [[0], [], [0], []], labelCount: 2)
        XCTAssertEqual(try head.predict(x).map { $0.contains(1) }, [false, false, false, false])
        XCTAssertThrowsError(try OneVsRestLogistic().fit(x, labels: [[0], [3], [0], []], labelCount: 2)) { error in
            XCTAssertEqual(error as? HeadsError, .invalidOption(name: "labels", reason: "label 3 of row 1 is not below 2"))
        }
    }
}
