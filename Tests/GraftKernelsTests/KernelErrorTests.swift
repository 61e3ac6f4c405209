import XCTest
@testable import GraftKernels

/// A kernel that cannot run throws a `KernelError` naming what failed, and the process keeps
/// running: the next call on the same caches and execution contexts gives the right answer.
final class KernelErrorTests: XCTestCase {
    /// oneDNN itself refuses a product whose inner dimensions disagree (dnnl_matmul_desc_init).
    func testOneDNNRefusalIsThrownAndTheNextCallRuns() throws {
        let a = [Float](repeating: 1, count: 6), b = [Float](repeating: 2, count: 20)
        var c = [Float](repeating: 0, count: 10)
        XCTAssertThrowsError(try Kernels.matmul(a: a, .contiguous([2, 3]), b: b, .contiguous([4, 5]),
                                                c: &c, .contiguous([2, 5]))) { error in
            guard case let .oneDNN(primitive, _, reason)? = error as? KernelError else { return XCTFail("\(error)") }
            XCTAssertTrue(primitive.contains("matmul"), primitive)
            XCTAssertEqual(reason, "invalid arguments")
        }
        try Kernels.matmul(m: 2, n: 5, k: 3, a: a, b: b, c: &c)
        XCTAssertEqual(c, [Float](repeating: 6, count: 10))
    }

    /// An absurd scratch request fails in allocation, not in a trap.
    func testAbsurdAllocationIsThrown() {
        XCTAssertThrowsError(try AlignedBuffer(bytes: 1 << 60, for: "test")) { error in
            XCTAssertEqual(error as? KernelError, .outOfMemory(what: "test", bytes: 1 << 60))
            XCTAssertTrue((error as? KernelError)?.isResourceExhaustion == true)
        }
    }

    /// Geometries no kernel can run (they used to stop the process) are thrown.
    func testInvalidGeometriesAreThrown() {
        let conv = Conv2DGeometry(batch: 1, inChannels: 3, outChannels: 4, height: 2, width: 2, kernelH: 5, kernelW: 5)
        var out = [Float](repeating: 0, count: 16)
        let x = [Float](repeating: 1, count: 12), w = [Float](repeating: 1, count: 300)
        XCTAssertThrowsError(try Kernels.conv2dForward(conv, src: x, weight: w, weightKey: nil, bias: nil, dst: &out)) {
            guard case .invalidArguments(let primitive, _)? = $0 as? KernelError else { return XCTFail("\($0)") }
            XCTAssertEqual(primitive, "convolution")
        }
        let pool = Pool2DGeometry(batch: 1, channels: 3, height: 2, width: 2, kernelH: 3, kernelW: 3, strideH: 1, strideW: 1)
        XCTAssertThrowsError(try Kernels.pool2dForward(kind: .max, geometry: pool, src: x, dst: &out)) {
            XCTAssertNotNil($0 as? KernelError)
        }
        // Max-pool backward without the workspace its forward filled.
        let ok = Pool2DGeometry(batch: 1, channels: 3, height: 2, width: 2, kernelH: 2, kernelW: 2, strideH: 2, strideW: 2)
        XCTAssertThrowsError(try Kernels.pool2dBackward(kind: .max, geometry: ok, diffDst: x, diffSrc: &out, workspace: nil)) {
            guard case .invalidArguments(let primitive, _)? = $0 as? KernelError else { return XCTFail("\($0)") }
            XCTAssertTrue(primitive.hasPrefix("max-pool backward"))
        }
    }
}
