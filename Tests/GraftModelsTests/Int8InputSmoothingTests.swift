import GraftNN
import GraftTensor
@testable import GraftModels
import XCTest

/// `Int8InputSmoothing`: the transform leaves the linear's fp32 result unchanged, follows its formula, keeps columns
/// it cannot scale at 1, and refuses a norm of the wrong width.
final class Int8InputSmoothingTests: XCTestCase {
    func testSmoothedLinearEqualsTheOriginalInFP32() throws {
        var g = SeededGenerator(seed: 12)
        let norm = LayerNorm(6)
        norm.weight.pointer.update(from: [1, 8, 0.5, 0, 2, 1], count: 6)   // column 3: no norm scale
        norm.bias.pointer.update(from: [0, 1, 0, 0, -1, 0.25], count: 6)
        let weight = Tensor.randn([4, 6], generator: &g)
        for o in 0..<4 { weight.pointer[o * 6 + 5] = 0 }   // column 5: no weight
        let (smoothed, inverse) = try Int8InputSmoothing.smoothed(weight: weight, norm: norm)
        let x = Tensor.randn([3, 6], generator: &g)
        let original = try x.linear(weight: weight, bias: nil), transformed = try (x * inverse).linear(weight: smoothed, bias: nil)
        for (a, b) in zip(original.values, transformed.values) { XCTAssertEqual(a, b, accuracy: 1e-5) }
        // s_j = sqrt((|gamma_j| + |beta_j|) / max_o |W_oj|) over the median of the columns that have both.
        let w = weight.values, gamma = norm.weight.values, beta = norm.bias.values
        let raw = (0..<6).map { j -> Float? in
            let m = (0..<4).map { abs(w[$0 * 6 + j]) }.max()!, a = abs(gamma[j]) + abs(beta[j])
            return m > 0 && a > 0 ? (a / m).squareRoot() : nil
        }
        let valid = raw.compactMap { $0 }.sorted()
        let median = valid[valid.count / 2]
        for j in 0..<6 {
            XCTAssertEqual(1 / inverse.values[j], raw[j].map { $0 / median } ?? 1, accuracy: 1e-5, "column \(j)")
        }
        XCTAssertThrowsError(try Int8InputSmoothing.smoothed(weight: weight, norm: LayerNorm(5))) { error in
            XCTAssertTrue("\(error)".contains("int8 input smoothing"), "\(error)")
        }
    }
}
