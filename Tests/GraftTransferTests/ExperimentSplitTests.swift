import GraftData
import XCTest
@testable import GraftTransfer

/// The split every strategy of `graft compare` shares: stratified, disjoint, seeded, and sized
/// by `perClass` / `validationPerClass` / `testCount`.
final class ExperimentSplitTests: XCTestCase {
    func testSizesAreStratifiedAndDisjoint() throws {
        let digits = try DataSource.resolve("digits")  // 1,797 images, 10 classes, no official test set
        for validation in [5, 12] {
            let split = try ExperimentSplit.make(digits, perClass: 20, validationPerClass: validation, testCount: 300, seed: 4)
            let labels = digits.train.labels
            func perClass(_ items: [Int]) -> [Int] { items.reduce(into: [Int](repeating: 0, count: 10)) { $0[labels[$1]] += 1 } }
            XCTAssertEqual(perClass(split.train), [Int](repeating: 20, count: 10))
            XCTAssertEqual(perClass(split.validation), [Int](repeating: validation, count: 10))
            XCTAssertFalse(split.testFromOfficialSet)
            XCTAssertEqual(split.test.count, 300, accuracy: 10)  // stratified fraction, rounded per class
            let (train, val, test) = (Set(split.train), Set(split.validation), Set(split.test))
            XCTAssertEqual(train.count + val.count + test.count, split.train.count + split.validation.count + split.test.count,
                           "an item appears twice within one part")
            XCTAssertTrue(train.isDisjoint(with: val) && train.isDisjoint(with: test) && val.isDisjoint(with: test))
            XCTAssertEqual(split, try ExperimentSplit.make(digits, perClass: 20, validationPerClass: validation, testCount: 300, seed: 4))
        }
    }
}

/// The default validation size (`ValidationSplit.auto`, issue 21): a fifth of the training size per class,
/// 10 to 250, never more than a third of a class.
final class AutoValidationSplitTests: XCTestCase {
    func testTheRule() {
        XCTAssertEqual(ValidationSplit.autoCount(training: 10, classSize: 6000), 10)     // floor
        XCTAssertEqual(ValidationSplit.autoCount(training: 300, classSize: 6000), 60)    // a fifth
        XCTAssertEqual(ValidationSplit.autoCount(training: 1000, classSize: 6000), 200)
        XCTAssertEqual(ValidationSplit.autoCount(training: 6000, classSize: 6000), 250)  // ceiling
        XCTAssertEqual(ValidationSplit.autoCount(training: 30, classSize: 30), 10)       // a third of a small class
        XCTAssertEqual(ValidationSplit.autoCount(training: 8, classSize: 8), 2)
        XCTAssertEqual(ValidationSplit.autoCount(training: 2, classSize: 2), 1)
    }

    func testFewShotAndWholeDataSplits() throws {
        let digits = try DataSource.resolve("digits")  // about 180 per class, 300 held out for test
        let labels = digits.train.labels
        func perClass(_ items: [Int]) -> [Int] { items.reduce(into: [Int](repeating: 0, count: 10)) { $0[labels[$1]] += 1 } }
        let fewShot = try ExperimentSplit.make(digits, perClass: 100, validation: .auto, testCount: 300, seed: 4)
        XCTAssertEqual(perClass(fewShot.validation), [Int](repeating: 20, count: 10))
        XCTAssertEqual(perClass(fewShot.train), [Int](repeating: 100, count: 10))
        let whole = try ExperimentSplit.make(digits, perClass: nil, validation: .auto, testCount: 300, seed: 4)
        var pool = [Int](repeating: 0, count: 10)
        for i in Set(0..<labels.count).subtracting(whole.test) { pool[labels[i]] += 1 }
        XCTAssertEqual(perClass(whole.validation), pool.map { ValidationSplit.autoCount(training: $0, classSize: $0) })
        XCTAssertEqual(perClass(whole.train), zip(pool, perClass(whole.validation)).map { $0 - $1 })
    }
}
