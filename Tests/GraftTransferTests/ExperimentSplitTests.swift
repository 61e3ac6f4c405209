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
