import GraftDistributed
import XCTest

/// Bucket layout and write-back, in a world of one (the sums themselves are
/// tested on two ranks by DataParallelTests).
final class GradientBucketsTests: XCTestCase {
    func testBucketsTakeParametersInReverseOrderUpToTheirSize() throws {
        // 4-byte floats: 1000 + 3000 + 500 + 4000 values with 16 KB buckets.
        let counts = [1000, 3000, 500, 4000]
        let buckets = GradientBuckets(communicator: .solo, counts: counts, bucketBytes: 16_000)
        // Reverse order: [3] alone fills one (16,000 B); [2, 1, 0] the other (a bucket closes once it reaches the size).
        XCTAssertEqual(buckets.bucketCount, 2)
        XCTAssertEqual(buckets.totalBytes, 8500 * 4)
    }

    func testFinishHandsBackEveryGradientScaledByItsWeight() throws {
        let counts = [3, 2, 4]
        let buckets = GradientBuckets(communicator: .solo, counts: counts, bucketBytes: 8)
        let gradients: [[Float]] = [[1, 2, 3], [4, 5], [6, 7, 8, 9]]
        buckets.setWeight(0.5)
        // Ready in backward order; parameter 1 gets no gradient (counted as zeros).
        for index in [2, 0] {
            try gradients[index].withUnsafeBufferPointer { try buckets.gradientReady(index, $0) }
        }
        var written: [Int: [Float]] = [:]
        try buckets.finish { index, values in written[index] = Array(values) }
        XCTAssertEqual(written[0], [0.5, 1, 1.5])
        XCTAssertEqual(written[1], [0, 0])
        XCTAssertEqual(written[2], [3, 3.5, 4, 4.5])
        XCTAssertEqual(buckets.steps, 1)
        // The next step starts clean.
        buckets.setWeight(1)
        for index in [2, 1, 0] { try gradients[index].withUnsafeBufferPointer { try buckets.gradientReady(index, $0) } }
        try buckets.finish { index, values in written[index] = Array(values) }
        XCTAssertEqual(written[1], [4, 5])
    }
}
