import GraftTensor
import XCTest

/// Backward of every differentiable op against central finite differences.
///
/// Tolerance: values are O(1) and the loss sums O(100) terms, so float32
/// rounding in f(x ± h) is ~1e-5 absolute; with h = 1e-2 that is ~1e-3 in
/// the quotient, and the truncation error of the central difference is
/// O(h^2 * f''') ~ 1e-4 for these smooth functions. Hence 1e-2 relative.
/// Piecewise-linear ops use inputs kept away from their kinks.
final class GradientCheckTests: XCTestCase {
    var rng = SeededGenerator(seed: 42)

    func rand(_ shape: [Int], scale: Float = 1) -> Tensor {
        let t = Tensor.randn(shape, std: scale, generator: &rng)
        t.requiresGrad = true
        return t
    }

    /// Compares d(sum(f(xs) * r))/d(xs) with central differences.
    func check(_ name: String, _ inputs: [Tensor], tol: Float = 1e-2, h: Float = 1e-2,
               file: StaticString = #filePath, line: UInt = #line, _ f: ([Tensor]) throws -> Tensor) throws {
        let out = try f(inputs)
        let r = Tensor.randn(out.shape, generator: &rng)
        let loss = try (out * r).sum()
        for x in inputs { x.grad = nil }
        try loss.backward()
        for (idx, x) in inputs.enumerated() where x.requiresGrad {
            let analytic = try XCTUnwrap(x.grad, "\(name): no gradient for input \(idx)", file: file, line: line)
            var maxErr: Float = 0, scale: Float = 1e-3
            for i in 0..<x.count {
                let orig = x.pointer[i]
                x.pointer[i] = orig + h
                x.storage.markModified()  // invalidates kernel caches keyed on (id, version)
                let plus = try withNoGrad { try (f(inputs) * r).sum().scalarValue }
                x.pointer[i] = orig - h
                x.storage.markModified()
                let minus = try withNoGrad { try (f(inputs) * r).sum().scalarValue }
                x.pointer[i] = orig
                x.storage.markModified()
                let numeric = (plus - minus) / (2 * h)
                maxErr = max(maxErr, abs(numeric - analytic.pointer[i]))
                scale = max(scale, abs(numeric))
            }
            XCTAssertLessThanOrEqual(maxErr, tol * max(scale, 1), "\(name) input \(idx): max error \(maxErr), scale \(scale)", file: file, line: line)
        }
    }

    func testArithmeticWithBroadcasting() throws {
        let a = rand([2, 3, 4]), b = rand([4]), c = rand([3, 1])
        try check("add", [a, b]) { try $0[0] + $0[1] }
        try check("sub", [a, c]) { try $0[0] - $0[1] }
        try check("mul", [a, b]) { try $0[0] * $0[1] }
        let pos = try rand([3, 1]).abs() + 0.5
        let p = pos.detached(); p.requiresGrad = true
        try check("div", [a, p]) { try $0[0] / $0[1] }
        try check("affine", [a]) { try $0[0] * 3 + 1 }
    }

    func testReductions() throws {
        let a = rand([3, 4, 5])
        try check("sum axis", [a]) { try $0[0].sum(axes: [1]) }
        try check("sum all", [a]) { try $0[0].sum() }
        try check("mean keepDims", [a]) { try $0[0].mean(axes: [0, 2], keepDims: true) }
        try check("max", [a]) { try $0[0].max(axis: 2) }
    }

    func testMatmul() throws {
        let a = rand([3, 4]), b = rand([4, 5]), bt = rand([5, 4])
        try check("matmul", [a, b]) { try $0[0].matmul($0[1]) }
        try check("matmul transposeB", [a, bt]) { try $0[0].matmul($0[1], transposeB: true) }
        let x = rand([2, 3, 4]), y = rand([2, 4, 2])
        try check("batched matmul", [x, y]) { try $0[0].matmul($0[1]) }
        let w = rand([6, 4]), bias = rand([6])
        try check("linear", [x, w, bias]) { try $0[0].linear(weight: $0[1], bias: $0[2]) }
    }

    func testConvolutions() throws {
        let x = rand([2, 5, 5, 4]), w = rand([6, 2, 3, 3]), b = rand([6])
        try check("grouped conv", [x, w, b]) { try $0[0].conv2d(weight: $0[1], bias: $0[2], options: .init(stride: 2, padding: 1, groups: 2)) }
        let dw = rand([4, 1, 3, 3])
        try check("depthwise conv", [x, dw]) { try $0[0].conv2d(weight: $0[1], bias: nil, options: .init(padding: 1, dilation: 2, groups: 4)) }
    }

    func testPooling() throws {
        let x = rand([1, 6, 6, 2])
        try check("avg pool", [x]) { try $0[0].avgPool2d(kernel: 3, stride: 2, padding: 1) }
        try check("avg pool exclude pad", [x]) { try $0[0].avgPool2d(kernel: 3, stride: 2, padding: 1, countIncludePad: false) }
        try check("global avg pool", [x]) { try $0[0].globalAvgPool2d() }
        try check("adaptive avg pool", [x]) { try $0[0].adaptiveAvgPool2d(outputSize: (4, 4)) }
        // Max pool: distinct values so no ties sit within h of each other.
        let distinct = try Tensor(shape: [1, 4, 4, 1], values: (0..<16).map { Float(($0 * 7) % 16) * 0.1 }, requiresGrad: true)
        try check("max pool", [distinct], h: 1e-3) { try $0[0].maxPool2d(kernel: 2) }
    }

    func testNormalization() throws {
        let x = rand([2, 3, 3, 4]), g = rand([4]), b = rand([4])
        try check("batch norm (training)", [x, g, b]) { try $0[0].batchNormTraining(scale: $0[1], shift: $0[2], epsilon: 1e-5).output }
        let mean = Tensor.randn([4], generator: &rng), variance = try Tensor.randn([4], generator: &rng).abs() + 0.5
        try check("batch norm (frozen stats)", [x, g, b]) {
            try $0[0].batchNormInference(scale: $0[1], shift: $0[2], mean: mean, variance: variance, epsilon: 1e-5)
        }
        let y = rand([3, 8]), lg = rand([8]), lb = rand([8])
        try check("layer norm", [y, lg, lb]) { try $0[0].layerNorm(gamma: $0[1], beta: $0[2], epsilon: 1e-5) }
    }

    func testSoftmaxFamily() throws {
        let x = rand([3, 6])
        try check("softmax", [x]) { try $0[0].softmax() }
        try check("log softmax", [x]) { try $0[0].logSoftmax() }
        let labels = IndexTensor([1, 5, 0])
        try check("cross entropy", [x]) { try $0[0].crossEntropy(labels: labels, labelSmoothing: 0.1, classWeights: [1, 2, 1, 1, 1, 3]) }
    }

    func testActivations() throws {
        // Keep inputs off the kinks of relu/relu6/hardswish (0, ±3, 6).
        let values: [Float] = [-5.1, -2.2, -1.3, -0.4, 0.45, 1.1, 2.4, 4.2, 5.1, 7.3]
        for kind in [Activation.relu, .relu6, .gelu, .silu, .hardswish, .sigmoid, .tanh] {
            let x = try Tensor(shape: [10], values: values, requiresGrad: true)
            try check("\(kind)", [x]) { try $0[0].activation(kind) }
        }
        let p = try Tensor(shape: [4], values: [0.5, 1.2, 2.0, 3.1], requiresGrad: true)
        try check("exp", [p]) { try $0[0].exp() }
        try check("log", [p]) { try $0[0].log() }
        try check("sqrt", [p]) { try $0[0].sqrt() }
    }

    func testShapeOps() throws {
        let a = rand([2, 3, 4]), b = rand([2, 2, 4])
        try check("reshape", [a]) { try $0[0].reshaped([6, -1]) }
        try check("permute", [a]) { try $0[0].permuted([2, 0, 1]) }
        try check("transpose", [a]) { try $0[0].transposed() }
        try check("concat", [a, b]) { try Tensor.concat([$0[0], $0[1]], axis: 1) }
        try check("slice", [a]) { try $0[0].slice(axis: 2, 1..<3) }
        let table = rand([5, 3])
        try check("embedding", [table]) { try $0[0].embedding(IndexTensor([4, 0, 4, 2])) }
    }

    func testDropoutIsSeededAndScaled() throws {
        let x = rand([1000])
        var g1 = SeededGenerator(seed: 7), g2 = SeededGenerator(seed: 7)
        let y1 = try x.dropout(probability: 0.25, generator: &g1), y2 = try x.dropout(probability: 0.25, generator: &g2)
        XCTAssertEqual(y1.values, y2.values)
        let zeros = y1.values.filter { $0 == 0 }.count
        XCTAssertEqual(Double(zeros) / 1000, 0.25, accuracy: 0.05)
        for i in 0..<1000 where y1.pointer[i] != 0 { XCTAssertEqual(y1.pointer[i], x.pointer[i] / 0.75, accuracy: 1e-5) }
        var g3 = SeededGenerator(seed: 7)
        try check("dropout", [x]) { var g = g3; return try $0[0].dropout(probability: 0.25, generator: &g) }
        _ = g3.next()
    }
}
