import XCTest
import GraftKernels

/// Convolutions against a direct loop over NHWC input and OIHW weights.
final class ConvolutionTests: XCTestCase {
    struct Reference {
        let g: Conv2DGeometry

        func inputIndex(_ n: Int, _ y: Int, _ x: Int, _ c: Int) -> Int { ((n * g.height + y) * g.width + x) * g.inChannels + c }
        func outputIndex(_ n: Int, _ y: Int, _ x: Int, _ o: Int) -> Int { ((n * g.outHeight + y) * g.outWidth + x) * g.outChannels + o }
        func weightIndex(_ o: Int, _ c: Int, _ ky: Int, _ kx: Int) -> Int {
            ((o * (g.inChannels / g.groups) + c) * g.kernelH + ky) * g.kernelW + kx
        }

        /// Calls body(outputIndex, inputIndex, weightIndex) for every in-bounds tap.
        func forEachTap(_ body: (Int, Int, Int) -> Void) {
            let cg = g.inChannels / g.groups, og = g.outChannels / g.groups
            for n in 0..<g.batch { for oy in 0..<g.outHeight { for ox in 0..<g.outWidth { for o in 0..<g.outChannels {
                let group = o / og
                for c in 0..<cg { for ky in 0..<g.kernelH { for kx in 0..<g.kernelW {
                    let y = oy * g.strideH - g.padTop + ky * g.dilationH
                    let x = ox * g.strideW - g.padLeft + kx * g.dilationW
                    guard y >= 0, y < g.height, x >= 0, x < g.width else { continue }
                    body(outputIndex(n, oy, ox, o), inputIndex(n, y, x, group * cg + c), weightIndex(o, c, ky, kx))
                } } }
            } } } }
        }

        func forward(_ src: [Float], _ w: [Float], _ bias: [Float]?) -> [Float] {
            var out = [Float](repeating: 0, count: g.dstCount)
            if let bias { for i in 0..<out.count { out[i] = bias[i % g.outChannels] } }
            forEachTap { o, i, k in out[o] += src[i] * w[k] }
            return out
        }

        func backwardData(_ w: [Float], _ dy: [Float]) -> [Float] {
            var dx = [Float](repeating: 0, count: g.srcCount)
            forEachTap { o, i, k in dx[i] += dy[o] * w[k] }
            return dx
        }

        func backwardWeights(_ src: [Float], _ dy: [Float]) -> (weights: [Float], bias: [Float]) {
            var dw = [Float](repeating: 0, count: g.weightCount)
            forEachTap { o, i, k in dw[k] += dy[o] * src[i] }
            var db = [Float](repeating: 0, count: g.outChannels)
            for i in 0..<dy.count { db[i % g.outChannels] += dy[i] }
            return (dw, db)
        }
    }

    static let geometries: [Conv2DGeometry] = [
        .init(batch: 2, inChannels: 3, outChannels: 4, height: 7, width: 6, kernelH: 3, kernelW: 3, padTop: 1, padBottom: 1, padLeft: 1, padRight: 1),
        .init(batch: 1, inChannels: 5, outChannels: 3, height: 9, width: 8, kernelH: 3, kernelW: 2, strideH: 2, strideW: 2,
              padTop: 0, padBottom: 1, padLeft: 1, padRight: 0),
        .init(batch: 2, inChannels: 4, outChannels: 6, height: 8, width: 8, kernelH: 3, kernelW: 3, padTop: 2, padBottom: 2,
              padLeft: 2, padRight: 2, dilationH: 2, dilationW: 2),
        .init(batch: 2, inChannels: 4, outChannels: 6, height: 6, width: 5, kernelH: 3, kernelW: 3, padTop: 1, padBottom: 1,
              padLeft: 1, padRight: 1, groups: 2),
        .init(batch: 2, inChannels: 8, outChannels: 8, height: 9, width: 9, kernelH: 3, kernelW: 3, strideH: 2, strideW: 2,
              padTop: 1, padBottom: 1, padLeft: 1, padRight: 1, groups: 8),
        .init(batch: 1, inChannels: 4, outChannels: 8, height: 5, width: 5, kernelH: 3, kernelW: 3, padTop: 1, padBottom: 1,
              padLeft: 1, padRight: 1, groups: 4),
        .init(batch: 2, inChannels: 32, outChannels: 48, height: 10, width: 10, kernelH: 3, kernelW: 3, padTop: 1, padBottom: 1,
              padLeft: 1, padRight: 1),
        .init(batch: 2, inChannels: 32, outChannels: 16, height: 6, width: 6, kernelH: 1, kernelW: 1),
        .init(batch: 2, inChannels: 32, outChannels: 32, height: 12, width: 12, kernelH: 5, kernelW: 5, strideH: 2, strideW: 2,
              padTop: 2, padBottom: 2, padLeft: 2, padRight: 2, groups: 32),
    ]

    func testForwardMatchesDirectLoop() throws {
        var rng = SeededRandom(seed: 1)
        for (i, g) in Self.geometries.enumerated() {
            XCTAssertTrue(g.isValid, "\(g)")
            let src = rng.floats(g.srcCount), w = rng.floats(g.weightCount), bias = rng.floats(g.outChannels)
            let reference = Reference(g: g)
            for withBias in [false, true] {
                var dst = output(g.dstCount)
                try Kernels.conv2dForward(g, src: src, weight: w, weightKey: nil, bias: withBias ? bias : nil, dst: &dst)
                assertClose(dst, reference.forward(src, w, withBias ? bias : nil), "\(g) bias \(withBias)")
            }
            // The same again through the weight cache.
            var cached = output(g.dstCount)
            try Kernels.conv2dForward(g, src: src, weight: w, weightKey: WeightKey(id: -(1000 + i), version: 0), bias: bias, dst: &cached)
            assertClose(cached, reference.forward(src, w, bias), "\(g) cached weights")
        }
    }

    func testForwardFusesActivation() throws {
        var rng = SeededRandom(seed: 2)
        let g = Self.geometries[6]
        let src = rng.floats(g.srcCount), w = rng.floats(g.weightCount), bias = rng.floats(g.outChannels)
        let plain = Reference(g: g).forward(src, w, bias)
        for a in Activation.allCases {
            var dst = output(g.dstCount)
            try Kernels.conv2dForward(g, src: src, weight: w, weightKey: nil, bias: bias, dst: &dst, activation: a)
            assertClose(dst, plain.map { ActivationTests.reference(a, $0) }, "\(g) fused \(a)")
        }
    }

    /// dst = act(conv + bias + dst), the residual-block epilogue: the sum post-op
    /// must add exactly what dst held, then apply the activation, for 1x1, 3x3,
    /// strided, grouped and depthwise shapes, through the weight cache too.
    func testForwardAccumulatesIntoDestination() throws {
        var rng = SeededRandom(seed: 6)
        // Plus a ResNet bottleneck-sized 1x1 (64 -> 256 at 28x28): small shapes can take other
        // implementations than the real networks do (brgconv_1x1 with the sum post-op).
        let bottleneck = Conv2DGeometry(batch: 1, inChannels: 64, outChannels: 256, height: 28, width: 28, kernelH: 1, kernelW: 1)
        for (i, g) in (Self.geometries + [bottleneck]).enumerated() {
            let src = rng.floats(g.srcCount), w = rng.floats(g.weightCount), bias = rng.floats(g.outChannels)
            let residual = rng.floats(g.dstCount, -2, 2)
            let conv = Reference(g: g).forward(src, w, bias)
            let sum = zip(conv, residual).map { $0 + $1 }
            for activation in [nil, Activation.relu, .relu6] {
                var dst = residual
                try Kernels.conv2dForward(g, src: src, weight: w, weightKey: WeightKey(id: -(3000 + i), version: 0), bias: bias,
                                      dst: &dst, activation: activation, accumulate: true)
                let expected = activation.map { a in sum.map { ActivationTests.reference(a, $0) } } ?? sum
                assertClose(dst, expected, "\(g) accumulate, \(activation.map { "\($0)" } ?? "no activation")")
            }
            // A plain forward of the same shape afterwards still overwrites dst (separate plan).
            var plain = residual
            try Kernels.conv2dForward(g, src: src, weight: w, weightKey: WeightKey(id: -(3000 + i), version: 0), bias: bias, dst: &plain)
            assertClose(plain, conv, "\(g) plain after accumulate")
            Kernels.forgetWeight(id: 3000 + i)
        }
        // The sum post-op has scale 1: a large residual is added as is, not scaled or clipped.
        let g = Self.geometries[7]
        var rng2 = SeededRandom(seed: 7)
        let src = rng2.floats(g.srcCount), w = rng2.floats(g.weightCount)
        let residual = [Float](repeating: 1000, count: g.dstCount)
        var dst = residual
        try Kernels.conv2dForward(g, src: src, weight: w, weightKey: nil, bias: nil, dst: &dst, accumulate: true)
        assertClose(dst, Reference(g: g).forward(src, w, nil).map { $0 + 1000 }, "large residual kept")
    }

    func testWeightCacheFollowsVersion() throws {
        var rng = SeededRandom(seed: 3)
        let g = Self.geometries[6]
        XCTAssertTrue(try Kernels.conv2dImplementation(g).reordersWeights, "brgconv should pick a blocked weight layout for \(g)")
        let src = rng.floats(g.srcCount)
        var w = rng.floats(g.weightCount)
        let key = WeightKey(id: -4242, version: 1)
        var first = output(g.dstCount)
        try Kernels.conv2dForward(g, src: src, weight: w, weightKey: key, bias: nil, dst: &first)
        let old = Reference(g: g).forward(src, w, nil)
        assertClose(first, old, "version 1")
        // New values under the same version: the cached reorder is (by contract) reused.
        w = rng.floats(g.weightCount)
        var stale = output(g.dstCount)
        try Kernels.conv2dForward(g, src: src, weight: w, weightKey: key, bias: nil, dst: &stale)
        assertClose(stale, old, "same version reuses the cached weights")
        // A new version reorders again.
        var fresh = output(g.dstCount)
        try Kernels.conv2dForward(g, src: src, weight: w, weightKey: WeightKey(id: -4242, version: 2), bias: nil, dst: &fresh)
        assertClose(fresh, Reference(g: g).forward(src, w, nil), "version 2")
        Kernels.forgetWeight(id: 4242)
    }

    func testBackwardDataMatchesDirectLoop() throws {
        var rng = SeededRandom(seed: 4)
        for (i, g) in Self.geometries.enumerated() {
            let w = rng.floats(g.weightCount), dy = rng.floats(g.dstCount)
            let expected = Reference(g: g).backwardData(w, dy)
            var dx = output(g.srcCount)
            try Kernels.conv2dBackwardData(g, weight: w, weightKey: nil, diffDst: dy, diffSrc: &dx)
            assertClose(dx, expected, "\(g) backward data")
            var cached = output(g.srcCount)
            try Kernels.conv2dBackwardData(g, weight: w, weightKey: WeightKey(id: -(2000 + i), version: 0), diffDst: dy, diffSrc: &cached)
            assertClose(cached, expected, "\(g) backward data, cached weights")
        }
    }

    func testBackwardWeightsMatchesDirectLoop() throws {
        var rng = SeededRandom(seed: 5)
        for g in Self.geometries {
            let src = rng.floats(g.srcCount), dy = rng.floats(g.dstCount)
            let expected = Reference(g: g).backwardWeights(src, dy)
            var dw = output(g.weightCount), db = output(g.outChannels)
            try Kernels.conv2dBackwardWeights(g, src: src, diffDst: dy, diffWeight: &dw, diffBias: &db)
            assertClose(dw, expected.weights, "\(g) backward weights")
            assertClose(db, expected.bias, "\(g) backward bias")
            var dwOnly = output(g.weightCount)
            try Kernels.conv2dBackwardWeights(g, src: src, diffDst: dy, diffWeight: &dwOnly, diffBias: nil)
            assertClose(dwOnly, expected.weights, "\(g) backward weights without bias")
        }
    }

    func testOutputSizeFollowsPyTorch() throws {
        let g = Conv2DGeometry(batch: 1, inChannels: 1, outChannels: 1, height: 224, width: 225, kernelH: 7, kernelW: 7,
                               strideH: 2, strideW: 2, padTop: 3, padBottom: 3, padLeft: 3, padRight: 3)
        XCTAssertEqual(g.outHeight, 112)
        XCTAssertEqual(g.outWidth, 113)
        let dilated = Conv2DGeometry(batch: 1, inChannels: 1, outChannels: 1, height: 10, width: 10, kernelH: 3, kernelW: 3,
                                     dilationH: 3, dilationW: 2)
        XCTAssertEqual(dilated.outHeight, 4)
        XCTAssertEqual(dilated.outWidth, 6)
    }
}
