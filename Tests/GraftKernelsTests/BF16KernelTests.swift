import XCTest
@testable import GraftKernels

/// bf16 convolutions and matmuls (docs/PRECISION.md). A bf16 call rounds its fp32 operands to bf16
/// (round to nearest even, as oneDNN's reorder does) and accumulates in fp32, so it must equal the fp32
/// call on operands rounded the same way, up to fp32 summation order, and differ from the fp32 call on
/// the original operands. On a CPU without AVX-512 bf16 the precision is refused with a typed error.
final class BF16KernelTests: XCTestCase {
    /// fp32 -> bf16 -> fp32, round to nearest even.
    static func bf16(_ x: Float) -> Float {
        let bits = x.bitPattern
        return Float(bitPattern: (bits &+ 0x7FFF &+ ((bits >> 16) & 1)) & 0xFFFF_0000)
    }

    static let isBF16CPU = ["avx512_core_bf16", "avx512_core_amx"].contains(Runtime.isa)

    /// Skips a bf16 test on a CPU without bf16, after checking that such a CPU refuses it with the typed error.
    func requireBF16() throws {
        if Self.isBF16CPU { return XCTAssertNoThrow(try Precision.bf16.requireSupport()) }
        XCTAssertThrowsError(try Precision.bf16.requireSupport()) { error in
            guard case let .unsupportedPrecision(precision, reason)? = error as? KernelError else { return XCTFail("\(error)") }
            XCTAssertEqual(precision, .bf16)
            XCTAssertTrue(reason.contains(Runtime.isa), reason)
        }
        throw XCTSkip("this CPU (\(Runtime.isa)) has no bf16 instructions: refused with KernelError.unsupportedPrecision")
    }

    func testSupportFollowsTheCPU() throws {
        XCTAssertTrue(Precision.fp32.isSupported)
        XCTAssertEqual(Precision.bf16.isSupported, Self.isBF16CPU, Runtime.isa)
        // int8 follows the CPU too (Int8KernelTests); whether a model can run it is asked where it is loaded.
        XCTAssertEqual(Precision(rawValue: "bf16"), .bf16)
        // The kernels themselves refuse what the CPU lacks, typed, whoever calls them.
        let g = Conv2DGeometry(batch: 1, inChannels: 2, outChannels: 2, height: 3, width: 3, kernelH: 1, kernelW: 1)
        var y = [Float](repeating: 0, count: 18)
        for precision in Precision.allCases where !precision.isSupported {
            XCTAssertThrowsError(try Kernels.conv2dForward(g, src: [Float](repeating: 1, count: 18), weight: [1, 0, 0, 1], weightKey: nil,
                                                           bias: nil, dst: &y, precision: precision)) { error in
                XCTAssertEqual((error as? KernelError).map { if case .unsupportedPrecision = $0 { true } else { false } }, true, "\(error)")
            }
            // An RGB stem, which bf16 computes in fp32 (testRGBStemStaysFP32UnderBF16), is refused all the same.
            if precision == .bf16 {
                let stem = Conv2DGeometry(batch: 1, inChannels: 3, outChannels: 2, height: 3, width: 3, kernelH: 3, kernelW: 3)
                var z = [Float](repeating: 0, count: 2)
                XCTAssertThrowsError(try Kernels.conv2dForward(stem, src: [Float](repeating: 1, count: 27), weight: [Float](repeating: 1, count: 54),
                                                               weightKey: nil, bias: nil, dst: &z, precision: precision), "\(precision)")
            }
            XCTAssertThrowsError(try Kernels.matmul(a: [1, 2], .contiguous([1, 2]), b: [1, 2], .contiguous([2, 1]), c: &y, .contiguous([1, 1]),
                                                    precision: precision)) { error in
                XCTAssertEqual((error as? KernelError).map { if case .unsupportedPrecision = $0 { true } else { false } }, true, "\(error)")
            }
        }
    }

    /// An RGB 3x3 stem (3 input channels) asked for bf16 computes in fp32: the same bits as the fp32 call.
    func testRGBStemStaysFP32UnderBF16() throws {
        try requireBF16()
        let g = Conv2DGeometry(batch: 2, inChannels: 3, outChannels: 32, height: 17, width: 16, kernelH: 3, kernelW: 3,
                               strideH: 2, strideW: 2, padTop: 0, padBottom: 1, padLeft: 0, padRight: 1)
        var random = SeededRandom(seed: 23)
        let x = random.floats(g.batch * g.height * g.width * g.inChannels), w = random.floats(g.outChannels * 27, -0.2, 0.2)
        let b = random.floats(g.outChannels)
        func run(_ precision: Precision) throws -> [Float] {
            var y = [Float](repeating: 0, count: g.batch * g.outHeight * g.outWidth * g.outChannels)
            try Kernels.conv2dForward(g, src: x, weight: w, weightKey: nil, bias: b, dst: &y, activation: .relu6, precision: precision)
            return y
        }
        XCTAssertTrue(Kernels.staysFP32UnderBF16(g))
        XCTAssertEqual(try run(.bf16), try run(.fp32))
        // Wider inputs, or other kernels, do compute in bf16.
        XCTAssertFalse(Kernels.staysFP32UnderBF16(Conv2DGeometry(batch: 1, inChannels: 16, outChannels: 8, height: 5, width: 5, kernelH: 3, kernelW: 3)))
        XCTAssertFalse(Kernels.staysFP32UnderBF16(Conv2DGeometry(batch: 1, inChannels: 3, outChannels: 64, height: 9, width: 9, kernelH: 7, kernelW: 7)))
    }

    /// Conv + bias + residual sum + ReLU, 3x3 stride 1 (where fp32 would take Winograd) and a 1x1.
    func testConvolutionComputesOnBF16Operands() throws {
        try requireBF16()
        for (k, pad) in [(3, 1), (1, 0)] {
            let g = Conv2DGeometry(batch: 2, inChannels: 32, outChannels: 48, height: 9, width: 7, kernelH: k, kernelW: k,
                                   strideH: 1, strideW: 1, padTop: pad, padBottom: pad, padLeft: pad, padRight: pad)
            var random = SeededRandom(seed: 19)
            let x = random.floats(g.batch * g.height * g.width * g.inChannels)
            let w = random.floats(g.outChannels * g.inChannels * k * k, -0.2, 0.2)
            let b = random.floats(g.outChannels), residual = random.floats(g.batch * g.outHeight * g.outWidth * g.outChannels)
            func run(_ x: [Float], _ w: [Float], _ precision: Precision, key: WeightKey?) throws -> [Float] {
                var y = residual
                try Kernels.conv2dForward(g, src: x, weight: w, weightKey: key, bias: b, dst: &y, activation: .relu,
                                          accumulate: true, winograd: true, precision: precision)
                return y
            }
            let bf16 = try run(x, w, .bf16, key: WeightKey(id: -(1_900 + k), version: 0))
            let cached = try run(x, w, .bf16, key: WeightKey(id: -(1_900 + k), version: 0))   // the cached bf16 weights
            let reference = try run(x.map(Self.bf16), w.map(Self.bf16), .fp32, key: nil)
            let plain = try run(x, w, .fp32, key: nil)
            assertClose(bf16, reference, tolerance: 2e-5, "bf16 conv \(k)x\(k) vs fp32 on rounded operands")
            XCTAssertEqual(bf16, cached, "the cached bf16 weights give the same result")
            let change = zip(bf16, plain).map { abs($0 - $1) }.max() ?? 0
            XCTAssertGreaterThan(change, 1e-4, "bf16 really rounds the operands")
            XCTAssertLessThan(change, 0.05, "and stays close to fp32 (outputs are O(1))")
            let implementation = try Kernels.conv2dImplementation(g, precision: .bf16).name
            XCTAssertTrue(implementation.contains("bf16"), implementation)
        }
    }

    /// A new weight version replaces the cached bf16 copy, which lives beside the fp32 one.
    func testCachedBF16WeightsFollowTheVersion() throws {
        try requireBF16()
        let g = Conv2DGeometry(batch: 1, inChannels: 16, outChannels: 16, height: 5, width: 5, kernelH: 1, kernelW: 1)
        var random = SeededRandom(seed: 7)
        let x = random.floats(25 * 16), w1 = random.floats(256), w2 = random.floats(256)
        func run(_ w: [Float], _ version: Int, _ precision: Precision) throws -> [Float] {
            var y = [Float](repeating: 0, count: 25 * 16)
            try Kernels.conv2dForward(g, src: x, weight: w, weightKey: WeightKey(id: -1_999, version: version), bias: nil,
                                      dst: &y, precision: precision)
            return y
        }
        let first = try run(w1, 0, .bf16), fp32 = try run(w1, 0, .fp32)
        XCTAssertNotEqual(first, fp32)
        let second = try run(w2, 1, .bf16)
        var expected = [Float](repeating: 0, count: 25 * 16)
        try Kernels.conv2dForward(g, src: x.map(Self.bf16), weight: w2.map(Self.bf16), weightKey: nil, bias: nil, dst: &expected)
        assertClose(second, expected, tolerance: 2e-5, "after the version changed")
    }

    /// Attention's strided products (heads read in place, scale, additive mask) and a prepacked weight.
    func testStridedMatmulComputesOnBF16Operands() throws {
        try requireBF16()
        let (b, heads, l, d) = (2, 3, 5, 8), hidden = heads * d, row = 3 * hidden
        var random = SeededRandom(seed: 3)
        let qkv = random.floats(b * l * row), mask = random.floats(b * l, -2, 0)
        let q = MatrixLayout(dims: [b, heads, l, d], strides: [l * row, d, row, 1])
        let kT = MatrixLayout(dims: [b, heads, d, l], strides: [l * row, d, 1, row])
        let epilogue = MatmulEpilogue(scale: 0.35, addendDims: [b, 1, 1, l])
        func scores(_ qkv: [Float], _ precision: Precision) throws -> [Float] {
            var c = [Float](repeating: 0, count: b * heads * l * l)
            try qkv.withUnsafeBufferPointer { p in
                try Kernels.matmul(a: p.baseAddress!, q, b: p.baseAddress! + hidden, kT, c: &c, .contiguous([b, heads, l, l]),
                                   addend: mask, epilogue: epilogue, precision: precision)
            }
            return c
        }
        let bf16 = try scores(qkv, .bf16)
        assertClose(bf16, try scores(qkv.map(Self.bf16), .fp32), tolerance: 2e-5, "bf16 attention scores")
        XCTAssertNotEqual(bf16, try scores(qkv, .fp32))

        // A linear layer: weight [out, in] read transposed and prepacked into the cache, bias, GELU.
        let (rows, k, n) = (7, 40, 24)
        let x = random.floats(rows * k), w = random.floats(n * k, -0.3, 0.3), bias = random.floats(n)
        func linear(_ x: [Float], _ w: [Float], _ precision: Precision, key: WeightKey?) throws -> [Float] {
            var y = [Float](repeating: 0, count: rows * n)
            try Kernels.matmul(a: x, .contiguous([rows, k]), b: w, MatrixLayout(dims: [k, n], strides: [1, k]),
                               c: &y, .contiguous([rows, n]), bias: bias, epilogue: MatmulEpilogue(activation: .gelu),
                               weightKey: key, precision: precision)
            return y
        }
        let packed = try linear(x, w, .bf16, key: WeightKey(id: -1_901, version: 0))
        assertClose(packed, try linear(x.map(Self.bf16), w.map(Self.bf16), .fp32, key: nil), tolerance: 2e-5, "bf16 linear")
        assertClose(try linear(x, w, .bf16, key: nil), packed, tolerance: 2e-5, "prepacked and converted-per-call agree")
    }
}
