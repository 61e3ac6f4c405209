import XCTest
import GraftKernels

/// Max and both average poolings, forward and backward, against window loops.
final class PoolingTests: XCTestCase {
    /// Calls body(outputIndex, inputIndices in the window, full window size).
    func forEachWindow(_ g: Pool2DGeometry, _ body: (Int, [Int], Int) -> Void) {
        for n in 0..<g.batch { for oy in 0..<g.outHeight { for ox in 0..<g.outWidth { for c in 0..<g.channels {
            var taps: [Int] = []
            for ky in 0..<g.kernelH { for kx in 0..<g.kernelW {
                let y = oy * g.strideH - g.padTop + ky, x = ox * g.strideW - g.padLeft + kx
                if y >= 0, y < g.height, x >= 0, x < g.width { taps.append(((n * g.height + y) * g.width + x) * g.channels + c) }
            } }
            body(((n * g.outHeight + oy) * g.outWidth + ox) * g.channels + c, taps, g.kernelH * g.kernelW)
        } } } }
    }

    static let geometries: [Pool2DGeometry] = [
        .init(batch: 2, channels: 3, height: 7, width: 7, kernelH: 3, kernelW: 3, strideH: 2, strideW: 2,
              padTop: 1, padBottom: 1, padLeft: 1, padRight: 1),
        .init(batch: 1, channels: 5, height: 8, width: 6, kernelH: 2, kernelW: 2, strideH: 2, strideW: 2),
        .init(batch: 2, channels: 16, height: 9, width: 9, kernelH: 3, kernelW: 2, strideH: 1, strideW: 2,
              padTop: 1, padBottom: 0, padLeft: 0, padRight: 1),
    ]

    func testForwardAndBackward() throws {
        var rng = SeededRandom(seed: 31)
        for g in Self.geometries {
            let x = rng.floats(g.srcCount), dy = rng.floats(g.dstCount)
            for kind in [PoolKind.max, .averageIncludingPadding, .averageExcludingPadding] {
                var expected = [Float](repeating: 0, count: g.dstCount), expectedDx = [Float](repeating: 0, count: g.srcCount)
                forEachWindow(g) { o, taps, window in
                    switch kind {
                    case .max:
                        let best = taps.max { x[$0] < x[$1] }!
                        expected[o] = x[best]
                        expectedDx[best] += dy[o]
                    case .averageIncludingPadding, .averageExcludingPadding:
                        let divisor = Float(kind == .averageIncludingPadding ? window : taps.count)
                        expected[o] = taps.reduce(0) { $0 + x[$1] } / divisor
                        for t in taps { expectedDx[t] += dy[o] / divisor }
                    }
                }
                let workspace = PoolWorkspace()
                var y = output(g.dstCount), dx = output(g.srcCount)
                try Kernels.pool2dForward(kind: kind, geometry: g, src: x, dst: &y, workspace: workspace)
                assertClose(y, expected, "\(kind) \(g) forward")
                try Kernels.pool2dBackward(kind: kind, geometry: g, diffDst: dy, diffSrc: &dx, workspace: workspace)
                assertClose(dx, expectedDx, "\(kind) \(g) backward")
                var inference = output(g.dstCount)
                try Kernels.pool2dForward(kind: kind, geometry: g, src: x, dst: &inference, workspace: nil)
                assertClose(inference, expected, "\(kind) \(g) forward without workspace")
            }
        }
    }
}
