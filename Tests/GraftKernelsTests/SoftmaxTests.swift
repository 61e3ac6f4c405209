import Foundation
import XCTest
import GraftKernels

/// Softmax and log-softmax over rows, forward and backward.
final class SoftmaxTests: XCTestCase {
    func testForwardAndBackward() throws {
        var rng = SeededRandom(seed: 51)
        for (rows, cols) in [(1, 1), (4, 10), (13, 1000), (64, 7)] {
            let x = rng.floats(rows * cols, -5, 5), dy = rng.floats(rows * cols)
            var soft = [Float](repeating: 0, count: x.count)
            for r in 0..<rows {
                let row = x[(r * cols)..<((r + 1) * cols)].map(Double.init)
                let m = row.max()!, z = row.reduce(0) { $0 + exp($1 - m) }
                for c in 0..<cols { soft[r * cols + c] = Float(exp(row[c] - m) / z) }
            }
            for log in [false, true] {
                var y = output(x.count), dx = output(x.count)
                try Kernels.softmaxForward(rows: rows, cols: cols, src: x, dst: &y, log: log)
                assertClose(y, log ? soft.map { Foundation.log($0) } : soft, "softmax log \(log) \(rows)x\(cols)")
                try Kernels.softmaxBackward(rows: rows, cols: cols, dst: y, diffDst: dy, diffSrc: &dx, log: log)
                var expected = [Float](repeating: 0, count: x.count)
                for r in 0..<rows {
                    let range = (r * cols)..<((r + 1) * cols)
                    if log {
                        let s = range.reduce(Float(0)) { $0 + dy[$1] }
                        for i in range { expected[i] = dy[i] - soft[i] * s }
                    } else {
                        let s = range.reduce(Float(0)) { $0 + dy[$1] * soft[$1] }
                        for i in range { expected[i] = soft[i] * (dy[i] - s) }
                    }
                }
                assertClose(dx, expected, "softmax backward log \(log) \(rows)x\(cols)")
            }
        }
    }
}
