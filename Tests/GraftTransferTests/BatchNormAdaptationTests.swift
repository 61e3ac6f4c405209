import GraftData
import GraftNN
import GraftTensor
import XCTest
@testable import GraftTransfer

/// AdaBN (issue 21): the first batch norm's statistics become exactly the per-channel mean and unbiased
/// variance of its input over the target data (one batch here, so the cumulative average is that batch's),
/// weights do not move, and every layer gets its frozen flag and momentum back.
final class BatchNormAdaptationTests: XCTestCase {
    func testStatisticsAreTheTargetDataOnes() throws {
        let digits = try BuiltinDatasets.digits()
        let items = Array(0..<12)
        let backbone = try Backbones.load(.efficientNetLite0)
        let network = try XCTUnwrap(try backbone.network(outputs: 10, unfreeze: 1, seed: 0) as? CNNTaskNetwork)
        // The stem: `_conv_stem` then `_bn0`, the first convolution and batch norm in key order.
        let stemConv = try XCTUnwrap(network.module.namedModules().lazy.compactMap { $0.1 as? Conv2d }.first)
        let norms = network.module.namedModules().compactMap { $0.1 as? BatchNorm2d }
        let stemNorm = try XCTUnwrap(norms.first)
        let frozenBefore = norms.map(\.isFrozen), momentumBefore = norms.map(\.momentum)
        let weightsBefore = stemConv.weight.values
        let deepBefore = try XCTUnwrap(norms.last).runningMean.values
        let stemMeanBefore = stemNorm.runningMean.values

        // The stem convolution's output on the same preprocessed batch, by hand.
        let loader = BatchLoader(dataset: digits, indices: items, preprocessing: try XCTUnwrap(network.preprocessing),
                                 options: .init(batchSize: 12))
        let batch = try XCTUnwrap(try loader.next())
        let convOut = try withNoGrad { try stemConv.forward(network.input(batch), training: false) }
        let c = convOut.shape[3], rows = convOut.count / c
        let v = convOut.values
        var mean = [Double](repeating: 0, count: c), variance = [Double](repeating: 0, count: c)
        for r in 0..<rows { for j in 0..<c { mean[j] += Double(v[r * c + j]) } }
        for j in 0..<c { mean[j] /= Double(rows) }
        for r in 0..<rows { for j in 0..<c { let d = Double(v[r * c + j]) - mean[j]; variance[j] += d * d } }
        for j in 0..<c { variance[j] /= Double(rows - 1) }

        let adapted = try BatchNormAdaptation.adapt(network, dataset: digits, indices: items, batchSize: 12, progress: nil, isCancelled: { false })
        XCTAssertEqual(adapted, norms.count)
        // oneDNN sums each channel's 12 x 112 x 112 values in fp32 (measured up to 1.4e-4 relative from float64).
        for j in 0..<c {
            XCTAssertEqual(Double(stemNorm.runningMean.values[j]), mean[j], accuracy: 1e-3 * max(1, abs(mean[j])))
            XCTAssertEqual(Double(stemNorm.runningVar.values[j]), variance[j], accuracy: 1e-3 * max(1, variance[j]))
        }
        // The ImageNet statistics it started from were far from these.
        XCTAssertGreaterThan(zip(stemMeanBefore, mean).map { abs(Double($0) - $1) }.max() ?? 0, 0.1)
        XCTAssertNotEqual(try XCTUnwrap(norms.last).runningMean.values, deepBefore)
        XCTAssertEqual(stemConv.weight.values, weightsBefore)
        XCTAssertEqual(norms.map(\.isFrozen), frozenBefore)
        XCTAssertEqual(norms.map(\.momentum), momentumBefore)
    }
}
