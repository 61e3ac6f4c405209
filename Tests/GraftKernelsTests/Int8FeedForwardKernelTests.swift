import XCTest
@testable import GraftKernels

/// The int8 feed-forward pair (`Kernels.feedForwardInt8`) hands its hidden activations from one linear to the next
/// as u8 codes; those codes come from the same fp32 values two separate `linearInt8` calls produce, so the pair
/// equals the two calls exactly, with and without a residual, both ways of applying the scales, on shapes oneDNN
/// blocks unevenly.
final class Int8FeedForwardKernelTests: XCTestCase {
    func testThePairEqualsTwoInt8Linears() throws {
        try Precision.int8.requireSupport()
        let shapes: [(rows: Int, inputs: Int, hidden: Int, outputs: Int, residual: Bool, bias: Bool)] = [
            (37, 64, 160, 64, true, true), (5, 33, 70, 17, false, true), (130, 96, 384, 96, true, false),
        ]
        for scaling in [Int8LinearScaling.multiplyPostOp, .runtimeOutputScales] {
            for (n, s) in shapes.enumerated() {
                var random = SeededRandom(seed: 71 + UInt64(n))
                let x = random.floats(s.rows * s.inputs, -2, 3)
                let w1 = random.floats(s.hidden * s.inputs, -0.3, 0.3), w2 = random.floats(s.outputs * s.hidden, -0.3, 0.3)
                let b1 = s.bias ? random.floats(s.hidden) : nil, b2 = s.bias ? random.floats(s.outputs) : nil
                let residual = s.residual ? random.floats(s.rows * s.outputs) : output(s.rows * s.outputs)
                let (key1, key2) = (WeightKey(id: -19_400 - 2 * n, version: 0), WeightKey(id: -19_401 - 2 * n, version: 0))
                var pair = residual
                try pair.withUnsafeMutableBufferPointer { out in
                    try Kernels.feedForwardInt8(a: x, rows: s.rows, inputs: s.inputs, hidden: s.hidden, outputs: s.outputs,
                                                weight1: w1, weightKey1: key1, bias1: b1, activation: .gelu, weight2: w2, weightKey2: key2,
                                                bias2: b2, c: out.baseAddress!, accumulate: s.residual, scaling: scaling)
                }
                var inner = output(s.rows * s.hidden), separate = residual
                try inner.withUnsafeMutableBufferPointer { h in
                    try Kernels.linearInt8(a: x, rows: s.rows, inputs: s.inputs, weight: w1, outputs: s.hidden, weightKey: key1, bias: b1,
                                           c: h.baseAddress!, activation: .gelu, scaling: scaling)
                    try separate.withUnsafeMutableBufferPointer { out in
                        try Kernels.linearInt8(a: h.baseAddress!, rows: s.rows, inputs: s.hidden, weight: w2, outputs: s.outputs, weightKey: key2,
                                               bias: b2, c: out.baseAddress!, accumulate: s.residual, scaling: scaling)
                    }
                }
                XCTAssertEqual(pair, separate, "\(s), \(scaling) on \(Runtime.isa)")
                XCTAssertNotEqual(pair, residual, "\(s): wrote a result")
            }
        }
    }
}
