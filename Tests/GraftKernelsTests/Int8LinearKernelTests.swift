import XCTest
@testable import GraftKernels

/// int8 linears with dynamic quantization (docs/PRECISION.md, "int8 linears"). A call quantizes its fp32 input to u8,
/// each row over its own range with its own scale and zero point (round half up), its weight per output channel to s8 (round to
/// nearest even), multiplies the integers exactly (s32) and rescales; so it must equal the fp32 linear of the dequantized operands up to summation order,
/// and differ from fp32 on the original ones by about a quantization step.
final class Int8LinearKernelTests: XCTestCase {
    /// What the kernel multiplies for an input row: lo = min(x, 0), hi = max(x, 0), z = round(-lo / ((hi - lo) / 255))
    /// in 1...254 (halves to even), s = max(hi / (255 - z), -lo / z), (clamp(floor(x / s + z + 0.5), 0, 255) - z) * s.
    static func dequantizedRows(_ x: [Float], rows: Int, inputs: Int) -> (values: [Float], largestScale: Float) {
        var out = x, largest: Float = 0
        for r in 0..<rows {
            let row = x[(r * inputs)..<((r + 1) * inputs)]
            let (lo, hi) = (min(0, row.min()!), max(0, row.max()!))
            var (s, z): (Float, Float) = (1, 128)
            if hi > lo {
                z = min(max((-lo / ((hi - lo) / 255)).rounded(.toNearestOrEven), 1), 254)
                s = max(hi / (255 - z), -lo / z)
            }
            largest = max(largest, s)
            for k in row.indices { out[k] = (min(max((x[k] * (1 / s) + z + 0.5).rounded(.down), 0), 255) - z) * s }
        }
        return (out, largest)
    }

    /// Session 13-18's codes, for comparison: one zero point z per call, s = max(hi / (255 - z), -lo / min(z, 127)).
    static func dequantizedRows(_ x: [Float], rows: Int, inputs: Int, fixedZeroPoint z: Float) -> [Float] {
        var out = x
        for r in 0..<rows {
            let row = x[(r * inputs)..<((r + 1) * inputs)]
            let (lo, hi) = (min(0, row.min()!), max(0, row.max()!))
            let scale = max(hi / (255 - z), -lo / min(z, 127)), s = scale > 0 ? scale : 1
            for k in row.indices { out[k] = (min(max((x[k] * (1 / s) + z + 0.5).rounded(.down), 0), 255) - z) * s }
        }
        return out
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
        let cases: [(rows: Int, inputs: Int, outputs: Int, bias: Bool, gelu: Bool, residual: Bool)] = [
            (37, 64, 48, true, true, false), (64, 96, 40, true, false, true), (5, 33, 17, false, false, false),
            (517, 384, 200, true, true, false), (37, 64, 48, true, false, true), (21, 40, 24, true, false, false),
        ]
        for (n, c) in cases.enumerated() {
            var random = SeededRandom(seed: 19 + UInt64(n))
            // Inputs like a GELU output (mostly positive, a small negative tail), centred, and all of one sign
            // (the zero point at its ends: 1 or 254).
            let (lo, hi): (Float, Float) = [(-0.17, 3), (-2, 3), (-2, 3), (-2, 3), (0, 3), (-3, 0)][n]
            let x = random.floats(c.rows * c.inputs, lo, hi)
            let w = random.floats(c.outputs * c.inputs, -0.3, 0.3)
            let b = c.bias ? random.floats(c.outputs) : nil
            let residual = c.residual ? random.floats(c.rows * c.outputs) : nil
            let key = WeightKey(id: -(19_000 + n), version: 0)
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
            let (qx, sx) = Self.dequantizedRows(x, rows: c.rows, inputs: c.inputs)
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

    /// Every activation the int8 linear can end in, with a bias and a residual sum, both ways of applying the
    /// scales, against the double-precision activation of fp32 on the dequantized operands (Graft's epilogue
    /// computes exp and erf as polynomials: |error| <= 1.5e-7 for erf).
    func testEveryActivationMatchesFP32OnDequantizedOperands() throws {
        try Precision.int8.requireSupport()
        let (rows, inputs, outputs) = (19, 48, 40)
        var random = SeededRandom(seed: 61)
        let x = random.floats(rows * inputs, -2, 3), w = random.floats(outputs * inputs, -0.4, 0.4)
        let b = random.floats(outputs), residual = random.floats(rows * outputs)
        let levels = ConvInt8Parameters.weightLevels(unsignedInput: true)
        let scales = ConvInt8Parameters.perChannelScales(of: w, outChannels: outputs, count: w.count)
        let qw = w.indices.map { i in min(max((w[i] / scales[i / inputs]).rounded(.toNearestOrEven), -levels), levels) * scales[i / inputs] }
        let linear = Self.linear(Self.dequantizedRows(x, rows: rows, inputs: inputs).values, qw, b, rows: rows, inputs: inputs,
                                 outputs: outputs, gelu: false, residual: nil)
        func activate(_ v: Double, _ activation: Activation) -> Double {
            switch activation {
            case .relu: max(v, 0)
            case .relu6: min(max(v, 0), 6)
            case .silu: v / (1 + exp(-v))
            case .gelu: 0.5 * v * (1 + erf(v / 2.0.squareRoot()))
            case .sigmoid: 1 / (1 + exp(-v))
            case .tanh: tanh(v)
            case .hardswish: v * min(max(v + 3, 0), 6) / 6
            case .leakyRelu: v > 0 ? v : 0.1 * v
            }
        }
        for scaling in [Int8LinearScaling.multiplyPostOp, .runtimeOutputScales] {
            for (n, activation) in Activation.allCases.enumerated() {
                var y = residual
                try y.withUnsafeMutableBufferPointer { out in
                    try Kernels.linearInt8(a: x, rows: rows, inputs: inputs, weight: w, outputs: outputs, weightKey: WeightKey(id: -19_300 - n, version: 0),
                                           bias: b, c: out.baseAddress!, activation: activation, accumulate: true, scaling: scaling)
                }
                // oneDNN applies the activation after the residual sum, as Graft's epilogue does.
                let expected = linear.indices.map { Float(activate(Double(linear[$0]) + Double(residual[$0]), activation)) }
                assertClose(y, expected, tolerance: 2e-5, "int8 linear + bias + residual, \(activation), \(scaling) on \(Runtime.isa)")
            }
        }
    }

    /// Which oneDNN kernel the int8 linears of MiniLM's shapes run (the reason for `Int8LinearScaling`): on AMX the
    /// preferred path must get oneDNN's brgemm int8 matmul on AMX tiles; on AVX2 it is run-time output scales on
    /// `gemm:jit`, then the row factors, zero points' term, bias, residual sum and activation in Graft's epilogue:
    /// never oneDNN's reference kernel. AVX-512 VNNI without AMX takes whichever its oneDNN gives the one-primitive
    /// chain: brgemm if it can (`brg:avx512_core_vnni`), else run-time scales (AMD Zen 4, session 24: oneDNN 2.6 gives
    /// that chain `ref_int8`). Run-time output scales get that pair on every CPU (oneDNN 2.6).
    func testPreferredScalingRunsBrgemmWhereTheCPUHasIt() throws {
        try Precision.int8.requireSupport()
        let chain = try Kernels.linearInt8Implementation(rows: 64, inputs: 384, outputs: 384, activation: .gelu, accumulate: true,
                                                         scaling: .multiplyPostOp)
        switch Runtime.isa {
        case "avx512_core_amx":
            XCTAssertEqual(Int8LinearScaling.preferred, .multiplyPostOp)
            XCTAssertEqual(chain, "brg:avx512_core_amx_int8")
        case "avx512_core_vnni", "avx512_core_bf16":
            // The choice follows from what the one-primitive chain gets.
            XCTAssertEqual(Int8LinearScaling.preferred, chain.hasPrefix("brg") ? .multiplyPostOp : .runtimeOutputScales, chain)
        default: XCTAssertEqual(Int8LinearScaling.preferred, .runtimeOutputScales, Runtime.isa)
        }
        let brgemm = Int8LinearScaling.preferred == .multiplyPostOp ? chain : nil
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
            else { XCTAssertEqual(preferred, "gemm:jit + graft epilogue", "\(s) on \(Runtime.isa)") }
            let runtimeScales = try Kernels.linearInt8Implementation(rows: s.rows, inputs: s.inputs, outputs: s.outputs,
                                                                     activation: s.activation, accumulate: s.accumulate,
                                                                     scaling: .runtimeOutputScales)
            XCTAssertEqual(runtimeScales, "gemm:jit + graft epilogue", "\(s) with run-time output scales on \(Runtime.isa)")
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

    /// Codes over each row's own range: a mostly positive input (GELU's output, at least -0.17) gets almost every
    /// code on its positive side, so its rounding error is about a quarter in square of symmetric codes around 128
    /// (and below that of session 15's fixed zero point 16 for such inputs); a centred input loses nothing.
    func testRowCodesResolveALopsidedInputBetter() throws {
        try Precision.int8.requireSupport()
        let (rows, inputs, outputs) = (16, 256, 32)
        var random = SeededRandom(seed: 41)
        let w = random.floats(outputs * inputs, -0.3, 0.3)
        // Against the quantized weights: what the input's codes add to the error.
        let levels = ConvInt8Parameters.weightLevels(unsignedInput: true)
        let scales = ConvInt8Parameters.perChannelScales(of: w, outChannels: outputs, count: w.count)
        let qw = w.indices.map { i in min(max((w[i] / scales[i / inputs]).rounded(.toNearestOrEven), -levels), levels) * scales[i / inputs] }
        func squaredError(_ y: [Float], _ exact: [Float]) -> Float { zip(y, exact).map { ($0 - $1) * ($0 - $1) }.reduce(0, +) }
        for (lo, hi) in [(Float(-0.17), Float(4)), (-3, 3)] {
            let x = random.floats(rows * inputs, lo, hi)
            let exact = Self.linear(x, qw, nil, rows: rows, inputs: inputs, outputs: outputs, gelu: false, residual: nil)
            var y = output(rows * outputs)
            try y.withUnsafeMutableBufferPointer { out in
                try Kernels.linearInt8(a: x, rows: rows, inputs: inputs, weight: w, outputs: outputs, weightKey: WeightKey(id: -19_200, version: 0),
                                       bias: nil, c: out.baseAddress!)
            }
            func fixed(_ z: Float) -> Float {
                squaredError(Self.linear(Self.dequantizedRows(x, rows: rows, inputs: inputs, fixedZeroPoint: z), qw, nil, rows: rows,
                                         inputs: inputs, outputs: outputs, gelu: false, residual: nil), exact)
            }
            let (rowCodes, symmetric, sixteen) = (squaredError(y, exact), fixed(128), fixed(16))
            print("int8 linear, input in [\(lo), \(hi)]: squared error \(rowCodes) with row codes, \(symmetric) symmetric, \(sixteen) at zero point 16 (\(Runtime.isa))")
            if lo > -1 {
                XCTAssertLessThan(rowCodes, 0.4 * symmetric)
                XCTAssertLessThan(rowCodes, 1.1 * sixteen)
            } else {
                XCTAssertLessThan(rowCodes, 1.1 * symmetric)
            }
        }
    }

    /// A zero input row gives exactly act(bias): zero is always a code (z[r]), exact at any scale.
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
