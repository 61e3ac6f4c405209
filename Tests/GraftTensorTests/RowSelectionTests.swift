import GraftTensor
import XCTest

/// `gatherRows` / `scatterRows`: the rows they move, their gradients (each op is linear, so its gradient is the
/// adjoint placement: exact values), and typed errors.
final class RowSelectionTests: XCTestCase {
    func testRowsMoveAndGradientsAreTheAdjointPlacement() throws {
        let x = try Tensor(shape: [2, 2, 3], values: (0..<12).map(Float.init))
        x.requiresGrad = true
        let picked = try x.gatherRows([3, 0, 3])
        XCTAssertEqual(picked.shape, [3, 3])
        XCTAssertEqual(picked.values, [9, 10, 11, 0, 1, 2, 9, 10, 11])
        let seed = try Tensor(shape: [3, 3], values: [1, 2, 3, 4, 5, 6, 7, 8, 9])
        try picked.backward(seed: seed)
        // Row 3 was picked twice: both gradients add up there; rows 1 and 2 get none.
        XCTAssertEqual(x.grad?.values, [4, 5, 6, 0, 0, 0, 0, 0, 0, 8, 10, 12])

        let y = try Tensor(shape: [2, 3], values: [1, 2, 3, 4, 5, 6])
        y.requiresGrad = true
        let placed = try y.scatterRows([2, 0], count: 4)
        XCTAssertEqual(placed.shape, [4, 3])
        XCTAssertEqual(placed.values, [4, 5, 6, 0, 0, 0, 1, 2, 3, 0, 0, 0])
        try placed.backward(seed: try Tensor(shape: [4, 3], values: (0..<12).map(Float.init)))
        XCTAssertEqual(y.grad?.values, [6, 7, 8, 0, 1, 2])
    }

    func testBadRowsAreTypedErrors() throws {
        let x = Tensor.zeros([4, 2])
        XCTAssertThrowsError(try x.gatherRows([4])) { XCTAssertTrue("\($0)".contains("gatherRows"), "\($0)") }
        XCTAssertThrowsError(try x.scatterRows([0, 1], count: 8)) { XCTAssertTrue("\($0)".contains("scatterRows"), "\($0)") }
        XCTAssertThrowsError(try x.scatterRows([0, 1, 2, 9], count: 8)) { XCTAssertTrue("\($0)".contains("outside"), "\($0)") }
        XCTAssertThrowsError(try x.scatterRows([0, 1, 1, 2], count: 8)) { XCTAssertTrue("\($0)".contains("twice"), "\($0)") }
    }
}
