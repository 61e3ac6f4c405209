import XCTest
import GraftKernels

/// Winograd F(4x4, 3x3) convolutions (`conv2dForward(..., winograd: true)`) against the direct loop:
/// same results up to the transforms' rounding, for bias, fused activations, the residual sum,
/// odd sizes, asymmetric padding and batches split into chunks.
final class WinogradTests: XCTestCase {
    typealias Reference = ConvolutionTests.Reference

    static func conv3x3(batch: Int, in c: Int, out o: Int, _ h: Int, _ w: Int, pad: (Int, Int, Int, Int) = (1, 1, 1, 1)) -> Conv2DGeometry {
        .init(batch: batch, inChannels: c, outChannels: o, height: h, width: w, kernelH: 3, kernelW: 3,
              padTop: pad.0, padBottom: pad.1, padLeft: pad.2, padRight: pad.3)
    }

    static let geometries: [Conv2DGeometry] = [
        conv3x3(batch: 2, in: 16, out: 32, 9, 9),
        conv3x3(batch: 3, in: 32, out: 16, 13, 7),
        conv3x3(batch: 1, in: 64, out: 64, 7, 7),  // ResNet layer4's spatial size: partial 4x4 tiles
        conv3x3(batch: 2, in: 16, out: 16, 10, 11, pad: (0, 0, 0, 0)),
        conv3x3(batch: 1, in: 32, out: 48, 8, 6, pad: (1, 0, 0, 1)),
    ]

    func testRunsWinogradOnThisCPU() throws {
        try XCTSkipUnless(Runtime.isa.hasPrefix("avx512"), "oneDNN implements Winograd for AVX-512 only")
        for g in Self.geometries {
            let name = try Kernels.winogradImplementation(g)
            XCTAssertTrue(name?.contains("wino") ?? false, "\(g): \(name ?? "direct")")
        }
        // Not 3x3 stride 1, or channels not in 16-lane blocks: the direct algorithm.
        XCTAssertNil(try Kernels.winogradImplementation(ConvolutionTests.geometries[0]))
        var strided = Self.geometries[0]
        strided.strideH = 2
        strided.strideW = 2
        XCTAssertNil(try Kernels.winogradImplementation(strided))
    }

    func testMatchesDirectLoop() throws {
        var rng = SeededRandom(seed: 11)
        for (i, g) in Self.geometries.enumerated() {
            let src = rng.floats(g.srcCount), w = rng.floats(g.weightCount), bias = rng.floats(g.outChannels)
            let expected = Reference(g: g).forward(src, w, bias)
            var dst = output(g.dstCount)
            try Kernels.conv2dForward(g, src: src, weight: w, weightKey: WeightKey(id: -(5000 + i), version: 0), bias: bias,
                                  dst: &dst, winograd: true)
            assertClose(dst, expected, tolerance: 2e-5, "\(g) winograd")
            var noBias = output(g.dstCount)
            try Kernels.conv2dForward(g, src: src, weight: w, weightKey: nil, bias: nil, dst: &noBias, winograd: true)
            assertClose(noBias, Reference(g: g).forward(src, w, nil), tolerance: 2e-5, "\(g) winograd without bias")
            Kernels.forgetWeight(id: 5000 + i)
        }
    }

    /// relu(conv + bias + residual), ResNet's block end, and a plain ReLU.
    func testFusesActivationAndResidual() throws {
        var rng = SeededRandom(seed: 12)
        let g = Self.geometries[1]
        let src = rng.floats(g.srcCount), w = rng.floats(g.weightCount), bias = rng.floats(g.outChannels)
        let residual = rng.floats(g.dstCount, -2, 2)
        let conv = Reference(g: g).forward(src, w, bias)
        var relu = output(g.dstCount)
        try Kernels.conv2dForward(g, src: src, weight: w, weightKey: nil, bias: bias, dst: &relu, activation: .relu, winograd: true)
        assertClose(relu, conv.map { max($0, 0) }, tolerance: 2e-5, "winograd + relu")
        var dst = residual
        try Kernels.conv2dForward(g, src: src, weight: w, weightKey: nil, bias: bias, dst: &dst, activation: .relu,
                              accumulate: true, winograd: true)
        assertClose(dst, zip(conv, residual).map { max($0 + $1, 0) }, tolerance: 2e-5, "winograd + residual + relu")
        // An activation Winograd has no post-op for falls back to the direct algorithm, still correct.
        var clipped = output(g.dstCount)
        try Kernels.conv2dForward(g, src: src, weight: w, weightKey: nil, bias: bias, dst: &clipped, activation: .relu6, winograd: true)
        assertClose(clipped, conv.map { min(max($0, 0), 6) }, "relu6 (direct fallback)")
    }

    /// A batch larger than one chunk (64 MiB of blocked activations) runs chunk by chunk, the last
    /// one shorter, each image landing where the direct algorithm puts it.
    func testChunkedBatchMatchesDirect() throws {
        var rng = SeededRandom(seed: 13)
        let g = Self.conv3x3(batch: 17, in: 64, out: 64, 128, 128)  // 4 MiB per image: chunks of 16 + 1
        let src = rng.floats(g.srcCount), w = rng.floats(g.weightCount, -0.1, 0.1), bias = rng.floats(g.outChannels)
        var direct = output(g.dstCount), winograd = output(g.dstCount)
        try Kernels.conv2dForward(g, src: src, weight: w, weightKey: nil, bias: bias, dst: &direct)
        try Kernels.conv2dForward(g, src: src, weight: w, weightKey: WeightKey(id: -5100, version: 0), bias: bias,
                              dst: &winograd, winograd: true)
        assertClose(winograd, direct, tolerance: 2e-5, "17 images in chunks")
        Kernels.forgetWeight(id: 5100)
    }
}
