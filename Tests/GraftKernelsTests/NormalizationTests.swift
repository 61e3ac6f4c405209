import XCTest
import GraftKernels

/// Batch norm (per column of [rows, C]) and layer norm (per row) against the
/// textbook formulas, forward and backward.
final class NormalizationTests: XCTestCase {
    /// Mean and biased variance of each column (stride `cols`) or each row.
    func statistics(_ x: [Float], rows: Int, cols: Int, perColumn: Bool) -> (mean: [Float], variance: [Float]) {
        let groups = perColumn ? cols : rows, size = perColumn ? rows : cols
        var mean = [Float](repeating: 0, count: groups), variance = [Float](repeating: 0, count: groups)
        for gi in 0..<groups {
            var s = 0.0, ss = 0.0
            for j in 0..<size { let v = Double(x[perColumn ? j * cols + gi : gi * cols + j]); s += v; ss += v * v }
            let m = s / Double(size)
            mean[gi] = Float(m)
            variance[gi] = Float(ss / Double(size) - m * m)
        }
        return (mean, variance)
    }

    /// Normalisation backward for groups of `size` values: returns dx, dscale, dshift
    /// per element / per affine index.
    func normBackward(_ x: [Float], _ dy: [Float], rows: Int, cols: Int, perColumn: Bool, scale: [Float],
                      mean: [Float], variance: [Float], epsilon: Float) -> (dx: [Float], dScale: [Float], dShift: [Float]) {
        let groups = perColumn ? cols : rows, size = perColumn ? rows : cols
        var dx = [Float](repeating: 0, count: x.count)
        var dScale = [Float](repeating: 0, count: cols), dShift = [Float](repeating: 0, count: cols)
        for r in 0..<rows { for c in 0..<cols {
            let gi = perColumn ? c : r
            let xhat = (x[r * cols + c] - mean[gi]) / (variance[gi] + epsilon).squareRoot()
            dScale[c] += dy[r * cols + c] * xhat
            dShift[c] += dy[r * cols + c]
        } }
        for gi in 0..<groups {
            let inv = 1 / (variance[gi] + epsilon).squareRoot()
            var sumG: Float = 0, sumGX: Float = 0 // of g = dy * scale, over the group
            for j in 0..<size {
                let i = perColumn ? j * cols + gi : gi * cols + j, c = i % cols
                let g = dy[i] * scale[c], xhat = (x[i] - mean[gi]) * inv
                sumG += g; sumGX += g * xhat
            }
            for j in 0..<size {
                let i = perColumn ? j * cols + gi : gi * cols + j, c = i % cols
                let g = dy[i] * scale[c], xhat = (x[i] - mean[gi]) * inv
                dx[i] = inv * (g - sumG / Float(size) - xhat * sumGX / Float(size))
            }
        }
        return (dx, dScale, dShift)
    }

    func testBatchNormTrainingForwardAndBackward() throws {
        var rng = SeededRandom(seed: 41)
        for (rows, channels) in [(6, 3), (2 * 5 * 5, 16), (300, 35)] {
            let x = rng.floats(rows * channels, -2, 3), dy = rng.floats(rows * channels)
            let scale = rng.floats(channels, 0.5, 1.5), shift = rng.floats(channels)
            let eps: Float = 1e-5
            let (m, v) = statistics(x, rows: rows, cols: channels, perColumn: true)
            var y = output(x.count), mean = output(channels), variance = output(channels)
            try Kernels.batchNormForward(rows: rows, channels: channels, src: x, scale: scale, shift: shift, mean: &mean,
                                     variance: &variance, training: true, epsilon: eps, dst: &y)
            assertClose(mean, m, "batch mean \(rows)x\(channels)")
            assertClose(variance, v, "batch variance \(rows)x\(channels)")
            let expected = (0..<x.count).map { i in
                let c = i % channels
                return (x[i] - m[c]) / (v[c] + eps).squareRoot() * scale[c] + shift[c]
            }
            assertClose(y, expected, "batch norm training \(rows)x\(channels)")

            var dx = output(x.count), dScale = output(channels), dShift = output(channels)
            try Kernels.batchNormBackward(rows: rows, channels: channels, src: x, diffDst: dy, scale: scale, mean: mean,
                                      variance: variance, epsilon: eps, diffSrc: &dx, diffScale: &dScale, diffShift: &dShift)
            let e = normBackward(x, dy, rows: rows, cols: channels, perColumn: true, scale: scale, mean: m, variance: v, epsilon: eps)
            assertClose(dx, e.dx, "batch norm dx \(rows)x\(channels)")
            assertClose(dScale, e.dScale, "batch norm dscale \(rows)x\(channels)")
            assertClose(dShift, e.dShift, "batch norm dshift \(rows)x\(channels)")

            // Training with an activation applied after normalisation.
            var activated = output(x.count), m2 = output(channels), v2 = output(channels)
            try Kernels.batchNormForward(rows: rows, channels: channels, src: x, scale: scale, shift: shift, mean: &m2,
                                     variance: &v2, training: true, epsilon: eps, dst: &activated, activation: .relu6)
            assertClose(activated, expected.map { min(max($0, 0), 6) }, "batch norm training + relu6")
        }
    }

    func testBatchNormInference() throws {
        var rng = SeededRandom(seed: 42)
        let rows = 40, channels = 24
        let x = rng.floats(rows * channels, -3, 3)
        let scale = rng.floats(channels), shift = rng.floats(channels)
        var mean = rng.floats(channels), variance = rng.floats(channels, 0.1, 2)
        let eps: Float = 1e-3
        let expected = (0..<x.count).map { i in
            let c = i % channels
            return (x[i] - mean[c]) / (variance[c] + eps).squareRoot() * scale[c] + shift[c]
        }
        for activation in [nil, Activation.relu, .silu] {
            var y = output(x.count)
            let (m0, v0) = (mean, variance)
            try Kernels.batchNormForward(rows: rows, channels: channels, src: x, scale: scale, shift: shift, mean: &mean,
                                     variance: &variance, training: false, epsilon: eps, dst: &y, activation: activation)
            XCTAssertEqual(mean, m0, "inference leaves the statistics alone")
            XCTAssertEqual(variance, v0)
            let want = activation.map { a in expected.map { ActivationTests.reference(a, $0) } } ?? expected
            assertClose(y, want, "batch norm inference \(String(describing: activation))")
        }
    }

    func testLayerNormForwardAndBackward() throws {
        var rng = SeededRandom(seed: 43)
        for (rows, cols) in [(3, 8), (10, 384), (7, 33)] {
            let x = rng.floats(rows * cols, -2, 2), dy = rng.floats(rows * cols)
            let gamma = rng.floats(cols, 0.5, 1.5), beta = rng.floats(cols)
            let eps: Float = 1e-12
            let (m, v) = statistics(x, rows: rows, cols: cols, perColumn: false)
            var y = output(x.count), mean = output(rows), variance = output(rows)
            try Kernels.layerNormForward(rows: rows, cols: cols, src: x, gamma: gamma, beta: beta, epsilon: eps, dst: &y,
                                     mean: &mean, variance: &variance)
            assertClose(mean, m, "layer norm mean")
            assertClose(variance, v, "layer norm variance")
            let expected = (0..<x.count).map { i in
                let r = i / cols, c = i % cols
                return (x[i] - m[r]) / (v[r] + eps).squareRoot() * gamma[c] + beta[c]
            }
            assertClose(y, expected, "layer norm \(rows)x\(cols)")
            var dx = output(x.count), dGamma = output(cols), dBeta = output(cols)
            try Kernels.layerNormBackward(rows: rows, cols: cols, src: x, diffDst: dy, gamma: gamma, mean: mean, variance: variance,
                                      epsilon: eps, diffSrc: &dx, diffGamma: &dGamma, diffBeta: &dBeta)
            let e = normBackward(x, dy, rows: rows, cols: cols, perColumn: false, scale: gamma, mean: m, variance: v, epsilon: eps)
            assertClose(dx, e.dx, "layer norm dx \(rows)x\(cols)")
            assertClose(dGamma, e.dScale, "layer norm dgamma \(rows)x\(cols)")
            assertClose(dBeta, e.dShift, "layer norm dbeta \(rows)x\(cols)")
        }
    }
}
