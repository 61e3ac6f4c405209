import Foundation
import GraftHeads
import XCTest

/// The prototype and k-NN heads against scikit-learn (fixtures/tasks/make_fixtures.py):
/// `NearestCentroid` on `normalize(x)` and `KNeighborsClassifier(metric="cosine")`.
final class NeighborHeadTests: XCTestCase {
    struct Digits {
        let train: FeatureMatrix, trainLabels: [Int], test: FeatureMatrix, testLabels: [Int], reference: [String: Any]
    }

    static func digits() throws -> Digits {
        let url = FixturePaths.fixtures.appendingPathComponent("tasks/neighbors.json")
        let r = try (JSONSerialization.jsonObject(with: Data(contentsOf: url)) as? [String: Any]).unwrap("neighbors.json")
        func matrix(_ key: String) throws -> FeatureMatrix {
            try FeatureMatrix(try (r[key] as? [[Int]]).unwrap(key).map { $0.map(Float.init) })
        }
        return Digits(train: try matrix("x_train"), trainLabels: try TestData.intArray(r["y_train"]),
                      test: try matrix("x_test"), testLabels: try TestData.intArray(r["y_test"]), reference: r)
    }

    func testPrototypesAreScikitLearnsNearestCentroidOnNormalisedRows() throws {
        let d = try Self.digits()
        let want = try (d.reference["prototype"] as? [String: Any]).unwrap("prototype")
        let fit = try PrototypeClassifier().fit(d.train, labels: d.trainLabels)
        XCTAssertEqual(fit.head.kind, .prototype)
        XCTAssertEqual(fit.summary.stop, .closedForm)
        XCTAssertEqual(try fit.head.predict(d.test), try TestData.intArray(want["predict"]))
        // Weights are twice the centroids; scores are minus the squared distances to them.
        let centroids = try (want["centroids"] as? [[Double]]).unwrap("centroids")
        for (c, centroid) in centroids.enumerated() {
            for (j, v) in centroid.enumerated() { XCTAssertEqual(Double(fit.head.weights[c * 64 + j]), 2 * v, accuracy: 1e-6) }
        }
        let scores = try fit.head.decisionFunction(d.test)
        let distances = try (want["negative_squared_distance"] as? [[Double]]).unwrap("distances")
        for (r, row) in distances.enumerated() {
            for (c, v) in row.enumerated() { XCTAssertEqual(Double(scores[r, c]), v, accuracy: 1e-5) }
        }
        XCTAssertNil(fit.head.regularisation)
        XCTAssertFalse(fit.head.givesProbabilities)
        let shares = try fit.head.classScores(d.test)
        for r in 0..<shares.rows { XCTAssertEqual(shares.row(r).reduce(0, +), 1, accuracy: 1e-5) }
    }

    func checkNeighbors(k: Int) throws {
        let d = try Self.digits()
        let want = try (d.reference["knn\(k)"] as? [String: Any]).unwrap("knn\(k)")
        let head = try NearestNeighborsHead.fit(d.train, labels: d.trainLabels, k: k).head
        XCTAssertEqual(head.classes, Array(0..<10))

        let near = try head.neighbors(d.test)
        let indices = try (want["indices"] as? [[Int]]).unwrap("indices"), distances = try (want["distances"] as? [[Double]]).unwrap("distances")
        for r in 0..<near.count {
            XCTAssertEqual(near[r].map(\.index), indices[r], "row \(r)")
            for (got, ref) in zip(near[r], distances[r]) { XCTAssertEqual(Double(got.distance), ref, accuracy: 1e-5) }
        }
        // Vote shares are predict_proba.
        let shares = try head.classScores(d.test)
        let proba = try (want["proba"] as? [[Double]]).unwrap("proba")
        for (r, row) in proba.enumerated() { for (c, v) in row.enumerated() { XCTAssertEqual(Double(shares[r, c]), v, accuracy: 1e-6) } }
        // Untied votes: scikit-learn's prediction. Tied ones: the summed-distance rule (scikit-learn takes the smaller label).
        let predicted = try head.predict(d.test)
        let sklearn = try TestData.intArray(want["predict"]), expected = try TestData.intArray(want["expected"])
        let tied = try (want["tied"] as? [Bool]).unwrap("tied")
        XCTAssertGreaterThan(tied.filter { $0 }.count, 0, "the fixture exercises ties")
        for r in 0..<predicted.count {
            XCTAssertEqual(predicted[r], tied[r] ? expected[r] : sklearn[r], "row \(r)")
        }
        let report = try head.evaluate(d.test, labels: d.testLabels)
        XCTAssertEqual(report.accuracy, TestData.accuracy(expected, d.testLabels), accuracy: 1e-12)
        XCTAssertNotNil(report.logLoss)
    }

    func testNearestNeighborsFiveMatchesScikitLearn() throws { try checkNeighbors(k: 5) }
    func testNearestNeighborsFourBreaksTiesByDistance() throws { try checkNeighbors(k: 4) }

    func testNearestNeighborsEdgeCases() throws {
        let x = try FeatureMatrix([[1, 0], [0, 1], [1, 0.1]])
        // k beyond the rows: every row votes.
        let all = try NearestNeighborsHead.fit(x, labels: [0, 1, 0], k: 10).head
        XCTAssertEqual(try all.predict(try FeatureMatrix([[0, 2]])), [0])
        XCTAssertEqual(try all.classScores(try FeatureMatrix([[0, 2]])).row(0).map { $0 }, [2.0 / 3, 1.0 / 3])
        // Zero rows stay zero: every distance is 1, so the tie goes to the smaller summed distance, then the smaller label.
        XCTAssertEqual(try NearestNeighborsHead.fit(x, labels: [0, 1, 0], k: 1).head.predict(try FeatureMatrix([[0, 0]])), [0])
        XCTAssertThrowsError(try NearestNeighborsHead.fit(x, labels: [0, 1, 0], k: 0)) { error in
            XCTAssertEqual(error as? HeadsError, .invalidOption(name: "k", reason: "must be at least 1, got 0"))
        }
        XCTAssertThrowsError(try NearestNeighborsHead.fit(x, labels: [1, 1, 1], k: 1))
        XCTAssertThrowsError(try PrototypeClassifier().fit(x, labels: [1, 1, 1]))
        XCTAssertThrowsError(try all.predict(try FeatureMatrix([[1, 2, 3]]))) { error in
            guard case .shapeMismatch = error as? HeadsError else { return XCTFail("\(error)") }
        }
        let bad = try FeatureMatrix([[1, .nan], [0, 1]])
        XCTAssertThrowsError(try NearestNeighborsHead.fit(bad, labels: [0, 1], k: 1)) { error in
            XCTAssertEqual(error as? HeadsError, .nonFiniteFeature(what: "training features", row: 0, column: 1))
        }
    }
}
