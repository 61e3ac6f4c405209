import Foundation
import GraftHeads
import XCTest

/// Ridge regression and its metrics against scikit-learn (fixtures/tasks/make_fixtures.py):
/// `make_pipeline(StandardScaler(), Ridge(alpha))`, `GridSearchCV` with `KFold(5)`, MAE / RMSE / R^2.
final class RidgeRegressionTests: XCTestCase {
    static func reference() throws -> [String: Any] {
        let url = FixturePaths.fixtures.appendingPathComponent("tasks/regression.json")
        return try (JSONSerialization.jsonObject(with: Data(contentsOf: url)) as? [String: Any]).unwrap("regression.json")
    }

    static func matrix(_ value: Any?, _ what: String) throws -> FeatureMatrix {
        if let rows = value as? [[Double]] { return try FeatureMatrix(rows.map { $0.map { Float($0) } }) }
        if let column = value as? [Double] { return try FeatureMatrix(column.map { [Float($0)] }) }
        throw MissingFixtureValue(description: "fixture value \(what) missing or mistyped")
    }

    func check(_ fit: RegressionHead, x: FeatureMatrix, truth: FeatureMatrix, against want: [String: Any], tolerance: Double) throws {
        XCTAssertEqual(fit.alpha, try (want["alpha"] as? Double).unwrap("alpha"))
        let coef = try (want["coef"] as? [[Double]]).unwrap("coef"), intercept = try (want["intercept"] as? [Double]).unwrap("intercept")
        for (t, row) in coef.enumerated() {
            XCTAssertEqual(Double(fit.bias[t]), intercept[t], accuracy: tolerance * max(1, abs(intercept[t])))
            for (j, v) in row.enumerated() { XCTAssertEqual(Double(fit.weights[t * fit.featureCount + j]), v, accuracy: tolerance * max(1, abs(v))) }
        }
        let predicted = try fit.predict(x)
        let reference = try Self.matrix(want["predict"], "predict")
        for i in 0..<predicted.values.count {
            XCTAssertEqual(Double(predicted.values[i]), Double(reference.values[i]), accuracy: tolerance * max(1, abs(Double(reference.values[i]))))
        }
        let metrics = try (want["metrics"] as? [String: Any]).unwrap("metrics")
        let report = try fit.evaluate(x, targets: truth)
        XCTAssertEqual(report.meanAbsoluteError, try (metrics["mae"] as? Double).unwrap("mae"), accuracy: 1e-3)
        XCTAssertEqual(report.rootMeanSquaredError, try (metrics["rmse"] as? Double).unwrap("rmse"), accuracy: 1e-3)
        XCTAssertEqual(report.r2, try (metrics["r2"] as? Double).unwrap("r2"), accuracy: 1e-4)
        let r2 = try (metrics["r2_per_target"] as? [Double]).unwrap("r2_per_target")
        XCTAssertEqual(report.perTarget.count, r2.count)
        for (got, ref) in zip(report.perTarget, r2) { XCTAssertEqual(got.r2, ref, accuracy: 1e-4) }
    }

    func testFixedAlphaIsScikitLearnsStandardisedRidge() throws {
        let r = try Self.reference()
        let x = try Self.matrix(r["x_train"], "x_train"), y = try Self.matrix(r["y_train"], "y_train")
        let fit = try RidgeRegression(.init(alpha: 3)).fit(x, targets: y)
        XCTAssertNil(fit.search)
        try check(fit.head, x: try Self.matrix(r["x_test"], "x_test"), truth: try Self.matrix(r["y_test"], "y_test"),
                  against: try (r["fixed"] as? [String: Any]).unwrap("fixed"), tolerance: 1e-4)
    }

    func testCrossValidationChoosesScikitLearnsAlpha() throws {
        let r = try Self.reference()
        let want = try (r["cv"] as? [String: Any]).unwrap("cv")
        var options = RidgeRegression.Options()
        options.alphaGrid = try (want["grid"] as? [Double]).unwrap("grid")
        options.shuffleFolds = false  // KFold(5): contiguous folds in row order
        let x = try Self.matrix(r["x_train"], "x_train"), y = try Self.matrix(r["y_train"], "y_train")
        let fit = try RidgeRegression(options).fit(x, targets: y)
        let search = try XCTUnwrap(fit.search)
        let mse = try (want["mean_squared_error"] as? [Double]).unwrap("mse")
        for (got, ref) in zip(search.meanSquaredError, mse) { XCTAssertEqual(got, ref, accuracy: 1e-4 * ref) }
        XCTAssertEqual(search.chosenAlpha, try (want["alpha"] as? Double).unwrap("alpha"))
        try check(fit.head, x: try Self.matrix(r["x_test"], "x_test"), truth: try Self.matrix(r["y_test"], "y_test"), against: want, tolerance: 1e-4)
    }

    func testFewerRowsThanFeaturesUsesTheDualAndAgrees() throws {
        let r = try (try Self.reference()["dual"] as? [String: Any]).unwrap("dual")
        func ints(_ key: String) throws -> FeatureMatrix { try FeatureMatrix(try (r[key] as? [[Int]]).unwrap(key).map { $0.map(Float.init) }) }
        let fit = try RidgeRegression(.init(alpha: 1)).fit(try ints("x_train"), targets: try Self.matrix(r["y_train"], "y_train"))
        try check(fit.head, x: try ints("x_test"), truth: try Self.matrix(r["y_test"], "y_test"), against: r, tolerance: 1e-3)
    }

    func testMetricEdgeCasesAndErrors() throws {
        // A constant truth: R^2 is 1 when predicted exactly, else 0 (scikit-learn's force_finite).
        let truth = try FeatureMatrix([[2], [2], [2]])
        XCTAssertEqual(try RegressionReport(truth: truth, predicted: truth).r2, 1)
        let off = try RegressionReport(truth: truth, predicted: try FeatureMatrix([[2], [3], [2]]))
        XCTAssertEqual(off.r2, 0)
        XCTAssertEqual(off.meanAbsoluteError, 1.0 / 3, accuracy: 1e-12)
        XCTAssertEqual(off.rootMeanSquaredError, (1.0 / 3).squareRoot(), accuracy: 1e-12)

        let x = try FeatureMatrix([[1, 2], [2, 1], [3, 5], [4, 4], [5, 0], [6, 1]])
        XCTAssertThrowsError(try RidgeRegression(.init(alpha: 0)).fit(x, targets: try FeatureMatrix((0..<6).map { [Float($0)] }))) { error in
            guard case .invalidOption(name: "alpha", _) = error as? HeadsError else { return XCTFail("\(error)") }
        }
        XCTAssertThrowsError(try RidgeRegression().fit(x, targets: try FeatureMatrix([[1], [2]]))) { error in
            XCTAssertEqual(error as? HeadsError, .labelCountMismatch(rows: 6, labels: 2))
        }
        XCTAssertThrowsError(try RidgeRegression().fit(x, targets: try FeatureMatrix([[1], [2], [.nan], [4], [5], [6]]))) { error in
            XCTAssertEqual(error as? HeadsError, .nonFiniteFeature(what: "regression targets", row: 2, column: 0))
        }
        // Cross-validation with fewer rows than folds says so.
        XCTAssertThrowsError(try RidgeRegression().fit(try FeatureMatrix([[1], [2], [3]]), targets: try FeatureMatrix([[1], [2], [3]]))) { error in
            guard case .invalidOption(name: "folds", _) = error as? HeadsError else { return XCTFail("\(error)") }
        }
    }
}
