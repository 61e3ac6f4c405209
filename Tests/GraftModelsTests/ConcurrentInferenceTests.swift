import Dispatch
import GraftModels
import GraftNN
import GraftTensor
import Synchronization
import XCTest

/// Several threads running forwards on one cold model at once (a server, a parallel
/// extraction): the lazily built state - folded batch norms, packed fused-block weights,
/// Winograd plans and transformed weights - is built under locks, so every thread gets
/// the result a later serial forward gives.
final class ConcurrentInferenceTests: XCTestCase {
    func check(_ model: some ImageBackbone, input size: Int, file: StaticString = #filePath, line: UInt = #line) throws {
        var g = SeededGenerator(seed: 9)
        let x = Tensor.uniform([2, size, size, 3], low: -2, high: 2, generator: &g)
        let threads = 4
        let results = Mutex<[Int: [Float]]>([:])
        DispatchQueue.concurrentPerform(iterations: threads) { i in
            let y = try? withNoGrad { try model.forward(x, upTo: nil, training: false) }
            results.withLock { $0[i] = y?.values }
        }
        let serial = try withNoGrad { try model.forward(x, upTo: nil, training: false) }.values
        let scale = max(1e-3, serial.map(abs).max() ?? 0)
        for i in 0..<threads {
            let values = try XCTUnwrap(results.withLock { $0[i] }, "\(model.architecture): thread \(i) failed", file: file, line: line)
            let diff = zip(values, serial).map { abs($0 - $1) }.max() ?? .infinity
            XCTAssertLessThanOrEqual(diff, 1e-5 * scale, "\(model.architecture): thread \(i) vs serial", file: file, line: line)
        }
    }

    func testResNetWithWinogradLayers() throws {
        // 16-channel multiples, so the 3x3 stride-1 convs take the Winograd path.
        try check(try ResNet(.init(name: "resnet-small", block: .basic, layers: [1, 1, 1, 1], widths: [16, 32, 64, 128], numClasses: 10)),
                  input: 64)
    }

    func testEfficientNetLiteWithFusedBlocks() throws {
        try check(EfficientNetLite(try .lite(0, numClasses: 10)), input: 64)
    }
}
