import GraftKernels
@testable import GraftModels
import GraftNN
import GraftTensor
import XCTest

/// The fused inverted-residual kernel (expand + depthwise + project in one pass,
/// `FusedInvertedResidual`) against the same block run as separate oneDNN
/// convolutions, on random weights and random batch-norm statistics, for every
/// (kernel, stride, expansion, residual) combination EfficientNet-Lite0...4 and
/// MobileNetV2 use, at odd and non-square sizes, with whole images per thread
/// and with images split into bands of rows, on every kernel path the CPU
/// has (AVX-512, AVX2 + FMA, portable).
final class InvertedResidualFusionTests: XCTestCase {
    /// An odd batch: on 2 threads the kernel splits the images into bands of rows.
    let batch = 3

    /// Random batch-norm parameters and statistics (every vector of the state dict), so folding is not the identity.
    func randomizeBatchNorms(_ module: Module, seed: UInt64) {
        var g = SeededGenerator(seed: seed)
        for (key, t) in module.stateDict() where t.rank == 1 && !key.contains("num_batches") {
            let values = key.hasSuffix("running_var") ? Tensor.uniform([t.count], low: 0.5, high: 1.5, generator: &g)
                : Tensor.uniform([t.count], low: -0.5, high: 0.5, generator: &g)
            t.pointer.update(from: values.pointer, count: t.count)
            t.storage.markModified()
        }
    }

    func maxAbsDiff(_ a: Tensor, _ b: Tensor) -> Float { zip(a.values, b.values).map { abs($0 - $1) }.max() ?? .infinity }

    /// Fused vs unfused on inputs of each size; returns how many comparisons ran.
    func compare(_ name: String, _ block: Module, _ fused: FusedInvertedResidual, inputChannels: Int,
                 file: StaticString = #filePath, line: UInt = #line) throws {
        randomizeBatchNorms(block, seed: 11)
        var g = SeededGenerator(seed: 7)
        // Whole images per thread, bands of rows (3 images, or 1, on 2 threads).
        for (n, h, w) in [(batch, 13, 13), (batch, 14, 12), (2 * Runtime.threads, 7, 16), (1, 9, 11)] {
            let x = Tensor.uniform([n, h, w, inputChannels], low: -2, high: 2, generator: &g)
            let expected = try withNoGrad { try fused.unfusedForward(x, training: false, consumingInput: false) }
            // Each path this CPU can run: AVX-512 (where present), AVX2 + FMA, portable.
            for cap in Kernels.InvertedResidualISACap.allCases {
                Kernels.invertedResidualCapISA(cap)
                defer { Kernels.invertedResidualCapISA(.best) }
                let what = "\(name) \(n)x\(h)x\(w) \(Kernels.invertedResidualISA)"
                let y = try withNoGrad { try fused.forward(x, training: false, minimumSide: 1) }
                guard let y else { XCTFail("\(what): not fused", file: file, line: line); continue }
                XCTAssertEqual(y.shape, expected.shape, what, file: file, line: line)
                XCTAssertLessThanOrEqual(maxAbsDiff(y, expected), 1e-4, what, file: file, line: line)
            }
            try compareBF16(name, fused, x, expected: expected, file: file, line: line)
        }
    }

    /// The kernel's bf16 1x1 GEMMs (`FusedInvertedResidual.bf16Kernel`) on `x`: the portable loops within bf16
    /// rounding of the fp32 block, and the bf16 tiles (AMX, AVX512-BF16: where the CPU has them) within bf16 rounding of those loops.
    func compareBF16(_ name: String, _ fused: FusedInvertedResidual, _ x: Tensor, expected: Tensor,
                     file: StaticString, line: UInt) throws {
        func bf16Forward(_ cap: Kernels.InvertedResidualISACap) throws -> Tensor? {
            Kernels.invertedResidualCapISA(cap)
            defer { Kernels.invertedResidualCapISA(.best) }
            return try ComputePrecision.$current.withValue(.bf16) {
                try FusedInvertedResidual.$bf16Kernel.withValue(true) {
                    try withNoGrad { try fused.forward(x, training: false, minimumSide: 1) }
                }
            }
        }
        let what = "\(name) \(x.shape) bf16"
        guard let portable = try bf16Forward(.portable) else { return XCTFail("\(what): not fused", file: file, line: line) }
        let scale = max(1, expected.values.map(abs).max() ?? 0)
        let error = maxAbsDiff(portable, expected)
        XCTAssertLessThanOrEqual(error, Self.bf16Tolerance * scale, what, file: file, line: line)
        XCTAssertGreaterThan(error, 0, "\(what): the products ran in bf16", file: file, line: line)
        guard Kernels.invertedResidualHasBF16 else { return }
        // AMX tiles (.best, where the CPU has them) and AVX512-BF16 dot products (.avx512): other summation orders flip
        // some intermediate values by one bf16 step (2^-8 relative) on their way into the next GEMM, so the bound is
        // bf16's, not float's (measured up to 9.1e-4 on real blocks).
        for cap in [Kernels.InvertedResidualISACap.best, .avx512] {
            guard let tiled = try bf16Forward(cap) else { return XCTFail("\(what): not fused", file: file, line: line) }
            XCTAssertLessThanOrEqual(maxAbsDiff(tiled, portable), Self.bf16Tolerance * scale, "\(what) \(cap) vs portable",
                                     file: file, line: line)
        }
    }

    /// bf16 operands (8 significant bits) against fp32, relative to the output's largest magnitude.
    static let bf16Tolerance: Float = 4e-3   // measured at most 9.7e-4 over these blocks

    /// EfficientNet-Lite0...4 blocks: (input, output, expansion, kernel, stride); the residual follows.
    func testEfficientNetLiteBlocks() throws {
        let configs = [(32, 16, 1, 3, 1), (16, 16, 1, 3, 1), (16, 24, 6, 3, 2), (24, 24, 6, 3, 1), (24, 40, 6, 5, 2),
                       (40, 40, 6, 5, 1), (40, 80, 6, 3, 2), (80, 112, 6, 5, 1), (192, 320, 6, 3, 1),
                       (32, 48, 6, 5, 2), (88, 120, 6, 5, 1), (120, 120, 6, 5, 1)]
        var g = SeededGenerator(seed: 3)
        for (i, o, e, k, s) in configs {
            let block = MBConvBlock(input: i, output: o, expand: e, kernel: k, stride: s, generator: &g)
            try compare("MBConv \(i)->\(o) e\(e) k\(k) s\(s) residual \(block.fused.residual)", block, block.fused, inputChannels: i)
        }
    }

    /// MobileNetV2 blocks (width 1, 0.25 and an odd 12 -> 20): (input, output, stride, expansion).
    func testMobileNetV2Blocks() throws {
        let configs = [(32, 16, 1, 1), (24, 24, 1, 1), (16, 24, 2, 6), (24, 24, 1, 6), (32, 64, 2, 6), (64, 96, 1, 6),
                       (96, 160, 2, 6), (160, 320, 1, 6), (8, 8, 1, 6), (12, 20, 2, 6)]
        var g = SeededGenerator(seed: 4)
        for (i, o, s, t) in configs {
            let block = InvertedResidual(i, o, stride: s, expansion: t, generator: &g)
            try compare("InvertedResidual \(i)->\(o) s\(s) t\(t) residual \(block.fused.residual)", block, block.fused, inputChannels: i)
        }
    }

    /// Training keeps the separate ops: a recording tape, or batch statistics, means no fusion.
    func testTapeAndBatchStatisticsAreNotFused() throws {
        var g = SeededGenerator(seed: 5)
        let block = MBConvBlock(input: 16, output: 16, expand: 6, kernel: 3, stride: 1, generator: &g)
        let x = Tensor.uniform([batch, 8, 8, 16], low: -1, high: 1, generator: &g)
        XCTAssertNil(try block.fused.forward(x, training: false, minimumSide: 1), "parameters want gradients")
        XCTAssertNil(try withNoGrad { try block.fused.forward(x, training: true, minimumSide: 1) }, "batch statistics")
        XCTAssertNotNil(try withNoGrad { try block.fused.forward(x, training: false, minimumSide: 1) })
        XCTAssertNil(try withNoGrad { try block.fused.forward(x, training: false, minimumSide: 9) }, "smaller than the minimum side")
        // The size policy on AVX-512: whole images per thread fuse at every size; bands of rows from 28x28.
        let threads = Runtime.threads
        XCTAssertTrue(FusedInvertedResidual.sizePolicy(batch: 4 * threads, side: 7, isa: "avx512"))
        XCTAssertTrue(FusedInvertedResidual.sizePolicy(batch: 1, side: 28, isa: "avx512"))
        if threads > 1 { XCTAssertFalse(FusedInvertedResidual.sizePolicy(batch: 1, side: 14, isa: "avx512")) }
        // On AVX2: whole images from 14x14, bands from 28x28.
        XCTAssertFalse(FusedInvertedResidual.sizePolicy(batch: 4 * threads, side: 7, isa: "avx2"))
        XCTAssertTrue(FusedInvertedResidual.sizePolicy(batch: 4 * threads, side: 14, isa: "avx2"))
        if threads > 1 { XCTAssertFalse(FusedInvertedResidual.sizePolicy(batch: 1, side: 14, isa: "avx2")) }
        XCTAssertTrue(FusedInvertedResidual.sizePolicy(batch: 1, side: 28, isa: "avx2"))
        XCTAssertEqual(FusedInvertedResidual.fuses(batch: 4 * threads, side: 7, minimumSide: nil),
                       FusedInvertedResidual.policyEnabled && FusedInvertedResidual.kernelISA == "avx512")
        XCTAssertFalse(FusedInvertedResidual.fuses(batch: 4 * threads, side: 7, minimumSide: 8))
    }

    /// Whole networks with every block fused agree with the unfused forward, and weights
    /// changed after a first forward are picked up (the packed copy is rebuilt).
    func testWholeNetworksWithEveryBlockFused() throws {
        let models: [any ImageBackbone & Module] = [EfficientNetLite(try .lite(0, numClasses: 10)),
                                                    try MobileNetV2(.init(widthMultiplier: 0.5, numClasses: 10))]
        for model in models {
            randomizeBatchNorms(model, seed: 9)
            var g = SeededGenerator(seed: 2)
            let x = Tensor.uniform([batch, 64, 64, 3], low: -2, high: 2, generator: &g)
            func run(_ side: Int) throws -> Tensor {
                try FusedInvertedResidual.$minimumSide.withValue(side) { try withNoGrad { try model.forward(x, upTo: nil, training: false) } }
            }
            let reference = try run(.max), fused = try run(1)
            let scale = max(1, reference.values.map(abs).max() ?? 0)
            XCTAssertLessThanOrEqual(maxAbsDiff(fused, reference), 1e-4 * scale, model.architecture)
            randomizeBatchNorms(model, seed: 10)
            let reference2 = try run(.max), fused2 = try run(1)
            XCTAssertGreaterThan(maxAbsDiff(reference, reference2), 1e-3, "new statistics change the output")
            XCTAssertLessThanOrEqual(maxAbsDiff(fused2, reference2), 1e-4 * scale, "\(model.architecture) after a weight change")
        }
    }
}
