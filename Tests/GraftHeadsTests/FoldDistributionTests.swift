import GraftCore
import GraftHeads
import XCTest

/// A `FoldDistribution` decides which folds run here; whatever the split, the chosen C and the
/// head equal the all-folds fit when the other folds' scores arrive through `exchange`.
final class FoldDistributionTests: XCTestCase {
    /// Computes the even folds; `exchange` fills the odd ones from a reference run, as the other
    /// rank's allreduce would. Records which folds it was asked about.
    final class EvenFolds: FoldDistribution, @unchecked Sendable {  // unchecked: one test thread
        let reference: [[Double]]
        var computed: [Int] = []
        init(reference: [[Double]]) { self.reference = reference }
        func computesFold(_ fold: Int) -> Bool {
            if fold % 2 == 0 { computed.append(fold) }
            return fold % 2 == 0
        }
        func exchange(_ scores: [[Double?]]) throws -> [[Double]] {
            scores.enumerated().map { g, row in row.enumerated().map { f, value in value ?? reference[g][f] } }
        }
    }

    func data() throws -> (FeatureMatrix, [Int]) {
        var g = SeededGenerator(seed: 11)
        var rows: [[Float]] = [], labels: [Int] = []
        for i in 0..<120 {
            rows.append((0..<6).map { d in (d % 3 == i % 3 ? 0.7 : 0) + g.nextNormal() })
            labels.append(i % 3)
        }
        return (try FeatureMatrix(rows), labels)
    }

    func testLogisticRegressionWithHalfTheFoldsHereFitsTheSameHead() throws {
        let (x, labels) = try data()
        let alone = try LogisticRegression(LogisticRegression.Options()).fit(x, labels: labels)
        let reference = try XCTUnwrap(alone.summary.crossValidation).foldAccuracy
        var options = LogisticRegression.Options()
        let even = EvenFolds(reference: reference)
        options.foldDistribution = even
        let spread = try LogisticRegression(options).fit(x, labels: labels)
        XCTAssertEqual(even.computed, [0, 2, 4])
        XCTAssertEqual(spread.summary.crossValidation?.foldAccuracy, reference)
        XCTAssertEqual(spread.head.C, alone.head.C)
        XCTAssertEqual(spread.head.weights, alone.head.weights)
    }

    func testLinearSVMWithHalfTheFoldsHereFitsTheSameHead() throws {
        let (x, labels) = try data()
        let alone = try LinearSVM(LinearSVM.Options()).fit(x, labels: labels)
        let reference = try XCTUnwrap(alone.summary.crossValidation).foldAccuracy
        var options = LinearSVM.Options()
        let even = EvenFolds(reference: reference)
        options.foldDistribution = even
        let spread = try LinearSVM(options).fit(x, labels: labels)
        XCTAssertEqual(even.computed, [0, 2, 4])
        XCTAssertEqual(spread.head.C, alone.head.C)
        XCTAssertEqual(spread.head.weights, alone.head.weights)
    }

    func testAFailedExchangeIsAHeadsError() throws {
        struct Broken: FoldDistribution {
            struct PeerGone: Error {}
            func computesFold(_ fold: Int) -> Bool { true }
            func exchange(_ scores: [[Double?]]) throws -> [[Double]] { throw PeerGone() }
        }
        let (x, labels) = try data()
        var options = LogisticRegression.Options()
        options.foldDistribution = Broken()
        XCTAssertThrowsError(try LogisticRegression(options).fit(x, labels: labels)) { error in
            guard case .foldExchange = error as? HeadsError else { return XCTFail("\(error)") }
        }
    }
}
