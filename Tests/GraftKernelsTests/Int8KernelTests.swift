import XCTest
@testable import GraftKernels

/// int8 convolutions (docs/PRECISION.md). An int8 call quantizes its fp32 input with the given scale (x / scale,
/// rounded to nearest even, saturated to u8 or s8) and its weights per output channel the same way, multiplies the
/// integers exactly (s32) and rescales: so it must equal the fp32 convolution of the dequantized operands
/// (q * scale) up to fp32 summation order, and differ from fp32 on the original ones by about the quantization step.
/// Runs on every CPU: VNNI/AMX kernels with 8-bit weights, AVX2 / AVX-512 ones with 7-bit weights (no saturation;
/// against s8 inputs oneDNN halves them once more there).
final class Int8KernelTests: XCTestCase {
    /// round(x * (1 / scale)) saturated to [lo, hi], times scale: what the int8 kernel multiplies.
    static func dequantized(_ x: Float, scale: Float, lo: Float, hi: Float) -> Float {
        min(max((x * (1 / scale)).rounded(.toNearestOrEven), lo), hi) * scale
    }

    func testSupportFollowsTheCPU() {
        XCTAssertEqual(Precision.int8.isSupported, ["avx2", "avx2_vnni", "avx512_core", "avx512_core_vnni", "avx512_core_bf16",
                                                    "avx512_core_amx"].contains(Runtime.isa), Runtime.isa)
        XCTAssertEqual(ConvInt8Parameters.weightLevels(unsignedInput: true), ConvInt8Parameters.hasInt8DotProduct ? 127 : 63)
        XCTAssertEqual(ConvInt8Parameters.weightLevels(unsignedInput: false), 127, "against s8 inputs oneDNN halves the weights itself")
    }

    func testActivationQuantizationFromARange() {
        let relu = ActivationQuantization(min: 0, max: 5.1)
        XCTAssertTrue(relu.unsigned)
        XCTAssertEqual(relu.scale, 5.1 / 255, accuracy: 1e-9)
        let signed = ActivationQuantization(min: -2.54, max: 1)
        XCTAssertFalse(signed.unsigned)
        XCTAssertEqual(signed.scale, 2.54 / 127, accuracy: 1e-9)
        XCTAssertEqual(ActivationQuantization(min: 0, max: 0).scale, 1, "a range of zeros still has a usable scale")
        // Asymmetric: u8 over the whole range, 0 exactly on a code.
        let leaky = ActivationQuantization(min: -0.51, max: 2.04, asymmetric: true)
        XCTAssertTrue(leaky.unsigned)
        XCTAssertEqual(leaky.scale, 2.55 / 255, accuracy: 1e-7)
        XCTAssertEqual(leaky.zeroPoint, 51)
        XCTAssertEqual(ActivationQuantization(min: 0, max: 5.1, asymmetric: true), relu, "a non-negative range needs no zero point")
        XCTAssertEqual(ActivationQuantization(min: -2, max: -1, asymmetric: true).zeroPoint, 0, "all negative: symmetric s8")
        let scales = ConvInt8Parameters.perChannelScales(of: [0.5, -1.27, 0, 0, 0, 0], outChannels: 2, count: 6, levels: 127)
        XCTAssertEqual(scales[0], 0.01, accuracy: 1e-7)
        XCTAssertEqual(scales[1], 1, "a channel of zeros")
    }

    /// Conv + bias + residual sum + ReLU (3x3 and 1x1, u8 and s8 inputs) and a depthwise conv with ReLU6, against fp32
    /// on the dequantized operands.
    func testConvolutionEqualsFP32OnDequantizedOperands() throws {
        try Precision.int8.requireSupport()
        // `asymmetric`: a lopsided signed input (a leaky ReLU's, [-0.4, 1.5]) as u8 codes with a zero point; padded
        // 3x3 (the padding must read as a real 0, the zero point) and a 1x1 at stride 2 (the subsampling reorder).
        let cases: [(k: Int, pad: Int, groups: Int, unsigned: Bool, asymmetric: Bool, stride: Int)] = [
            (3, 1, 1, true, false, 1), (1, 0, 1, false, false, 1), (3, 1, 1, false, false, 1), (3, 1, 24, true, false, 1),
            (3, 1, 1, false, true, 1), (1, 0, 1, false, true, 2),
        ]
        for c in cases {
            let channels = 24, outs = c.groups == 1 ? 40 : 24
            let g = Conv2DGeometry(batch: 2, inChannels: channels, outChannels: outs, height: 9, width: 7, kernelH: c.k, kernelW: c.k,
                                   strideH: c.stride, strideW: c.stride, padTop: c.pad, padBottom: c.pad, padLeft: c.pad,
                                   padRight: c.pad, groups: c.groups)
            var random = SeededRandom(seed: 8)
            let low: Float = c.unsigned ? 0 : c.asymmetric ? -0.4 : -1.5
            let x = random.floats(g.batch * g.height * g.width * channels, low, 1.5)
            let w = random.floats(outs * (channels / c.groups) * c.k * c.k, -0.3, 0.3)
            let b = random.floats(outs), residual = random.floats(g.batch * g.outHeight * g.outWidth * outs)
            let input = ActivationQuantization(min: low, max: 1.5, asymmetric: c.asymmetric)
            XCTAssertEqual(input.zeroPoint != 0, c.asymmetric)
            let levels = ConvInt8Parameters.weightLevels(unsignedInput: input.unsigned)
            let weightScales = ConvInt8Parameters.perChannelScales(of: w, outChannels: outs, count: w.count, levels: levels)
            let parameters = ConvInt8Parameters(input: input, weightScales: weightScales)
            let activation: Activation = c.groups == 1 ? .relu : .relu6
            let accumulate = c.groups == 1
            func run(_ x: [Float], _ w: [Float], _ precision: Precision, key: WeightKey?) throws -> [Float] {
                var y = accumulate ? residual : output(residual.count)
                try Kernels.conv2dForward(g, src: x, weight: w, weightKey: key, bias: b, dst: &y, activation: activation,
                                          accumulate: accumulate, winograd: false, precision: precision, int8: parameters)
                return y
            }
            let key = WeightKey(id: -(8_800 + c.k * 100 + c.groups + (c.unsigned ? 0 : 50) + (c.asymmetric ? 25 + c.stride : 0)), version: 0)
            let int8 = try run(x, w, .int8, key: key)
            let cached = try run(x, w, .int8, key: key)
            // Codes round(x / scale) + zero point in [0, 255] read as (code - zero point) * scale.
            let z = Float(input.zeroPoint)
            let qx = x.map { Self.dequantized($0, scale: input.scale, lo: input.unsigned ? -z : -128, hi: input.unsigned ? 255 - z : 127) }
            let perOut = w.count / outs
            // Without int8 dot products oneDNN halves s8 weights read against s8 inputs (its s8s8 "scale_adjust", undone
            // in the output scale): one bit fewer, rounded once from w * (1 / scale) * 0.5.
            let adjust: Float = !input.unsigned && !ConvInt8Parameters.hasInt8DotProduct ? 0.5 : 1
            let qw = w.indices.map { i -> Float in
                let s = weightScales[i / perOut]
                return min(max((w[i] * ((1 / s) * adjust)).rounded(.toNearestOrEven), -levels), levels) / adjust * s
            }
            let reference = try run(qx, qw, .fp32, key: nil)
            let plain = try run(x, w, .fp32, key: nil)
            let what = "int8 conv \(c.k)x\(c.k) stride \(c.stride) groups \(c.groups) \(input.unsigned ? "u8" : "s8") zero point \(input.zeroPoint) on \(Runtime.isa)"
            assertClose(int8, reference, tolerance: 2e-5, "\(what) vs fp32 on dequantized operands")
            XCTAssertEqual(int8, cached, "\(what): the cached s8 weights give the same result")
            let change = zip(int8, plain).map { abs($0 - $1) }.max() ?? 0
            XCTAssertGreaterThan(change, 1e-4, "\(what) really quantizes")
            // Each of the K products x * w moves by at most |x| * sw / 2 + |w| * sx / 2 + sx * sw / 4 (half a step each).
            let k = Float(c.k * c.k * channels / c.groups), sw = weightScales.max()!, sx = input.scale
            let bound = k * (1.5 * sw / 2 + 0.3 * sx / 2 + sx * sw / 4)
            if c.asymmetric {   // twice s8's resolution for this range: (1.9 / 255 against 1.5 / 127)
                XCTAssertLessThan(input.scale, ActivationQuantization(min: low, max: 1.5).scale * 0.65)
            }
            XCTAssertLessThan(change, bound, "\(what) stays within the quantization bound of fp32")
        }
    }

    /// Inputs beyond the calibrated range saturate (u8 at 255 * scale, negatives at 0), as the reference says.
    func testInputsOutsideTheRangeSaturate() throws {
        try Precision.int8.requireSupport()
        let g = Conv2DGeometry(batch: 1, inChannels: 4, outChannels: 1, height: 1, width: 2, kernelH: 1, kernelW: 1)
        let input = ActivationQuantization(min: 0, max: 2.55)
        let parameters = ConvInt8Parameters(input: input, weightScales: [1.0 / ConvInt8Parameters.weightLevels(unsignedInput: input.unsigned)])
        var y = output(2)
        try Kernels.conv2dForward(g, src: [10, -3, 1, 0.5, 0.01, 2, 0, 0], weight: [1, 1, 1, 1], weightKey: nil, bias: nil, dst: &y,
                                  precision: .int8, int8: parameters)
        XCTAssertEqual(y[0], 2.55 + 0 + 1 + 0.5, accuracy: 1e-5)
        XCTAssertEqual(y[1], 0.01 + 2, accuracy: 1e-5)
    }

    /// Without int8 parameters (a layer calibration did not cover) an int8 call is the fp32 one.
    func testUncalibratedLayersComputeInFP32() throws {
        let g = Conv2DGeometry(batch: 1, inChannels: 8, outChannels: 4, height: 5, width: 5, kernelH: 3, kernelW: 3,
                               strideH: 1, strideW: 1, padTop: 1, padBottom: 1, padLeft: 1, padRight: 1)
        var random = SeededRandom(seed: 3)
        let x = random.floats(200), w = random.floats(288)
        var a = output(100), b = output(100)
        try Kernels.conv2dForward(g, src: x, weight: w, weightKey: nil, bias: nil, dst: &a, precision: .fp32)
        try Kernels.conv2dForward(g, src: x, weight: w, weightKey: nil, bias: nil, dst: &b, precision: .int8)
        XCTAssertEqual(a, b)
    }

    func testWrongScaleCountIsATypedError() throws {
        try Precision.int8.requireSupport()
        let g = Conv2DGeometry(batch: 1, inChannels: 2, outChannels: 3, height: 2, width: 2, kernelH: 1, kernelW: 1)
        var y = output(12)
        XCTAssertThrowsError(try Kernels.conv2dForward(g, src: [Float](repeating: 1, count: 8), weight: [Float](repeating: 1, count: 6),
                                                       weightKey: nil, bias: nil, dst: &y, precision: .int8,
                                                       int8: ConvInt8Parameters(input: .init(min: 0, max: 1), weightScales: [1]))) { error in
            guard case .invalidArguments? = error as? KernelError else { return XCTFail("\(error)") }
        }
    }
}
