import GraftTensor
import XCTest

/// `conv2d(adding:)`, the residual-block epilogue: without a tape the add and
/// the activation are oneDNN post-ops of the convolution (optionally written
/// into the residual's own buffer); with a tape they are separate ops. Both
/// must equal conv, then add, then activation.
final class ResidualConvTests: XCTestCase {
    var rng = SeededGenerator(seed: 7)

    /// (input, weight OIHW, options) for 1x1, 3x3 with bias-free stride 1 padding 1, and depthwise shapes.
    func cases() -> [(x: Tensor, w: Tensor, options: Conv2DOptions)] {
        [
            (Tensor.randn([2, 6, 5, 16], generator: &rng), Tensor.randn([24, 16, 1, 1], std: 0.3, generator: &rng), .init()),
            (Tensor.randn([2, 7, 7, 8], generator: &rng), Tensor.randn([8, 8, 3, 3], std: 0.2, generator: &rng), .init(padding: 1)),
            (Tensor.randn([1, 9, 9, 12], generator: &rng), Tensor.randn([12, 1, 3, 3], std: 0.4, generator: &rng),
             .init(stride: 2, padding: 1, groups: 12)),
        ]
    }

    func maxAbsDiff(_ a: Tensor, _ b: Tensor) -> Float {
        zip(a.values, b.values).map { abs($0 - $1) }.max() ?? .infinity
    }

    func testFusedEqualsConvThenAddThenActivation() throws {
        for (x, w, options) in cases() {
            let bias = Tensor.randn([w.shape[0]], generator: &rng)
            let plain = try withNoGrad { try x.conv2d(weight: w, bias: bias, options: options) }
            let residual = Tensor.randn(plain.shape, generator: &rng)
            let residualBefore = residual.values
            for activation in [nil, Activation.relu, .relu6] {
                let unfused = try withNoGrad { () -> Tensor in
                    let s = try plain + residual
                    return try activation.map { try s.activation($0) } ?? s
                }
                let fused = try withNoGrad {
                    try x.conv2d(weight: w, bias: bias, options: options, adding: residual, activation: activation)
                }
                XCTAssertEqual(fused.shape, unfused.shape)
                // float32 sums in a different order: 1e-5 of values of size ~10.
                XCTAssertLessThanOrEqual(maxAbsDiff(fused, unfused), 1e-4, "\(w.shape) \(String(describing: activation))")
                XCTAssertEqual(residual.values, residualBefore, "a residual that is not consumed stays intact")
            }
        }
    }

    func testConsumedResidualBecomesTheOutput() throws {
        let (x, w, options) = cases()[0]
        let plain = try withNoGrad { try x.conv2d(weight: w, bias: nil, options: options) }
        let residual = Tensor.randn(plain.shape, generator: &rng)
        let expected = try withNoGrad { try (plain + residual).relu() }
        let version = residual.storage.version
        let out = try withNoGrad {
            try x.conv2d(weight: w, bias: nil, options: options, adding: residual, activation: .relu, consumingResidual: true)
        }
        XCTAssertTrue(out.storage === residual.storage, "the residual's buffer is reused")
        XCTAssertNotEqual(residual.storage.version, version, "the in-place write bumps the version")
        XCTAssertLessThanOrEqual(maxAbsDiff(out, expected), 1e-4)
        // A residual that shares the input's buffer is never written in place.
        let square = Tensor.randn([1, 4, 4, 8], generator: &rng), identity = Tensor.randn([8, 8, 1, 1], generator: &rng)
        let selfSum = try withNoGrad {
            try square.conv2d(weight: identity, bias: nil, adding: square, consumingResidual: true)
        }
        XCTAssertFalse(selfSum.storage === square.storage)
        let reference = try withNoGrad { try square.conv2d(weight: identity, bias: nil) + square }
        XCTAssertLessThanOrEqual(maxAbsDiff(selfSum, reference), 1e-4)
    }

    func testTapePathHasExactGradients() throws {
        let (x, w, options) = cases()[1]
        x.requiresGrad = true; w.requiresGrad = true
        let plain = try withNoGrad { try x.conv2d(weight: w, bias: nil, options: options) }
        let residual = Tensor.randn(plain.shape, generator: &rng)
        residual.requiresGrad = true
        let r = Tensor.randn(plain.shape, generator: &rng)
        // Fused op (tape path) and the separate ops: same forward, same gradients.
        let fused = try x.conv2d(weight: w, bias: nil, options: options, adding: residual, activation: .tanh)
        try (fused * r).sum().backward()
        let grads = [x.grad, w.grad, residual.grad].map { $0?.values ?? [] }
        x.grad = nil; w.grad = nil; residual.grad = nil
        let separate = try (x.conv2d(weight: w, bias: nil, options: options) + residual).tanh()
        try (separate * r).sum().backward()
        let expected = [x.grad, w.grad, residual.grad].map { $0?.values ?? [] }
        XCTAssertLessThanOrEqual(maxAbsDiff(fused, separate), 1e-5)
        for (name, (a, b)) in zip(["input", "weight", "residual"], zip(grads, expected)) {
            XCTAssertEqual(a.count, b.count, name)
            XCTAssertFalse(a.isEmpty, "\(name) got a gradient")
            XCTAssertLessThanOrEqual(zip(a, b).map { abs($0 - $1) }.max() ?? .infinity, 1e-5, name)
        }
        // And the no-grad (post-op) forward agrees with the taped one.
        let inference = try withNoGrad { try x.conv2d(weight: w, bias: nil, options: options, adding: residual, activation: .tanh) }
        XCTAssertLessThanOrEqual(maxAbsDiff(inference, fused), 1e-4)
    }

    func testResidualShapeMismatchIsAnError() throws {
        let (x, w, options) = cases()[0]
        XCTAssertThrowsError(try x.conv2d(weight: w, bias: nil, options: options, adding: Tensor.zeros([2, 6, 5, 16]))) { error in
            XCTAssertTrue("\(error)".contains("residual"), "\(error)")
        }
    }
}
