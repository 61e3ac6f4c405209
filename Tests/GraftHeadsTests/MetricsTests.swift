import Foundation
import GraftHeads
import XCTest

/// ClassificationReport against scikit-learn's metrics on fixed predictions.
final class MetricsTests: XCTestCase {
    func testReportMatchesScikitLearn() throws {
        let r = try TestData.fixture("metrics")
        let truth = try TestData.intArray(r["y_true"]), predicted = try TestData.intArray(r["y_pred"])
        let trained = try TestData.intArray(r["trained_classes"])
        let rows = try (r["probabilities"] as? [[Double]]).unwrap("probabilities")
        let probabilities = try FeatureMatrix(rows.map { $0.map { Float($0) } })
        let report = try ClassificationReport(truth: truth, predicted: predicted, probabilities: probabilities,
                                              trainedClasses: trained)
        XCTAssertEqual(report.labels, try TestData.intArray(r["labels"]))
        XCTAssertEqual(report.accuracy, try (r["accuracy"] as? Double).unwrap("accuracy"), accuracy: 1e-12)
        XCTAssertEqual(report.balancedAccuracy, try (r["balanced_accuracy"] as? Double).unwrap("balanced"), accuracy: 1e-12)
        XCTAssertEqual(report.confusionMatrix, try (r["confusion_matrix"] as? [[Int]]).unwrap("confusion"))
        let perClass = try (r["per_class"] as? [[String: Any]]).unwrap("per_class")
        XCTAssertEqual(report.perClass.count, perClass.count)
        for (got, want) in zip(report.perClass, perClass) {
            XCTAssertEqual(got.label, want["label"] as? Int)
            XCTAssertEqual(got.precision, try (want["precision"] as? Double).unwrap("precision"), accuracy: 1e-12)
            XCTAssertEqual(got.recall, try (want["recall"] as? Double).unwrap("recall"), accuracy: 1e-12)
            XCTAssertEqual(got.f1, try (want["f1-score"] as? Double).unwrap("f1"), accuracy: 1e-12)
            XCTAssertEqual(Double(got.support), try (want["support"] as? Double).unwrap("support"))
        }
        for (got, key) in [(report.macroAverage, "macro_avg"), (report.weightedAverage, "weighted_avg")] {
            let want = try (r[key] as? [String: Any]).unwrap(key)
            XCTAssertEqual(got.precision, try (want["precision"] as? Double).unwrap("p"), accuracy: 1e-12, key)
            XCTAssertEqual(got.recall, try (want["recall"] as? Double).unwrap("r"), accuracy: 1e-12, key)
            XCTAssertEqual(got.f1, try (want["f1-score"] as? Double).unwrap("f"), accuracy: 1e-12, key)
        }
        let logLoss = try XCTUnwrap(report.logLoss)
        XCTAssertEqual(logLoss, try (r["log_loss_seen_rows"] as? Double).unwrap("log_loss"), accuracy: 1e-6)
        XCTAssertEqual(report.unseenLabels, try TestData.intArray(r["unseen_labels"]))
        XCTAssertEqual(report.unseenRows, try (r["unseen_rows"] as? Int).unwrap("unseen_rows"))
    }

    func testPerfectPredictionsAndRoundTrip() throws {
        let labels = [3, 1, 3, 2, 1]
        let report = try ClassificationReport(truth: labels, predicted: labels)
        XCTAssertEqual(report.accuracy, 1)
        XCTAssertEqual(report.balancedAccuracy, 1)
        XCTAssertEqual(report.confusionMatrix, [[2, 0, 0], [0, 1, 0], [0, 0, 2]])
        XCTAssertTrue(report.unseenLabels.isEmpty)
        let decoded = try JSONDecoder().decode(ClassificationReport.self, from: JSONEncoder().encode(report))
        XCTAssertEqual(decoded, report)
    }

    func testHeadEvaluateReportsUnseenLabels() throws {
        let split = try TestData.synthetic()
        let fit = try LogisticRegression(.init(C: 1)).fit(split.train, labels: split.trainLabels)
        var labels = split.testLabels
        labels[0] = 9
        labels[1] = 9
        let report = try fit.head.evaluate(split.test, labels: labels)
        XCTAssertEqual(report.unseenLabels, [9])
        XCTAssertEqual(report.unseenRows, 2)
        XCTAssertEqual(report.labels, [0, 1, 2, 3, 9])
        XCTAssertNotNil(report.logLoss)
        XCTAssertEqual(report.perClass.last?.recall, 0)
    }
}
