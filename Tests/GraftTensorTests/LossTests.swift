import Foundation
import GraftTensor
import XCTest

/// The regression and multi-label network losses against PyTorch (`BCEWithLogitsLoss`, `MSELoss`,
/// `HuberLoss`; fixtures/tasks/make_loss_fixtures.py): values and gradients of the outputs, computed
/// there in float64, here in float32 with a float64 sum. And against central finite differences.
final class LossTests: XCTestCase {
    struct Case: Decodable {
        var shape: [Int]
        var outputs: [Double]
        var targets: [Double]
        var loss: Double
        var gradient: [Double]
    }

    struct Fixture: Decodable {
        var bce: Case
        var mse: Case
        var huber: Case
        var huber_half: Case
    }

    func load() throws -> Fixture {
        try JSONDecoder().decode(Fixture.self, from: Data(contentsOf: FixturePaths.fixtures.appendingPathComponent("tasks/losses.json")))
    }

    func compare(_ c: Case, _ name: String, file: StaticString = #filePath, line: UInt = #line,
                 _ loss: (Tensor, Tensor) throws -> Tensor) throws {
        let x = try Tensor(shape: c.shape, values: c.outputs.map(Float.init), requiresGrad: true)
        let y = try Tensor(shape: c.shape, values: c.targets.map(Float.init))
        let value = try loss(x, y)
        XCTAssertEqual(value.shape, [], name, file: file, line: line)
        XCTAssertEqual(Double(value.scalarValue), c.loss, accuracy: 1e-6 * max(1, abs(c.loss)), "\(name) loss", file: file, line: line)
        try value.backward()
        let g = try XCTUnwrap(x.grad, file: file, line: line).values
        for (i, (got, want)) in zip(g, c.gradient).enumerated() {
            XCTAssertEqual(Double(got), want, accuracy: 1e-7, "\(name) gradient \(i)", file: file, line: line)
        }
    }

    func testLossesEqualPyTorch() throws {
        let f = try load()
        try compare(f.bce, "BCEWithLogitsLoss") { try $0.binaryCrossEntropyWithLogits(targets: $1) }
        try compare(f.mse, "MSELoss") { try $0.meanSquaredError(targets: $1) }
        try compare(f.huber, "HuberLoss(delta=1)") { try $0.huberLoss(targets: $1, delta: 1) }
        try compare(f.huber_half, "HuberLoss(delta=0.5)") { try $0.huberLoss(targets: $1, delta: 0.5) }
        // The fixture's logits at +-30 are finite here too (the naive log(sigmoid) is -inf in float32).
        XCTAssertTrue(f.bce.outputs.contains(30) && f.bce.outputs.contains(-30))
    }

    func testGradientsMatchFiniteDifferences() throws {
        var rng = SeededGenerator(seed: 18)
        let x = Tensor.randn([6, 4], std: 2, generator: &rng)
        let values = Tensor.randn([6, 4], std: 2, generator: &rng).values
        let labels = try Tensor(shape: [6, 4], values: values.map { $0 > 0 ? 1 : 0 })
        let truth = try Tensor(shape: [6, 4], values: values)
        let losses: [(String, (Tensor) throws -> Tensor)] = [
            ("bce", { try $0.binaryCrossEntropyWithLogits(targets: labels) }),
            ("mse", { try $0.meanSquaredError(targets: truth) }),
            ("huber", { try $0.huberLoss(targets: truth, delta: 1) }),
        ]
        for (name, f) in losses {
            x.requiresGrad = true
            x.grad = nil
            try f(x).backward()
            let analytic = try XCTUnwrap(x.grad).values
            let h: Float = 1e-3
            for i in 0..<x.count {
                let original = x.pointer[i]
                x.pointer[i] = original + h
                let plus = try withNoGrad { try Double(f(x).scalarValue) }
                x.pointer[i] = original - h
                let minus = try withNoGrad { try Double(f(x).scalarValue) }
                x.pointer[i] = original
                // Huber's kink at |d| = delta: central differences straddling it are not the derivative.
                if name == "huber", abs(abs(original - truth.pointer[i]) - 1) < 2 * h { continue }
                XCTAssertEqual(Float((plus - minus) / Double(2 * h)), analytic[i], accuracy: 2e-4, "\(name) element \(i)")
            }
        }
    }

    func testShapeMismatchAndBadDeltaAreErrors() throws {
        let x = try Tensor(shape: [2, 3], values: [Float](repeating: 0, count: 6))
        let y = try Tensor(shape: [3, 2], values: [Float](repeating: 0, count: 6))
        XCTAssertThrowsError(try x.meanSquaredError(targets: y)) { XCTAssertTrue("\($0)".contains("meanSquaredError"), "\($0)") }
        XCTAssertThrowsError(try x.huberLoss(targets: x, delta: 0)) { XCTAssertTrue("\($0)".contains("delta"), "\($0)") }
    }
}
