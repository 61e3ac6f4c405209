import Synchronization
import XCTest
import GraftKernels

/// The C glue loops (small counts run inline, large ones split across threads)
/// and the parallel-for driver.
final class VectorTests: XCTestCase {
    static let counts = [0, 1, 37, 100_003]

    func testBinaryOps() {
        var rng = SeededRandom(seed: 61)
        for n in Self.counts {
            let x = rng.floats(n), y = rng.floats(n, 0.5, 2)
            let ops: [(String, (UnsafePointer<Float>, UnsafePointer<Float>, UnsafeMutablePointer<Float>, Int) -> Void, (Float, Float) -> Float)] = [
                ("add", { Vector.add($0, $1, into: $2, count: $3) }, +),
                ("sub", { Vector.sub($0, $1, into: $2, count: $3) }, -),
                ("mul", { Vector.mul($0, $1, into: $2, count: $3) }, *),
                ("div", { Vector.div($0, $1, into: $2, count: $3) }, /),
            ]
            for (name, run, f) in ops {
                var out = output(n)
                run(x, y, &out, n)
                XCTAssertEqual(out, zip(x, y).map(f), "\(name) \(n)")
            }
            var inPlace = x
            inPlace.withUnsafeMutableBufferPointer { p in
                if let base = p.baseAddress { Vector.add(base, y, into: base, count: n) }
            }
            XCTAssertEqual(inPlace, zip(x, y).map(+), "add in place \(n)")
        }
    }

    func testRowBroadcastOps() {
        var rng = SeededRandom(seed: 62)
        for (rows, cols) in [(1, 1), (3, 5), (10_000, 17)] {
            let x = rng.floats(rows * cols), row = rng.floats(cols, 0.5, 2), shift = rng.floats(cols)
            let ops: [(String, (UnsafePointer<Float>, UnsafePointer<Float>, UnsafeMutablePointer<Float>) -> Void, (Float, Float) -> Float)] = [
                ("addRow", { Vector.addRow($0, $1, into: $2, rows: rows, cols: cols) }, +),
                ("subRow", { Vector.subRow($0, $1, into: $2, rows: rows, cols: cols) }, -),
                ("mulRow", { Vector.mulRow($0, $1, into: $2, rows: rows, cols: cols) }, *),
                ("divRow", { Vector.divRow($0, $1, into: $2, rows: rows, cols: cols) }, /),
            ]
            for (name, run, f) in ops {
                var out = output(x.count)
                run(x, row, &out)
                XCTAssertEqual(out, x.indices.map { f(x[$0], row[$0 % cols]) }, "\(name) \(rows)x\(cols)")
            }
            var affine = output(x.count)
            Vector.affineRow(x, scale: row, shift: shift, into: &affine, rows: rows, cols: cols)
            assertClose(affine, x.indices.map { x[$0] * row[$0 % cols] + shift[$0 % cols] }, tolerance: 1e-6, "affineRow")
        }
    }

    func testScalarOps() {
        var rng = SeededRandom(seed: 63)
        for n in Self.counts {
            let x = rng.floats(n), y0 = rng.floats(n)
            var out = output(n)
            Vector.scaleShift(x, scale: 2.5, shift: -1, into: &out, count: n)
            assertClose(out, x.map { $0 * 2.5 - 1 }, tolerance: 1e-6, "scaleShift \(n)")
            var y = y0
            Vector.axpy(-0.75, x, &y, count: n)
            assertClose(y, zip(x, y0).map { $1 - 0.75 * $0 }, tolerance: 1e-6, "axpy \(n)")
            var scaled = x
            Vector.scale(&scaled, by: 3, count: n)
            assertClose(scaled, x.map { $0 * 3 }, tolerance: 1e-6, "scale \(n)")
            var filled = output(n)
            Vector.fill(&filled, with: 4.5, count: n)
            XCTAssertEqual(filled, Array(repeating: 4.5, count: n), "fill \(n)")
            var copied = output(n)
            Vector.copy(x, into: &copied, count: n)
            XCTAssertEqual(copied, x, "copy \(n)")
        }
    }

    func testReductions() {
        var rng = SeededRandom(seed: 64)
        for n in Self.counts {
            let x = rng.floats(n), y = rng.floats(n)
            let sum = x.reduce(0.0) { $0 + Double($1) }
            let dot = zip(x, y).reduce(0.0) { $0 + Double($1.0) * Double($1.1) }
            XCTAssertEqual(Vector.sum(x, count: n), sum, accuracy: 1e-4 * max(1, abs(sum)), "sum \(n)")
            XCTAssertEqual(Vector.dot(x, y, count: n), dot, accuracy: 1e-4 * max(1, abs(dot)), "dot \(n)")
        }
        for (rows, cols) in [(1, 1), (5, 3), (9000, 13), (7, 2000)] {
            let x = rng.floats(rows * cols)
            var columns = output(cols), rowSums = output(rows)
            Vector.sumColumns(x, rows: rows, cols: cols, into: &columns)
            let expectedColumns = (0..<cols).map { c in Float((0..<rows).reduce(0.0) { $0 + Double(x[$1 * cols + c]) }) }
            assertClose(columns, expectedColumns, "sumColumns \(rows)x\(cols)")
            Vector.sumColumns(x, rows: rows, cols: cols, into: &columns, accumulate: true)
            assertClose(columns, expectedColumns.map { 2 * $0 }, "sumColumns accumulate \(rows)x\(cols)")
            Vector.sumRows(x, rows: rows, cols: cols, into: &rowSums)
            let expectedRows = (0..<rows).map { r in Float((0..<cols).reduce(0.0) { $0 + Double(x[r * cols + $1]) }) }
            assertClose(rowSums, expectedRows, "sumRows \(rows)x\(cols)")
            var maxima = output(rows), indices = [Int](repeating: -1, count: rows)
            Vector.maxRows(x, rows: rows, cols: cols, max: &maxima, argmax: &indices)
            for r in 0..<rows {
                let row = Array(x[(r * cols)..<((r + 1) * cols)])
                XCTAssertEqual(maxima[r], row.max()!, "max row \(r)")
                XCTAssertEqual(indices[r], row.firstIndex(of: row.max()!)!, "argmax row \(r)")
            }
        }
        // Ties resolve to the first occurrence.
        var index = [-1]
        Vector.maxRows([1, 3, 3, 2], rows: 1, cols: 4, max: nil, argmax: &index)
        XCTAssertEqual(index, [1])
    }

    func testParallelForCoversRangeOnce() {
        for (n, minimumChunk) in [(0, 1), (1, 1), (7, 1), (1000, 1), (100_000, 4096), (100, 1000)] {
            let hits = UnsafeMutableBufferPointer<Int32>.allocate(capacity: max(n, 1))
            defer { hits.deallocate() }
            hits.initialize(repeating: 0)
            let chunks = Mutex<[Range<Int>]>([])
            Kernels.parallelFor(n, minimumChunk: minimumChunk) { range in
                chunks.withLock { $0.append(range) }
                for i in range { hits[i] += 1 }
            }
            XCTAssertTrue((0..<n).allSatisfy { hits[$0] == 1 }, "every index once for n=\(n)")
            let ranges = chunks.withLock { $0 }
            XCTAssertLessThanOrEqual(ranges.count, max(1, Runtime.threads), "one chunk per thread at most")
            XCTAssertTrue(ranges.allSatisfy { !$0.isEmpty || n == 0 }, "no empty chunks")
            if n > 0 && n < 2 * minimumChunk { XCTAssertEqual(ranges, [0..<n], "small ranges run inline") }
        }
    }

    func testNestedParallelForRunsInline() {
        let total = Mutex(0)
        Kernels.parallelFor(4) { outer in
            for _ in outer {
                Kernels.parallelFor(1000) { inner in total.withLock { $0 += inner.count } }
            }
        }
        XCTAssertEqual(total.withLock { $0 }, 4000)
    }

    func testRuntimeReportsVersionIsaAndThreads() {
        XCTAssertTrue(Runtime.oneDNNVersion.hasPrefix("2."), Runtime.oneDNNVersion)
        XCTAssertFalse(Runtime.isa.isEmpty)
        XCTAssertGreaterThanOrEqual(Runtime.threads, 1)
    }
}
