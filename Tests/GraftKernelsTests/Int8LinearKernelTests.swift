import XCTest
@testable import GraftKernels

/// int8 linears with dynamic quantization (docs/PRECISION.md, "int8 linears"). A call quantizes its fp32 input to u8
/// with the scale and zero point of its own range (round half up), its weight per output channel to s8 (round to
/// nearest even), multiplies the integers exactly (s32) and rescales; so it must equal the fp32 linear of the
/// dequantized operands up to summation order, and differ from fp32 on the original ones by about a quantization step.
final class Int8LinearKernelTests: XCTestCase {
    /// What the kernel multiplies for an input element: (clamp(floor(x / s + z + 0.5), 0, 255) - z) * s.
    static func dequantizedInput(_ x: Float, _ q: DynamicQuantization) -> Float {
        let v = min(max((x * (1 / q.scale) + q.zeroPoint + 0.5).rounded(.down), 0), 255)
        return (v - q.zeroPoint) * q.scale
    }

    /// The reference linear in double: act(x W^T + b) (+ residual).
    static func linear(_ x: [Float], _ w: [Float], _ b: [Float]?, rows: Int, inputs: Int, outputs: Int,
                       gelu: Bool, residual: [Float]?) -> [Float] {
        (0..<(rows * outputs)).map { i in
            let (r, o) = (i / outputs, i % outputs)
            var sum = Double(b?[o] ?? 0)
            for k in 0..<inputs { sum += Double(x[r * inputs + k]) * Double(w[o * inputs + k]) }
            if gelu { sum = 0.5 * sum * (1 + erf(sum / 2.0.squareRoot())) }
            return Float(sum) + (residual?[i] ?? 0)
        }
    }

    func testDynamicQuantizationCoversTheRangeAndZero() {
        let q = DynamicQuantization(min: -0.17, max: 5.1)
        XCTAssertEqual(q.scale, 5.27 / 255, accuracy: 1e-7)
        XCTAssertEqual(q.zeroPoint, (0.17 / q.scale).rounded(), "zero point: where 0 lands")
        let positive = DynamicQuantization(min: 0.5, max: 2.55)
        XCTAssertEqual(positive.zeroPoint, 0, "the range always holds 0")
        XCTAssertEqual(positive.scale, 0.01, accuracy: 1e-7)
        let negative = DynamicQuantization(min: -2.55, max: -1)
        XCTAssertEqual(negative.zeroPoint, 255)
        XCTAssertEqual(DynamicQuantization(min: 0, max: 0).scale, 1, "a tensor of zeros still has a usable scale")
        let x: [Float] = [0.25, -3, 7.5, 0, 1e-3]
        let measured = x.withUnsafeBufferPointer { DynamicQuantization(of: $0.baseAddress!, count: x.count) }
        XCTAssertEqual(measured, DynamicQuantization(min: -3, max: 7.5))
    }

    /// Bias + GELU, bias + residual sum, and no bias, on shapes oneDNN blocks unevenly, against fp32 on the
    /// dequantized operands; cached s8 weights give the same answer, and a new weight version is quantized afresh.
    /// Both ways of applying the per-call scales (`Int8LinearScaling`) run on every CPU (the one a CPU does not
    /// prefer is slower there, not wrong).
    func testLinearEqualsFP32OnDequantizedOperands() throws {
        try Precision.int8.requireSupport()
        for scaling in [Int8LinearScaling.multiplyPostOp, .runtimeOutputScales] {
            try checkLinearEqualsFP32OnDequantizedOperands(scaling: scaling)
        }
    }

    func checkLinearEqualsFP32OnDequantizedOperands(scaling: Int8LinearScaling) throws {
        let levels = ConvInt8Parameters.weightLevels
        let cases: [(rows: Int, inputs: Int, outputs: Int, bias: Bool, gelu: Bool, residual: Bool)] = [
            (37, 64, 48, true, true, false), (64, 96, 40, true, false, true), (5, 33, 17, false, false, false),
        ]
        for (n, c) in cases.enumerated() {
            var random = SeededRandom(seed: 19 + UInt64(n))
            // An input like a GELU output (mostly positive, a small negative tail) and one centred on zero.
            let x = random.floats(c.rows * c.inputs, n == 0 ? -0.17 : -2, 3)
            let w = random.floats(c.outputs * c.inputs, -0.3, 0.3)
            let b = c.bias ? random.floats(c.outputs) : nil
            let residual = c.residual ? random.floats(c.rows * c.outputs) : nil
            let key = WeightKey(id: 19_000 + n, version: 0)
            func run(_ w: [Float], key: WeightKey) throws -> [Float] {
                var y = residual ?? output(c.rows * c.outputs)
                try y.withUnsafeMutableBufferPointer { out in
                    try Kernels.linearInt8(a: x, rows: c.rows, inputs: c.inputs, weight: w, outputs: c.outputs, weightKey: key,
                                           bias: b, c: out.baseAddress!, activation: c.gelu ? .gelu : nil, accumulate: c.residual,
                                           scaling: scaling)
                }
                return y
            }
            let int8 = try run(w, key: key)
            let cached = try run(w, key: key)
            let q = DynamicQuantization(min: x.min()!, max: x.max()!)
            let qx = x.map { Self.dequantizedInput($0, q) }
            let scales = ConvInt8Parameters.perChannelScales(of: w, outChannels: c.outputs, count: w.count)
            let qw = w.indices.map { i -> Float in
                let s = scales[i / c.inputs]
                return min(max((w[i] * (1 / s)).rounded(.toNearestOrEven), -levels), levels) * s
            }
            let reference = Self.linear(qx, qw, b, rows: c.rows, inputs: c.inputs, outputs: c.outputs, gelu: c.gelu, residual: residual)
            let plain = Self.linear(x, w, b, rows: c.rows, inputs: c.inputs, outputs: c.outputs, gelu: c.gelu, residual: residual)
            let implementation = try Kernels.linearInt8Implementation(rows: c.rows, inputs: c.inputs, outputs: c.outputs,
                                                                      activation: c.gelu ? .gelu : nil, accumulate: c.residual, scaling: scaling)
            let what = "int8 linear \(c) \(scaling) on \(Runtime.isa) (\(implementation))"
            assertClose(int8, reference, tolerance: 2e-5, "\(what) vs fp32 on dequantized operands")
            XCTAssertEqual(int8, cached, "\(what): the cached s8 weights give the same result")
            let change = zip(int8, plain).map { abs($0 - $1) }.max() ?? 0
            XCTAssertGreaterThan(change, 1e-4, "\(what) really quantizes")
            // Each product x * w moves by at most |x| sw / 2 + |w| sx / 2 + sx sw / 4 (half a step each; GELU's slope <= 1.13).
            let sw = scales.max()!, sx = q.scale
            XCTAssertLessThan(change, 1.13 * Float(c.inputs) * (3 * sw / 2 + 0.3 * sx / 2 + sx * sw / 4), "\(what) within the quantization bound")
            // New values under the same id: a new version re-quantizes instead of reusing the cached copy.
            let doubled = w.map { $0 * 2 }
            let again = try run(doubled, key: WeightKey(id: key.id, version: 1))
            let expected = Self.linear(qx, qw.map { $0 * 2 }, b, rows: c.rows, inputs: c.inputs, outputs: c.outputs, gelu: c.gelu, residual: residual)
            assertClose(again, expected, tolerance: 4e-5, "\(what), weight version 1")
        }
    }

    /// Which oneDNN kernel the int8 linears of MiniLM's shapes run (the reason for `Int8LinearScaling`): where the CPU
    /// has oneDNN's brgemm int8 matmuls (AVX-512 VNNI, bf16, AMX) the preferred path must get them, AMX tiles on AMX;
    /// elsewhere (AVX2, AVX-512 without VNNI) the preferred path is run-time output scales on `gemm:jit`, whose
    /// residual sum stays off oneDNN's reference kernel. Run-time output scales get `gemm:jit` on every CPU (oneDNN 2.6).
    func testPreferredScalingRunsBrgemmWhereTheCPUHasIt() throws {
        try Precision.int8.requireSupport()
        let brgemm = ["avx512_core_vnni": "brg:avx512_core_vnni", "avx512_core_bf16": "brg:avx512_core_vnni",
                      "avx512_core_amx": "brg:avx512_core_amx_int8"][Runtime.isa]
        XCTAssertEqual(Int8LinearScaling.preferred, brgemm == nil ? .runtimeOutputScales : .multiplyPostOp, Runtime.isa)
        // MiniLM-L6: QKV, attention output (+ residual), FFN in (+ GELU), FFN out (+ residual); 32 sentences x 32
        // tokens, x 128 tokens, and a ragged row count.
        let shapes: [(rows: Int, inputs: Int, outputs: Int, activation: Activation?, accumulate: Bool)] = [
            (1024, 384, 1152, nil, false), (1024, 384, 384, nil, true), (4096, 384, 1536, .gelu, false),
            (4096, 1536, 384, nil, true), (161, 384, 1152, nil, false),
        ]
        for s in shapes {
            let preferred = try Kernels.linearInt8Implementation(rows: s.rows, inputs: s.inputs, outputs: s.outputs,
                                                                 activation: s.activation, accumulate: s.accumulate)
            XCTAssertEqual(preferred, brgemm ?? "gemm:jit", "\(s) on \(Runtime.isa)")
            let runtimeScales = try Kernels.linearInt8Implementation(rows: s.rows, inputs: s.inputs, outputs: s.outputs,
                                                                     activation: s.activation, accumulate: s.accumulate,
                                                                     scaling: .runtimeOutputScales)
            XCTAssertEqual(runtimeScales, "gemm:jit", "\(s) with run-time output scales on \(Runtime.isa)")
        }
    }

    /// A zero input row gives exactly act(bias): zero is exact under any zero point.
    func testZerosAreExact() throws {
        try Precision.int8.requireSupport()
        let (rows, inputs, outputs) = (3, 16, 8)
        var random = SeededRandom(seed: 7)
        var x = random.floats(rows * inputs, -1, 4)
        for k in 0..<inputs { x[k] = 0 }
        let w = random.floats(outputs * inputs), b = random.floats(outputs)
        var y = output(rows * outputs)
        try y.withUnsafeMutableBufferPointer { out in
            try Kernels.linearInt8(a: x, rows: rows, inputs: inputs, weight: w, outputs: outputs, weightKey: WeightKey(id: 19_100, version: 0),
                                   bias: b, c: out.baseAddress!)
        }
        for o in 0..<outputs { XCTAssertEqual(y[o], b[o], accuracy: 1e-4 * max(1, abs(b[o]))) }
    }
}
