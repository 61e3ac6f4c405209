import Foundation
import XCTest
import GraftKernels

/// Every activation, forward and backward, against its PyTorch formula.
final class ActivationTests: XCTestCase {
    static func reference(_ a: Activation, _ x: Float) -> Float {
        let d = Double(x)
        let y: Double = switch a {
        case .relu: max(d, 0)
        case .relu6: min(max(d, 0), 6)
        case .silu: d / (1 + exp(-d))
        case .gelu: 0.5 * d * (1 + erf(d / 2.0.squareRoot()))
        case .sigmoid: 1 / (1 + exp(-d))
        case .tanh: Foundation.tanh(d)
        case .hardswish: d * min(max(d + 3, 0), 6) / 6
        case .leakyRelu: d > 0 ? d : 0.1 * d
        }
        return Float(y)
    }

    static func derivative(_ a: Activation, _ x: Float) -> Float {
        let d = Double(x)
        let s = 1 / (1 + exp(-d))
        let y: Double = switch a {
        case .relu: d > 0 ? 1 : 0
        case .relu6: d > 0 && d < 6 ? 1 : 0
        case .silu: s + d * s * (1 - s)
        case .gelu: 0.5 * (1 + erf(d / 2.0.squareRoot())) + d * exp(-d * d / 2) / (2 * Double.pi).squareRoot()
        case .sigmoid: s * (1 - s)
        case .tanh: 1 - Foundation.tanh(d) * Foundation.tanh(d)
        case .hardswish: d < -3 ? 0 : (d > 3 ? 1 : (2 * d + 3) / 6)
        case .leakyRelu: d > 0 ? 1 : 0.1
        }
        return Float(y)
    }

    func testForwardAndBackward() throws {
        var rng = SeededRandom(seed: 11)
        for count in [1, 37, 5000] {
            let x = rng.floats(count, -8, 8), dy = rng.floats(count)
            for a in Activation.allCases {
                var y = output(count), dx = output(count)
                try Kernels.eltwiseForward(a, count: count, src: x, dst: &y)
                assertClose(y, x.map { Self.reference(a, $0) }, "\(a) forward, \(count)")
                try Kernels.eltwiseBackward(a, count: count, src: x, diffDst: dy, diffSrc: &dx)
                assertClose(dx, zip(x, dy).map { Self.derivative(a, $0) * $1 }, "\(a) backward, \(count)")
            }
        }
    }

    func testForwardInPlace() throws {
        var rng = SeededRandom(seed: 12)
        let x = rng.floats(1000, -4, 4)
        var y = x
        try y.withUnsafeMutableBufferPointer { try Kernels.eltwiseForward(.silu, count: 1000, src: $0.baseAddress!, dst: $0.baseAddress!) }
        assertClose(y, x.map { Self.reference(.silu, $0) }, "silu in place")
    }
}
