import Foundation
import GraftHeads
import XCTest

final class CrossValidationTests: XCTestCase {
    func testFoldsAreStratifiedDisjointAndSeeded() throws {
        let labels = (0..<103).map { $0 % 7 == 0 ? 2 : ($0 % 3 == 0 ? 1 : 0) }
        let folds = try StratifiedKFold(folds: 5, seed: 42).split(labels: labels)
        XCTAssertEqual(folds.count, 5)
        var seen = [Int]()
        for fold in folds {
            XCTAssertEqual(Set(fold.train).intersection(fold.validation).count, 0)
            XCTAssertEqual(fold.train.count + fold.validation.count, labels.count)
            seen += fold.validation
            for c in 0...2 {
                let total = labels.filter { $0 == c }.count
                let inFold = fold.validation.filter { labels[$0] == c }.count
                XCTAssertLessThanOrEqual(abs(Double(inFold) - Double(total) / 5), 1, "class \(c)")
            }
        }
        XCTAssertEqual(seen.sorted(), Array(0..<labels.count))
        XCTAssertLessThanOrEqual(folds.map(\.validation.count).max()! - folds.map(\.validation.count).min()!, 1)
        XCTAssertEqual(try StratifiedKFold(folds: 5, seed: 42).split(labels: labels), folds)
        XCTAssertNotEqual(try StratifiedKFold(folds: 5, seed: 43).split(labels: labels), folds)
    }

    func testTooFewExamplesPerClassIsAnError() {
        XCTAssertThrowsError(try StratifiedKFold(folds: 3).split(labels: [0, 0, 0, 1, 1])) { error in
            XCTAssertEqual(error as? HeadsError, .tooFewExamplesForCrossValidation(label: 1, count: 2, folds: 3))
        }
    }

    func testChoosesTheBestCOfTheGrid() throws {
        let split = try TestData.digitsSplit()
        var options = LogisticRegression.Options()
        options.cGrid = [1e-4, 0.01, 1]
        options.folds = 3
        let fit = try LogisticRegression(options).fit(split.train, labels: split.trainLabels)
        let cv = try XCTUnwrap(fit.summary.crossValidation)
        XCTAssertEqual(cv.grid, [1e-4, 0.01, 1])
        XCTAssertEqual(cv.foldAccuracy.map(\.count), [3, 3, 3])
        // 1e-4 is far too strong for digits; the choice is the best mean and is what was fitted.
        XCTAssertLessThan(cv.meanAccuracy[0], cv.meanAccuracy[2])
        XCTAssertEqual(cv.chosenC, cv.grid[cv.meanAccuracy.firstIndex(of: cv.meanAccuracy.max()!)!])
        XCTAssertEqual(fit.head.C, cv.chosenC)
        XCTAssertGreaterThan(TestData.accuracy(try fit.head.predict(split.test), split.testLabels), 0.95)

        // The weighted-rows trick must equal fitting on the fold's rows alone.
        let folds = try StratifiedKFold(folds: 3, seed: 0).split(labels: split.trainLabels)
        var single = LogisticRegression.Options(C: 0.01)
        single.tolerance = 1e-6
        let alone = try LogisticRegression(single).fit(try split.train.selectingRows(folds[0].train),
                                                       labels: folds[0].train.map { split.trainLabels[$0] })
        let validation = try split.train.selectingRows(folds[0].validation)
        let accuracy = TestData.accuracy(try alone.head.predict(validation), folds[0].validation.map { split.trainLabels[$0] })
        XCTAssertEqual(accuracy, cv.foldAccuracy[1][0], accuracy: 2.0 / Double(folds[0].validation.count))
    }

    func testSVMChoosesC() throws {
        let split = try TestData.synthetic()
        var options = LinearSVM.Options()
        options.cGrid = [1e-4, 0.1]
        options.folds = 3
        let fit = try LinearSVM(options).fit(split.train, labels: split.trainLabels)
        let cv = try XCTUnwrap(fit.summary.crossValidation)
        XCTAssertEqual(cv.chosenC, 0.1)
        XCTAssertGreaterThan(cv.meanAccuracy[1], cv.meanAccuracy[0])
    }
}
