import XCTest
@testable import GraftKernels

/// int8 chains (`Kernels.conv2dInt8Chain`) shaped like ResNet blocks: the links write u8 for the next one (ReLU, then
/// / its input scale, as post-ops), which is what the separate int8 convolutions compute when each quantizes the
/// previous one's fp32 output with the same scale. So a chain must equal those separate convolutions up to fp32
/// rounding, with the residual (an identity in `dst`, or a projection of the input) summed before the last ReLU.
final class Int8ChainKernelTests: XCTestCase {
    /// A convolution's fp32 operands at stable addresses (chain links hold pointers).
    final class Operands {
        let geometry: Conv2DGeometry
        let weight: UnsafeMutablePointer<Float>, bias: UnsafeMutablePointer<Float>
        let weightCount: Int
        let key: WeightKey

        init(_ g: Conv2DGeometry, random: inout SeededRandom, key: Int) {
            geometry = g
            weightCount = g.weightCount
            weight = .allocate(capacity: weightCount)
            weight.initialize(from: random.floats(weightCount, -0.3, 0.3), count: weightCount)
            bias = .allocate(capacity: g.outChannels)
            bias.initialize(from: random.floats(g.outChannels, -0.2, 0.2), count: g.outChannels)
            self.key = WeightKey(id: -(29_000 + key), version: 0)   // negative: tensor storages count up from 1
        }

        deinit { weight.deallocate(); bias.deallocate() }

        func parameters(input: ActivationQuantization) -> ConvInt8Parameters {
            ConvInt8Parameters(input: input, weightScales: ConvInt8Parameters.perChannelScales(
                of: weight, outChannels: geometry.outChannels, count: weightCount,
                levels: ConvInt8Parameters.weightLevels(unsignedInput: input.unsigned)))
        }

        /// The int8 convolution on its own (fp32 in and out), as the per-convolution path runs it.
        func run(_ src: [Float], input: ActivationQuantization, activation: Activation?, accumulating residual: [Float]? = nil) throws -> [Float] {
            let g = geometry
            var y = residual ?? output(g.batch * g.outHeight * g.outWidth * g.outChannels)
            try Kernels.conv2dForwardInt8(g, src: src, weight: weight, weightKey: key, bias: bias, dst: &y, activation: activation,
                                          accumulate: residual != nil, parameters: parameters(input: input))
            return y
        }

        func link(input: ActivationQuantization, activation: Activation?) -> Kernels.Int8ChainLink {
            Kernels.Int8ChainLink(geometry: geometry, weight: weight, weightKey: key, bias: bias, activation: activation,
                                  parameters: parameters(input: input))
        }
    }

    static func geometry(_ n: Int, _ c: Int, _ o: Int, _ side: Int, kernel: Int, stride: Int = 1) -> Conv2DGeometry {
        let pad = kernel / 2
        return Conv2DGeometry(batch: n, inChannels: c, outChannels: o, height: side, width: side, kernelH: kernel, kernelW: kernel,
                              strideH: stride, strideW: stride, padTop: pad, padBottom: pad, padLeft: pad, padRight: pad)
    }

    /// The calibrated u8 quantization of a ReLU output: min 0, its max.
    static func calibrated(_ values: [Float]) -> ActivationQuantization { ActivationQuantization(min: 0, max: values.max() ?? 0) }

    /// Bottleneck with a stride-2 projection (conv1 1x1, conv2 3x3 stride 2, conv3 1x1, downsample 1x1 stride 2) and a
    /// basic block with an identity shortcut summed in place (dst == src).
    func testResNetBlocksEqualSeparateInt8Convolutions() throws {
        try Precision.int8.requireSupport()
        var random = SeededRandom(seed: 19)
        let (n, side, c, planes) = (2, 10, 24, 16)

        // Bottleneck: 24 -> 16 -> 16 (stride 2) -> 64, shortcut 24 -> 64 (stride 2).
        let conv1 = Operands(Self.geometry(n, c, planes, side, kernel: 1), random: &random, key: 1)
        let conv2 = Operands(Self.geometry(n, planes, planes, side, kernel: 3, stride: 2), random: &random, key: 2)
        let conv3 = Operands(Self.geometry(n, planes, 4 * planes, side / 2, kernel: 1), random: &random, key: 3)
        let down = Operands(Self.geometry(n, c, 4 * planes, side, kernel: 1, stride: 2), random: &random, key: 4)
        let x = random.floats(n * side * side * c, 0, 2)
        let qx = ActivationQuantization(min: 0, max: 2)
        let h1 = try conv1.run(x, input: qx, activation: .relu), q1 = Self.calibrated(h1)
        let h2 = try conv2.run(h1, input: q1, activation: .relu), q2 = Self.calibrated(h2)
        let shortcut = try down.run(x, input: qx, activation: nil)
        let separate = try conv3.run(h2, input: q2, activation: .relu, accumulating: shortcut)
        var chained = output(separate.count)
        let links = [conv1.link(input: qx, activation: .relu), conv2.link(input: q1, activation: .relu), conv3.link(input: q2, activation: .relu)]
        try Kernels.conv2dInt8Chain(links, src: x, dst: &chained, residual: .projection(down.link(input: qx, activation: nil)))
        let scale = separate.map(abs).max() ?? 0
        XCTAssertGreaterThan(scale, 1, "the block's output is not all zeros")
        XCTAssertTrue(separate.contains(0) && chained.contains(0), "the ReLU after the sum clipped negatives")
        assertClose(chained, separate, tolerance: 1e-5, "bottleneck chain vs separate int8 convolutions on \(Runtime.isa)")

        // The same projection with its own input quantization (not the first link's): it quantizes x itself, same result.
        var ownScale = output(separate.count)
        let wider = ActivationQuantization(min: 0, max: 2.5)
        let shortcutWider = try down.run(x, input: wider, activation: nil)
        let separateWider = try conv3.run(h2, input: q2, activation: .relu, accumulating: shortcutWider)
        try Kernels.conv2dInt8Chain(links, src: x, dst: &ownScale, residual: .projection(down.link(input: wider, activation: nil)))
        assertClose(ownScale, separateWider, tolerance: 1e-5, "a projection with its own input scale")
        XCTAssertNotEqual(ownScale, chained, "the projection really used its own scale")

        // Basic block: 3x3 24 -> 24, 3x3 24 -> 24, identity summed into the input's own buffer.
        let b1 = Operands(Self.geometry(n, c, c, side, kernel: 3), random: &random, key: 5)
        let b2 = Operands(Self.geometry(n, c, c, side, kernel: 3), random: &random, key: 6)
        let g1 = try b1.run(x, input: qx, activation: .relu), qg = Self.calibrated(g1)
        let basicSeparate = try b2.run(g1, input: qg, activation: .relu, accumulating: x)
        var inPlace = x
        try inPlace.withUnsafeMutableBufferPointer { buffer in
            let p = buffer.baseAddress!
            try Kernels.conv2dInt8Chain([b1.link(input: qx, activation: .relu), b2.link(input: qg, activation: .relu)],
                                        src: p, dst: p, residual: .destination)
        }
        assertClose(inPlace, basicSeparate, tolerance: 1e-5, "basic block chain, summed in place, vs separate int8 convolutions")
        let change = zip(inPlace, x).map { abs($0 - $1) }.max() ?? 0
        XCTAssertGreaterThan(change, 0.1, "the block changed its input buffer")
    }

    /// 1x1 stride-2 int8 convolutions (ResNet's projections) against the integer arithmetic they stand for, run after run:
    /// oneDNN 2.6's avx2 kernel picked the strided pixels itself and raced between threads at 24 input channels (other
    /// wrong pixels in every run), so Graft picks them with a reorder, from fp32 or from u8 codes. An odd height picks
    /// one image at a time.
    func testStridedOneByOneEqualsIntegerReferenceEveryRun() throws {
        try Precision.int8.requireSupport()
        for (n, c, o, side) in [(2, 24, 64, 10), (3, 32, 64, 13), (1, 64, 128, 14)] {
            var random = SeededRandom(seed: 31)
            let conv = Operands(Self.geometry(n, c, o, side, kernel: 1, stride: 2), random: &random, key: 40 + c)
            let x = random.floats(n * side * side * c, 0, 2)
            let q = ActivationQuantization(min: 0, max: 2)
            let scales = conv.parameters(input: q).weightScales
            let out = (side + 1) / 2
            var expected = [Float](repeating: 0, count: n * out * out * o)
            for b in 0..<n { for y in 0..<out { for x0 in 0..<out { for k in 0..<o {
                var sum = 0
                for i in 0..<c {
                    let code = Int(min(255, (x[((b * side + 2 * y) * side + 2 * x0) * c + i] / q.scale).rounded(.toNearestOrEven)))
                    sum += code * Int((conv.weight[k * c + i] / scales[k]).rounded(.toNearestOrEven))
                }
                expected[((b * out + y) * out + x0) * o + k] = Float(sum) * q.scale * scales[k] + conv.bias[k]
            }}}}
            for run in 0..<10 {
                assertClose(try conv.run(x, input: q, activation: nil), expected, tolerance: 1e-4,
                            "\(n)x\(side)x\(side)x\(c) -> \(o), run \(run), on \(Runtime.isa)")
            }
            // From u8 codes (a chain's quantized input): the pixels are copied out of the codes instead.
            var codes = [UInt8](repeating: 0, count: x.count)
            try Kernels.quantize(x, count: x.count, into: &codes, q)
            var fromCodes = output(expected.count)
            try codes.withUnsafeBytes { bytes in
                try fromCodes.withUnsafeMutableBufferPointer { out in
                    try Kernels.conv2dInt8Chain([conv.link(input: q, activation: nil)], input: .quantized(bytes.baseAddress!, q),
                                                output: .fp32(out.baseAddress!), residual: .none)
                }
            }
            assertClose(fromCodes, expected, tolerance: 1e-4, "\(n)x\(side)x\(side)x\(c) -> \(o) from codes, on \(Runtime.isa)")
        }
    }

    /// Inverted-residual chains (expand 1x1, 3x3 depthwise, project 1x1) with the first two fused into one oneDNN
    /// primitive (the depthwise post-op) give the codes the unfused chain gives: strides 1 and 2, even and odd sizes,
    /// with and without the residual.
    func testFusedDepthwiseEqualsTheUnfusedChain() throws {
        try Precision.int8.requireSupport()
        for (n, c, expanded, side, stride) in [(2, 16, 96, 14, 2), (3, 24, 144, 9, 1), (1, 16, 48, 11, 2), (2, 32, 64, 8, 1)] {
            var random = SeededRandom(seed: 53 + UInt64(side))
            let expand = Operands(Self.geometry(n, c, expanded, side, kernel: 1), random: &random, key: 60 + side)
            var dwGeometry = Self.geometry(n, expanded, expanded, side, kernel: 3, stride: stride)
            dwGeometry.groups = expanded
            let depthwise = Operands(dwGeometry, random: &random, key: 70 + side)
            let out = dwGeometry.outHeight
            let project = Operands(Self.geometry(n, expanded, c, out, kernel: 1), random: &random, key: 80 + side)
            let x = random.floats(n * side * side * c, 0, 2)
            let qx = ActivationQuantization(min: 0, max: 2)
            let h1 = try expand.run(x, input: qx, activation: .relu6), q1 = Self.calibrated(h1)
            let h2 = try depthwise.run(h1, input: q1, activation: .relu6), q2 = Self.calibrated(h2)
            let links = [expand.link(input: qx, activation: .relu6), depthwise.link(input: q1, activation: .relu6),
                         project.link(input: q2, activation: nil)]
            XCTAssertTrue(Kernels.fusesDepthwise(links[0], links[1]), "the first two links fuse")
            var small = links[1]
            (small.geometry.height, small.geometry.width) = (7, 7)
            XCTAssertFalse(Kernels.fusesDepthwise(links[0], small), "7x7 stays apart (oneDNN's reference fusion is slower)")
            let residual: Kernels.Int8ChainResidual = stride == 1 ? .destination : .none
            func chain(fused: Bool) throws -> [Float] {
                var y = stride == 1 ? x : output(n * out * out * c)
                try Kernels.$fusesInt8Depthwise.withValue(fused) {
                    try Kernels.conv2dInt8Chain(links, src: x, dst: &y, residual: residual)
                }
                return y
            }
            let (fused, unfused) = (try chain(fused: true), try chain(fused: false))
            XCTAssertFalse(fused.contains { $0.isNaN }, "every output written")
            assertClose(fused, unfused, tolerance: 1e-6, "\(n)x\(side)x\(side)x\(c) -> \(expanded), stride \(stride), fused vs unfused on \(Runtime.isa)")
            XCTAssertGreaterThan(fused.map(abs).max() ?? 0, 0.1, "the block computed something")
        }
    }

    /// A block kept in u8 codes (ResNet identity blocks between blocks): codes in, codes out in place, the input's codes
    /// summed with its scale before the ReLU, against the fp32 chain on the dequantized input, quantized afterwards.
    func testIdentityBlockOnCodesInPlace() throws {
        try Precision.int8.requireSupport()
        var random = SeededRandom(seed: 23)
        let (n, side, c, planes) = (2, 9, 32, 8)
        let conv1 = Operands(Self.geometry(n, c, planes, side, kernel: 1), random: &random, key: 21)
        let conv2 = Operands(Self.geometry(n, planes, planes, side, kernel: 3), random: &random, key: 22)
        let conv3 = Operands(Self.geometry(n, planes, c, side, kernel: 1), random: &random, key: 23)
        let count = n * side * side * c
        let qx = ActivationQuantization(min: 0, max: 2), next = ActivationQuantization(min: 0, max: 3)
        var codes = [UInt8](repeating: 0, count: count)
        try Kernels.quantize(random.floats(count, 0, 2), count: count, into: &codes, qx)
        var x = output(count)
        try Kernels.dequantize(codes, count: count, qx, into: &x)
        XCTAssertEqual(x.map { ($0 / qx.scale).rounded() }, codes.map(Float.init), "codes * scale round-trips")
        let h1 = try conv1.run(x, input: qx, activation: .relu), q1 = Self.calibrated(h1)
        let h2 = try conv2.run(h1, input: q1, activation: .relu), q2 = Self.calibrated(h2)
        let links = [conv1.link(input: qx, activation: .relu), conv2.link(input: q1, activation: .relu), conv3.link(input: q2, activation: .relu)]
        var fp32 = x
        try Kernels.conv2dInt8Chain(links, src: x, dst: &fp32, residual: .destination)
        var reference = [UInt8](repeating: 0, count: count)
        try Kernels.quantize(fp32, count: count, into: &reference, next)
        var inPlace = codes
        try inPlace.withUnsafeMutableBytes { buffer in
            let p = buffer.baseAddress!
            try Kernels.conv2dInt8Chain(links, input: .quantized(UnsafeRawPointer(p), qx), output: .quantized(p, next), residual: .destination)
        }
        let differences = zip(inPlace, reference).map { abs(Int($0) - Int($1)) }
        print("int8 identity block on codes (\(Runtime.isa)): \(differences.filter { $0 > 0 }.count) of \(count) codes off the reference, by at most \(differences.max() ?? 0)")
        XCTAssertLessThanOrEqual(differences.max() ?? 0, 1, "at most one rounding step from the fp32 chain quantized afterwards")
        XCTAssertLessThanOrEqual(differences.filter { $0 > 0 }.count, count / 100)
        XCTAssertTrue(inPlace.contains(0) && inPlace.contains { $0 > 128 }, "the ReLU clipped and the codes use the range")
        XCTAssertNotEqual(inPlace, codes)
    }

    /// Inverted-residual blocks kept in s8 codes between them (a linear bottleneck is signed): expansion, 3x3 depthwise
    /// (fused into the expansion) and projection from s8 codes to s8 codes in the next block's scale, the residual block
    /// summing its input's codes in place, the other writing codes into a new buffer; against the fp32 chain on the
    /// dequantized input, quantized afterwards.
    func testInvertedResidualOnSignedCodes() throws {
        try Precision.int8.requireSupport()
        var random = SeededRandom(seed: 29)
        let (n, side, c, hidden) = (2, 10, 16, 48)
        let expand = Operands(Self.geometry(n, c, hidden, side, kernel: 1), random: &random, key: 31)
        var dw = Self.geometry(n, hidden, hidden, side, kernel: 3)
        dw.groups = hidden
        let depthwise = Operands(dw, random: &random, key: 32)
        let project = Operands(Self.geometry(n, hidden, c, side, kernel: 1), random: &random, key: 33)
        let count = n * side * side * c
        let qx = ActivationQuantization(min: -2, max: 2), next = ActivationQuantization(min: -3, max: 3)
        XCTAssertFalse(qx.unsigned || next.unsigned)
        var codes = [Int8](repeating: 0, count: count)
        try Kernels.quantize(random.floats(count, -2, 2), count: count, into: &codes, qx)
        var x = output(count)
        try Kernels.dequantize(codes, count: count, qx, into: &x)
        let h1 = try expand.run(x, input: qx, activation: .relu6), q1 = Self.calibrated(h1)
        let h2 = try depthwise.run(h1, input: q1, activation: .relu6), q2 = Self.calibrated(h2)
        let links = [expand.link(input: qx, activation: .relu6), depthwise.link(input: q1, activation: .relu6), project.link(input: q2, activation: nil)]
        for residual in [true, false] {
            var fp32 = residual ? x : output(count)
            try Kernels.conv2dInt8Chain(links, src: x, dst: &fp32, residual: residual ? .destination : .none)
            var reference = [Int8](repeating: 0, count: count)
            try Kernels.quantize(fp32, count: count, into: &reference, next)
            var out = residual ? codes : [Int8](repeating: 0, count: count)
            try out.withUnsafeMutableBytes { buffer in
                let p = buffer.baseAddress!
                try codes.withUnsafeBytes { input in
                    try Kernels.conv2dInt8Chain(links, input: .quantized(residual ? UnsafeRawPointer(p) : input.baseAddress!, qx),
                                                output: .quantized(p, next), residual: residual ? .destination : .none)
                }
            }
            let differences = zip(out, reference).map { abs(Int($0) - Int($1)) }
            XCTAssertLessThanOrEqual(differences.max() ?? 0, 1, "residual \(residual): at most one rounding step from the fp32 chain quantized afterwards")
            XCTAssertLessThanOrEqual(differences.filter { $0 > 0 }.count, count / 100, "residual \(residual)")
            print("int8 inverted residual on s8 codes (residual \(residual), \(Runtime.isa)): codes \(out.min()!)...\(out.max()!), "
                  + "\(differences.filter { $0 > 0 }.count) of \(count) off the reference")
            XCTAssertTrue(out.contains { $0 < -10 } && out.contains { $0 > 10 }, "signed codes, both sides used")
        }
    }

    /// Links that do not fit together, and a projection of another shape: typed errors before anything runs.
    func testMismatchedLinksAreTypedErrors() throws {
        try Precision.int8.requireSupport()
        var random = SeededRandom(seed: 7)
        let q = ActivationQuantization(min: 0, max: 1)
        let a = Operands(Self.geometry(1, 8, 16, 6, kernel: 1), random: &random, key: 11)
        let wrongChannels = Operands(Self.geometry(1, 12, 16, 6, kernel: 3), random: &random, key: 12)
        let fits = Operands(Self.geometry(1, 16, 16, 6, kernel: 3), random: &random, key: 13)
        let wrongProjection = Operands(Self.geometry(1, 8, 16, 6, kernel: 1, stride: 2), random: &random, key: 14)
        let x = random.floats(6 * 6 * 8, 0, 1)
        var y = output(6 * 6 * 16)
        let cases: [([Kernels.Int8ChainLink], Kernels.Int8ChainResidual, String)] = [
            ([a.link(input: q, activation: .relu), wrongChannels.link(input: q, activation: nil)], .none, "after one that writes"),
            ([a.link(input: q, activation: .relu), fits.link(input: q, activation: .relu)], .projection(wrongProjection.link(input: q, activation: nil)),
             "the projection maps"),
            // Codes passed between links are symmetric: a zero point is for a convolution quantizing its own fp32 input.
            ([a.link(input: q, activation: .relu), fits.link(input: ActivationQuantization(min: -0.2, max: 1, asymmetric: true), activation: .relu)],
             .none, "zero points only"),
        ]
        for (links, residual, expected) in cases {
            XCTAssertThrowsError(try Kernels.conv2dInt8Chain(links, src: x, dst: &y, residual: residual)) { error in
                guard case .invalidArguments(_, let reason)? = error as? KernelError else { return XCTFail("\(error)") }
                XCTAssertTrue(reason.contains(expected), reason)
            }
        }
        XCTAssertTrue(y.allSatisfy(\.isNaN), "nothing was written")
        // Quantized tensors: codes of another scale than the first link reads; a projection into a quantized output.
        let links = [a.link(input: q, activation: .relu), fits.link(input: q, activation: .relu)]
        var codes = [UInt8](repeating: 0, count: 6 * 6 * 16)
        let projection = Operands(Self.geometry(1, 8, 16, 6, kernel: 1), random: &random, key: 15)
        try codes.withUnsafeMutableBytes { buffer in
            try x.withUnsafeBufferPointer { floats in
                let p = buffer.baseAddress!, xp = floats.baseAddress!
                let quantizedCases: [(Kernels.Int8ChainInput, Kernels.Int8ChainOutput, Kernels.Int8ChainResidual, String)] = [
                    (.quantized(UnsafeRawPointer(p), ActivationQuantization(min: 0, max: 2)), .quantized(p, q), .none, "the first link reads scale"),
                    (.fp32(xp), .quantized(p, q), .projection(projection.link(input: q, activation: nil)), "needs an fp32 output"),
                ]
                for (input, output, residual, expected) in quantizedCases {
                    XCTAssertThrowsError(try Kernels.conv2dInt8Chain(links, input: input, output: output, residual: residual)) { error in
                        guard case .invalidArguments(_, let reason)? = error as? KernelError else { return XCTFail("\(error)") }
                        XCTAssertTrue(reason.contains(expected), reason)
                    }
                }
            }
        }
        XCTAssertTrue(codes.allSatisfy { $0 == 0 }, "nothing was written")
    }
}
