import XCTest
@testable import GraftKernels

/// int8 linears with dynamic quantization (docs/PRECISION.md, "int8 linears"). A call quantizes its fp32 input to u8,
/// each row with its own symmetric scale around 128 (round half up), its weight per output channel to s8 (round to
/// nearest even), multiplies the integers exactly (s32) and rescales; so it must equal the fp32 linear of the dequantized operands up to summation order,
/// and differ from fp32 on the original ones by about a quantization step.
final class Int8LinearKernelTests: XCTestCase {
    /// What the kernel multiplies for an input row with zero point z: (clamp(floor(x / s + z + 0.5), 0, 255) - z) * s,
    /// s = max(max x / (255 - z), -min x / min(z, 127)) (the range always holds 0): z = 128 is max |x| / 127.
    static func dequantizedRows(_ x: [Float], rows: Int, inputs: Int, zeroPoint: Int = 128) -> (values: [Float], largestScale: Float) {
        var out = x, largest: Float = 0
        let z = Float(zeroPoint)
        for r in 0..<rows {
            let row = x[(r * inputs)..<((r + 1) * inputs)]
            let (lo, hi) = (min(0, row.min()!), max(0, row.max()!))
            let scale = max(hi / (255 - z), -lo / min(z, 127))
            let s = scale > 0 ? scale : 1
            largest = max(largest, s)
            for k in row.indices { out[k] = (min(max((x[k] * (1 / s) + z + 0.5).rounded(.down), 0), 255) - z) * s }
        }
        return (out, largest)
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
        let levels = ConvInt8Parameters.weightLevels(unsignedInput: true)
        // Zero point 16: the feed-forward output's (its input is a GELU output); on the centred input as well,
        // where the negative side sets the scale.
        let cases: [(rows: Int, inputs: Int, outputs: Int, bias: Bool, gelu: Bool, residual: Bool, zero: Int)] = [
            (37, 64, 48, true, true, false, 128), (64, 96, 40, true, false, true, 128), (5, 33, 17, false, false, false, 128),
            (517, 384, 200, true, true, false, 128), (37, 64, 48, true, false, true, 16), (21, 40, 24, true, false, false, 16),
        ]
        for (n, c) in cases.enumerated() {
            var random = SeededRandom(seed: 19 + UInt64(n))
            // An input like a GELU output (mostly positive, a small negative tail) and one centred on zero.
            let x = random.floats(c.rows * c.inputs, n == 0 || n == 4 ? -0.17 : -2, 3)
            let w = random.floats(c.outputs * c.inputs, -0.3, 0.3)
            let b = c.bias ? random.floats(c.outputs) : nil
            let residual = c.residual ? random.floats(c.rows * c.outputs) : nil
            let key = WeightKey(id: -(19_000 + n), version: 0)
            func run(_ w: [Float], key: WeightKey) throws -> [Float] {
                var y = residual ?? output(c.rows * c.outputs)
                try y.withUnsafeMutableBufferPointer { out in
                    try Kernels.linearInt8(a: x, rows: c.rows, inputs: c.inputs, weight: w, outputs: c.outputs, weightKey: key,
                                           bias: b, c: out.baseAddress!, activation: c.gelu ? .gelu : nil, accumulate: c.residual,
                                           inputZeroPoint: c.zero, scaling: scaling)
                }
                return y
            }
            let int8 = try run(w, key: key)
            let cached = try run(w, key: key)
            let (qx, sx) = Self.dequantizedRows(x, rows: c.rows, inputs: c.inputs, zeroPoint: c.zero)
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
            let sw = scales.max()!
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
    /// elsewhere (AVX2, AVX-512 without VNNI) the preferred path is run-time output scales on `gemm:jit`, then the row
    /// scales, bias, residual sum and activation as oneDNN's jit binary primitive: neither on oneDNN's reference
    /// kernel. Run-time output scales get that pair on every CPU (oneDNN 2.6).
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
            if let brgemm { XCTAssertEqual(preferred, brgemm, "\(s) on \(Runtime.isa)") }
            else { XCTAssertTrue(preferred.hasPrefix("gemm:jit + jit:"), "\(s) on \(Runtime.isa): \(preferred)") }
            let runtimeScales = try Kernels.linearInt8Implementation(rows: s.rows, inputs: s.inputs, outputs: s.outputs,
                                                                     activation: s.activation, accumulate: s.accumulate,
                                                                     scaling: .runtimeOutputScales)
            XCTAssertTrue(runtimeScales.hasPrefix("gemm:jit + jit:"), "\(s) with run-time output scales on \(Runtime.isa): \(runtimeScales)")
        }
    }

    /// With per-row scales a row's result does not depend on the rows batched with it: a row of small values next to
    /// a row of large ones equals that row run alone (the ragged text batches of bench/encoder mix such rows); both
    /// ways of applying the scales.
    func testARowsResultDoesNotDependOnItsBatchMates() throws {
        try Precision.int8.requireSupport()
        for scaling in [Int8LinearScaling.multiplyPostOp, .runtimeOutputScales] { try checkBatchMates(scaling: scaling) }
    }

    func checkBatchMates(scaling: Int8LinearScaling) throws {
        // MiniLM's QKV, attention output (+ residual) and feed-forward input (+ GELU); the rows sit at the start,
        // in the middle and at the end of batches of 1 to 67 rows.
        let shapes: [(outputs: Int, activation: Activation?, accumulate: Bool)] = [(1152, nil, false), (384, nil, true), (1536, .gelu, false)]
        let inputs = 384
        for (n, shape) in shapes.enumerated() {
            var random = SeededRandom(seed: 23 + UInt64(n))
            let w = random.floats(shape.outputs * inputs, -0.3, 0.3), b = random.floats(shape.outputs)
            let small = random.floats(3 * inputs, -0.05, 0.05)
            func run(_ x: [Float], residual: [Float]) throws -> [Float] {
                var y = shape.accumulate ? residual : output(x.count / inputs * shape.outputs)
                try y.withUnsafeMutableBufferPointer { out in
                    try Kernels.linearInt8(a: x, rows: x.count / inputs, inputs: inputs, weight: w, outputs: shape.outputs,
                                           weightKey: WeightKey(id: -(19_200 + n), version: 0), bias: b, c: out.baseAddress!,
                                           activation: shape.activation, accumulate: shape.accumulate, scaling: scaling)
                }
                return y
            }
            let residual = random.floats(3 * shape.outputs)
            let alone = try run(small, residual: residual)
            for (before, after) in [(0, 1), (5, 0), (16, 48), (64, 0)] {
                let x = random.floats(before * inputs, -40, 40) + small + random.floats(after * inputs, -40, 40)
                let r = random.floats(before * shape.outputs) + residual + random.floats(after * shape.outputs)
                let y = try run(x, residual: r)
                assertClose(Array(y[(before * shape.outputs)..<((before + 3) * shape.outputs)]), alone, tolerance: 1e-6,
                            "rows \(before)..<\(before + 3) of \(before + 3 + after), \(shape), \(scaling)")
            }
        }
    }

    /// A mostly positive input (GELU's output, the feed-forward output linear's) with its zero at code 16 gets about
    /// twice the codes on its positive side (239 against 127), so its rounding error is about a quarter in square; a zero
    /// point outside 1...128 is a typed error.
    func testALowZeroPointResolvesAMostlyPositiveInputBetter() throws {
        try Precision.int8.requireSupport()
        let (rows, inputs, outputs) = (16, 256, 32)
        var random = SeededRandom(seed: 41)
        let x = random.floats(rows * inputs, -0.17, 4), w = random.floats(outputs * inputs, -0.3, 0.3)
        // Against the quantized weights: what the input's codes add to the error.
        let levels = ConvInt8Parameters.weightLevels(unsignedInput: true)
        let scales = ConvInt8Parameters.perChannelScales(of: w, outChannels: outputs, count: w.count)
        let qw = w.indices.map { i in min(max((w[i] / scales[i / inputs]).rounded(.toNearestOrEven), -levels), levels) * scales[i / inputs] }
        let exact = Self.linear(x, qw, nil, rows: rows, inputs: inputs, outputs: outputs, gelu: false, residual: nil)
        func error(zeroPoint: Int) throws -> Float {
            var y = output(rows * outputs)
            try y.withUnsafeMutableBufferPointer { out in
                try Kernels.linearInt8(a: x, rows: rows, inputs: inputs, weight: w, outputs: outputs, weightKey: WeightKey(id: -19_200, version: 0),
                                       bias: nil, c: out.baseAddress!, inputZeroPoint: zeroPoint)
            }
            return zip(y, exact).map { ($0 - $1) * ($0 - $1) }.reduce(0, +)
        }
        let (symmetric, low) = (try error(zeroPoint: 128), try error(zeroPoint: 16))
        print("int8 linear, input in [-0.17, 4]: squared error \(low) with zero point 16, \(symmetric) with 128 (\(Runtime.isa))")
        XCTAssertLessThan(low, 0.5 * symmetric)
        for zeroPoint in [0, 129] {
            var y = output(rows * outputs)
            XCTAssertThrowsError(try y.withUnsafeMutableBufferPointer { out in
                try Kernels.linearInt8(a: x, rows: rows, inputs: inputs, weight: w, outputs: outputs, weightKey: WeightKey(id: -19_200, version: 0),
                                       bias: nil, c: out.baseAddress!, inputZeroPoint: zeroPoint)
            }) { error in
                guard case .invalidArguments(_, let reason)? = error as? KernelError else { return XCTFail("\(error)") }
                XCTAssertTrue(reason.contains("zero point \(zeroPoint)"), reason)
            }
        }
    }

    /// A zero input row gives exactly act(bias): zero is code 128, exact at any scale.
    func testZerosAreExact() throws {
        try Precision.int8.requireSupport()
        let (rows, inputs, outputs) = (3, 16, 8)
        var random = SeededRandom(seed: 7)
        var x = random.floats(rows * inputs, -1, 4)
        for k in 0..<inputs { x[k] = 0 }
        let w = random.floats(outputs * inputs), b = random.floats(outputs)
        var y = output(rows * outputs)
        try y.withUnsafeMutableBufferPointer { out in
            try Kernels.linearInt8(a: x, rows: rows, inputs: inputs, weight: w, outputs: outputs, weightKey: WeightKey(id: -19_100, version: 0),
                                   bias: b, c: out.baseAddress!)
        }
        for o in 0..<outputs { XCTAssertEqual(y[o], b[o], accuracy: 1e-4 * max(1, abs(b[o]))) }
    }
}
