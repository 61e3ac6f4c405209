import Foundation
import GraftKernels
import GraftTensor
import XCTest
@testable import GraftModels

/// Issue 15 item 6 on a real model: a MiniLM-shaped BERT (6 layers, 384 hidden, 12 heads) run at 300
/// sequence lengths, as a text server sees them. Every cache stays at its bound; the resident size is
/// printed (it is noisy on a shared machine, so it is reported, not asserted).
final class ManySequenceLengthsTests: XCTestCase {
    override func tearDown() {
        Kernels.cacheLimits = .default
        BufferPool.shared.limits = .default
        Kernels.clearCaches()
    }

    func testCachesStayBoundedOver300Lengths() throws {
        let config = BERT.Config(vocabSize: 100, hiddenSize: 384, numHiddenLayers: 6, numAttentionHeads: 12,
                                 intermediateSize: 1536)
        let model = try BERT(config, seed: 5)
        Kernels.clearCaches()
        Kernels.cacheLimits = KernelCacheLimits(plansPerKind: 32, weightBytes: 64 << 20)
        BufferPool.shared.limits = .init(bytes: 64 << 20, age: 4096)
        var g = SeededGenerator(seed: 9)
        var rssAfterWarmUp = 0
        try withNoGrad {
            for length in 1...300 {
                let ids = try IndexTensor(shape: [1, length], values: (0..<length).map { _ in Int32(g.below(100)) })
                let mask = try IndexTensor(shape: [1, length], values: [Int32](repeating: 1, count: length))
                let states = try model.hiddenStates(ids: ids, mask: mask)
                XCTAssertEqual(states.last?.shape, [1, length, 384])
                XCTAssertLessThanOrEqual(Kernels.cacheUsage.plans, 8 * 32)
                XCTAssertLessThanOrEqual(Kernels.cacheUsage.weightBytes, 64 << 20)
                XCTAssertLessThanOrEqual(BufferPool.shared.cachedBytes, 64 << 20)
                if length == 50 { rssAfterWarmUp = Self.residentBytes() }
            }
        }
        print("ManySequenceLengthsTests: RSS \(rssAfterWarmUp >> 20) MB after 50 lengths, \(Self.residentBytes() >> 20) MB"
              + " after 300; plans \(Kernels.cacheUsage.plans), weights \(Kernels.cacheUsage.weightBytes >> 20) MB,"
              + " buffer pool \(BufferPool.shared.cachedBytes >> 20) MB")
    }

    /// VmRSS from /proc/self/status (0 where there is no procfs).
    static func residentBytes() -> Int {
        guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8),
              let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmRSS:") }),
              let kb = Int(line.split(separator: " ").dropFirst().first ?? "") else { return 0 }
        return kb * 1024
    }
}
