import GraftTensor
import XCTest

final class AutogradTests: XCTestCase {
    func testGradientsAccumulateAcrossBackwardCalls() throws {
        let w = try Tensor(shape: [3], values: [1, 2, 3], requiresGrad: true)
        try (w * w).sum().backward()
        try (w * w).sum().backward()
        XCTAssertEqual(w.grad!.values, [4, 8, 12])
    }

    func testNoGradScopeRecordsNothing() throws {
        let w = try Tensor(shape: [2], values: [1, 2], requiresGrad: true)
        let y = try withNoGrad { try (w * w).sum() }
        XCTAssertFalse(y.needsGrad)
        XCTAssertThrowsError(try y.backward())
    }

    func testTapeIsReleasedAfterBackward() throws {
        let w = try Tensor(shape: [2], values: [1, 2], requiresGrad: true)
        weak var intermediate: Tensor?
        let loss: Tensor
        do {
            let h = try w * w
            intermediate = h
            loss = try h.sum()
        }
        XCTAssertNotNil(intermediate, "the tape keeps intermediates alive until backward")
        try loss.backward()
        XCTAssertNil(intermediate, "backward releases the tape")
    }

    func testShapeMismatchNamesOpAndShapes() throws {
        let a = Tensor.zeros([2, 3]), b = Tensor.zeros([4])
        XCTAssertThrowsError(try a + b) { error in
            XCTAssertEqual(error as? TensorError, .shapeMismatch(op: "add", lhs: [2, 3], rhs: [4]))
            XCTAssertEqual("\(error)", "add: shapes [2, 3] and [4] do not match")
        }
        XCTAssertThrowsError(try a.matmul(Tensor.zeros([4, 2]))) { error in
            XCTAssertEqual(error as? TensorError, .shapeMismatch(op: "matmul", lhs: [2, 3], rhs: [4, 2]))
        }
    }

    func testSharedSubexpressionGetsBothGradients() throws {
        let x = try Tensor(shape: [2], values: [3, -1], requiresGrad: true)
        let y = try x * 2
        try (y * y + y).sum().backward()  // d/dx (4x^2 + 2x) = 8x + 2
        XCTAssertEqual(x.grad!.values, [26, -6])
    }

    func testArgmaxAndMax() throws {
        let x = try Tensor(shape: [2, 3], values: [1, 5, 2, 7, 0, 7])
        XCTAssertEqual(try x.argmax(axis: 1).values, [1, 0])
        XCTAssertEqual(try x.max(axis: 0).values, [7, 5, 7])
    }
}
