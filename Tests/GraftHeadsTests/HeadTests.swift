import Foundation
import GraftHeads
import XCTest

/// Serialisation, standardisation and bad input.
final class HeadTests: XCTestCase {
    func testHeadRoundTripsThroughJSON() throws {
        let split = try TestData.synthetic()
        let fit = try LogisticRegression(.init(C: 1)).fit(split.train, labels: split.trainLabels)
        let data = try JSONEncoder().encode(fit.head)
        let decoded = try JSONDecoder().decode(LinearHead.self, from: data)
        XCTAssertEqual(decoded, fit.head)
        try decoded.validate()
        XCTAssertEqual(try decoded.predictProbabilities(split.test), try fit.head.predictProbabilities(split.test))
    }

    func testStandardizationMatchesStandardScaler() throws {
        let x = try FeatureMatrix([[1, 5, 2], [3, 5, -2], [5, 5, 0]])
        let s = try Standardization.fit(x)
        XCTAssertEqual(s.mean, [3, 5, 0])
        XCTAssertEqual(s.scale[0], Float((8.0 / 3).squareRoot()), accuracy: 1e-6)
        XCTAssertEqual(s.scale[1], 1, "constant feature keeps scale 1")
        let y = try s.apply(x)
        XCTAssertEqual(y[2, 0], Float(2 / (8.0 / 3).squareRoot()), accuracy: 1e-6)
        XCTAssertEqual(y[0, 1], 0)
        // Chunked accumulation equals the one-shot fit.
        var accumulator = StandardizationAccumulator(featureCount: 3)
        try accumulator.add(try x.selectingRows([0]))
        try accumulator.add(try x.selectingRows([1, 2]))
        let chunked = try accumulator.finish()
        for j in 0..<3 {
            XCTAssertEqual(chunked.mean[j], s.mean[j], accuracy: 1e-6)
            XCTAssertEqual(chunked.scale[j], s.scale[j], accuracy: 1e-6)
        }
    }

    /// A network's dead unit (all-MiniLM-L6-v2's sentence dimensions 127 and 223 are about 1e-33 on every text)
    /// counts as constant: dividing by its float-noise spread would fit noise and, folded into a network layer
    /// (LP-FT), give weights of 1e30 whose gradients overflow.
    func testDeadUnitsCountAsConstant() throws {
        let x = try FeatureMatrix([[1, 4e-33, 0.5, 2], [3, -2e-33, 0.1, 2], [5, 9e-33, -0.3, 2], [2, 1e-34, 0.2, 2]])
        let s = try Standardization.fit(x)
        XCTAssertEqual(s.scale[1], 1, "dead unit")
        XCTAssertEqual(s.scale[3], 1, "constant feature")
        XCTAssertEqual(s.scale[0], Float((2.1875).squareRoot()), accuracy: 1e-6)   // the others as StandardScaler
        XCTAssertEqual(s.scale[2], Float(0.081875.squareRoot()), accuracy: 1e-6)
        let head = try LinearHead(kind: .logisticRegression, classes: [0, 1], featureCount: 4, weights: [0.1, 0.2, 0.3, 0.4, -0.1, -0.2, -0.3, -0.4],
                                  bias: [0, 0], standardization: s, C: 1)
        XCTAssertLessThan(head.rawAffine().weights.map(abs).max()!, 10)
    }

    func testStandardizedHeadEqualsFitOnStandardizedCopy() throws {
        // Folding the standardisation into the products must equal standardising first.
        let split = try TestData.synthetic()
        var options = LogisticRegression.Options(C: 0.5, standardize: true)
        options.tolerance = 1e-7
        let folded = try LogisticRegression(options).fit(split.train, labels: split.trainLabels)
        let s = try Standardization.fit(split.train)
        options.standardize = false
        let copied = try LogisticRegression(options).fit(try s.apply(split.train), labels: split.trainLabels)
        XCTAssertEqual(folded.summary.objective, copied.summary.objective, accuracy: 1e-5 * copied.summary.objective)
        let a = try folded.head.decisionFunction(split.test), b = try copied.head.decisionFunction(try s.apply(split.test))
        for i in 0..<a.rows { for c in 0..<a.columns { XCTAssertEqual(a[i, c], b[i, c], accuracy: 2e-3) } }
    }

    func testBadInputGivesTypedErrors() throws {
        let x = try FeatureMatrix([[1, 2], [3, 4], [5, 6]])
        let lr = LogisticRegression(.init(C: 1)), svm = LinearSVM(.init(C: 1))
        XCTAssertThrowsError(try lr.fit(x, labels: [4, 4, 4])) {
            XCTAssertEqual($0 as? HeadsError, .singleClass(label: 4, rows: 3))
        }
        XCTAssertThrowsError(try svm.fit(x, labels: [4, 4, 4])) {
            XCTAssertEqual($0 as? HeadsError, .singleClass(label: 4, rows: 3))
        }
        XCTAssertThrowsError(try lr.fit(x, labels: [0, 1])) {
            XCTAssertEqual($0 as? HeadsError, .labelCountMismatch(rows: 3, labels: 2))
        }
        XCTAssertThrowsError(try lr.fit(FeatureMatrix(zerosRows: 0, columns: 2), labels: [])) {
            guard case .emptyData? = $0 as? HeadsError else { return XCTFail("\($0)") }
        }
        XCTAssertThrowsError(try FeatureMatrix(rows: 2, columns: 2, values: [1, 2, 3])) {
            XCTAssertEqual($0 as? HeadsError, .shapeMismatch(what: "FeatureMatrix values", expected: [2, 2], got: [3]))
        }
        XCTAssertThrowsError(try FeatureMatrix([[1, 2], [3]])) {
            guard case .shapeMismatch? = $0 as? HeadsError else { return XCTFail("\($0)") }
        }
        XCTAssertThrowsError(try LogisticRegression(.init(C: -1)).fit(x, labels: [0, 1, 0])) {
            guard case .invalidOption(name: "C", _)? = $0 as? HeadsError else { return XCTFail("\($0)") }
        }
        var nan = x
        nan[1, 1] = .nan
        XCTAssertThrowsError(try lr.fit(nan, labels: [0, 1, 0])) {
            XCTAssertEqual($0 as? HeadsError, .nonFiniteFeature(what: "training features", row: 1, column: 1))
        }
        XCTAssertThrowsError(try svm.fit(nan, labels: [0, 1, 0])) {
            XCTAssertEqual($0 as? HeadsError, .nonFiniteFeature(what: "training features", row: 1, column: 1))
        }
        let head = try lr.fit(x, labels: [0, 1, 0]).head
        XCTAssertThrowsError(try head.predict(FeatureMatrix([[1, 2, 3]]))) {
            XCTAssertEqual($0 as? HeadsError, .shapeMismatch(what: "features for head", expected: [1, 2], got: [1, 3]))
        }
        var broken = head
        broken.bias = [0]
        XCTAssertThrowsError(try broken.validate()) {
            XCTAssertEqual($0 as? HeadsError, .shapeMismatch(what: "head bias", expected: [2], got: [1]))
        }
        for error in [HeadsError.singleClass(label: 4, rows: 3), .labelCountMismatch(rows: 3, labels: 2)] {
            XCTAssertFalse(error.description.isEmpty)
        }
    }
}
