import XCTest
@testable import GraftKernels

/// Issue 15 item 6: a text server saw a new sequence length on nearly every request, and every
/// length built new primitives and weight copies that were never let go. The caches are bounded.
final class CacheBoundTests: XCTestCase {
    override func tearDown() {
        Kernels.cacheLimits = .default
        Kernels.clearCaches()
    }

    /// MiniLM-sized products ([L, 384] x [384, 384] with a prepacked weight, and the attention's
    /// [L, 64] x [64, L]) over 300 sequence lengths: plans stay at the bound, results stay right.
    func testPlansAndWeightCopiesStayAtTheBoundOverManyShapes() throws {
        Kernels.clearCaches()
        Kernels.cacheLimits = KernelCacheLimits(plansPerKind: 16, weightBytes: 4 << 20)
        let hidden = 384, head = 64
        let weight = (0..<(hidden * hidden)).map { Float($0 % 7) / 7 }
        var peakPlans = 0
        for length in 1...300 {
            let x = [Float](repeating: 1, count: length * hidden)
            var y = [Float](repeating: 0, count: length * hidden)
            try Kernels.matmul(a: x, .contiguous([length, hidden]), b: weight, .contiguous([hidden, hidden]),
                               c: &y, .contiguous([length, hidden]), weightKey: WeightKey(id: -77, version: 0))
            let q = [Float](repeating: 0.5, count: length * head)
            var scores = [Float](repeating: 0, count: length * length)
            try Kernels.matmul(m: length, n: length, k: head, a: q, b: q, transposeB: true, c: &scores)
            peakPlans = max(peakPlans, StridedMatmulPlan.cache.count)
            if length % 50 == 0 {
                // Column j of x * W sums column j of W (x is all ones).
                let expected = (0..<hidden).reduce(Float(0)) { $0 + weight[$1 * hidden + 5] }
                XCTAssertEqual(y[(length - 1) * hidden + 5], expected, accuracy: 1e-3)
                XCTAssertEqual(scores[length * length - 1], 16, accuracy: 1e-4)
            }
        }
        XCTAssertEqual(peakPlans, 16)
        XCTAssertLessThanOrEqual(Kernels.cacheUsage.weightBytes, 4 << 20)
        XCTAssertLessThanOrEqual(Kernels.cacheUsage.plans, 8 * 16)
    }

    /// Lowering the weight bound evicts at once; clearing empties everything. (Convolution weights:
    /// brgconv reorders them into a blocked layout, so each weight id holds a cached copy.)
    func testLoweringTheWeightBoundEvicts() throws {
        Kernels.clearCaches()
        let g = ConvolutionTests.geometries[6]
        XCTAssertTrue(try Kernels.conv2dImplementation(g).reordersWeights)
        let src = [Float](repeating: 1, count: g.srcCount), w = [Float](repeating: 0.5, count: g.weightCount)
        var dst = [Float](repeating: 0, count: g.dstCount)
        for id in 0..<8 {
            try Kernels.conv2dForward(g, src: src, weight: w, weightKey: WeightKey(id: -(900 + id), version: 0), bias: nil, dst: &dst)
        }
        let before = Kernels.cacheUsage.weightBytes
        XCTAssertGreaterThan(before, 0)
        Kernels.cacheLimits = KernelCacheLimits(plansPerKind: 256, weightBytes: before / 2)
        XCTAssertLessThanOrEqual(Kernels.cacheUsage.weightBytes, before / 2)
        Kernels.clearCaches()
        XCTAssertEqual(Kernels.cacheUsage.plans, 0)
        XCTAssertEqual(Kernels.cacheUsage.weightBytes, 0)
    }
}
