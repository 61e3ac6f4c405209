import XCTest
import GraftKernels
@testable import GraftTensor

/// Allocation failures are thrown, and the buffer pool stays bounded however many shapes pass through.
final class AllocationTests: XCTestCase {
    /// A 4 TiB tensor cannot be allocated: the op throws `KernelError.outOfMemory` and the next one runs.
    func testAbsurdTensorIsAThrownErrorAndTheProcessContinues() throws {
        let x = try Tensor(shape: [2, 2], values: [1, 2, 3, 4])
        XCTAssertThrowsError(try x.reshaped([1, 4]).expanded(to: [1 << 40, 4])) { error in
            guard case .outOfMemory? = error as? KernelError else { return XCTFail("\(error)") }
        }
        XCTAssertThrowsError(try Tensor(uninitializedShape: [1 << 40]))
        XCTAssertEqual(try (x + x).values, [2, 4, 6, 8])
    }

    /// Buffers of 300 distinct sizes: the pool never keeps more than its byte bound, and buffers no
    /// allocation reused within the age bound go back to the system.
    func testPoolStaysWithinItsBoundsOverManyShapes() throws {
        let pool = BufferPool(limits: .init(bytes: 1 << 20, age: 100))
        for size in 1...300 {
            let p = try pool.take(size * 97)
            pool.give(p, size * 97)
            XCTAssertLessThanOrEqual(pool.cachedBytes, 1 << 20)
        }
        // Allocations of one size only: the 300 one-off sizes age out.
        for _ in 0..<200 {
            let p = try pool.take(16)
            pool.give(p, 16)
        }
        XCTAssertEqual(pool.cachedBytes, BufferPool.bucket(16) * 4)
        pool.limits = .init(bytes: 0, age: 100)
        XCTAssertEqual(pool.cachedBytes, 0)
    }

    /// A steady loop of the same shapes keeps reusing its buffers (no allocation after the first pass).
    func testSteadyShapesAreReused() throws {
        let pool = BufferPool(limits: .init(bytes: 64 << 20, age: 1000))
        let sizes = [1000, 5000, 123_456, 7]
        let first = try sizes.map { try pool.take($0) }
        for (p, s) in zip(first, sizes) { pool.give(p, s) }
        for _ in 0..<50 {
            let again = try sizes.reversed().map { try pool.take($0) }
            XCTAssertEqual(Set(again.map { UInt(bitPattern: $0) }), Set(first.map { UInt(bitPattern: $0) }))
            for (p, s) in zip(again, sizes.reversed()) { pool.give(p, s) }
        }
    }
}
