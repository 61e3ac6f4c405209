import XCTest
import GraftKernels
import GraftTensor
@testable import GraftModels

/// The fused no-grad path of BertLayer (packed QKV, strided attention with fused scale and mask, GELU and
/// residuals as matmul post-ops) must equal the composite path that training differentiates.
final class BertFusedInferenceTests: XCTestCase {
    func testFusedLayerEqualsCompositeWithPaddingMask() throws {
        let config = BERT.Config(vocabSize: 50, hiddenSize: 48, numHiddenLayers: 2, numAttentionHeads: 4, intermediateSize: 96)
        let model = try BERT(config, seed: 7)
        var g = SeededGenerator(seed: 3)
        let (b, l) = (3, 9)
        let ids = try IndexTensor(shape: [b, l], values: (0..<(b * l)).map { _ in Int32.random(in: 0..<50, using: &g) })
        // Second and third sequences padded: 6 and 1 real tokens.
        let lengths = [9, 6, 1]
        let mask = try IndexTensor(shape: [b, l], values: (0..<b).flatMap { r in (0..<l).map { Int32($0 < lengths[r] ? 1 : 0) } })
        // Composite path: parameters require grad and grad mode is on, so the layers take the taped ops.
        XCTAssertTrue(model.namedParameters().allSatisfy { $0.1.requiresGrad })
        let composite = try model.hiddenStates(ids: ids, mask: mask, training: false)
        // Graft's attention kernel with the padding packed away (the real tokens only; padding rows come back as
        // zeros), and oneDNN's products on the padded batch with the additive mask.
        for kernel in [true, false] {
            let fused = try Kernels.$fusesAttention.withValue(kernel) { try withNoGrad { try model.hiddenStates(ids: ids, mask: mask, training: false) } }
            XCTAssertEqual(composite.count, fused.count)
            for (layer, (c, f)) in zip(composite, fused).enumerated() {
                XCTAssertEqual(c.shape, f.shape)
                var worst: Float = 0, padding: Float = 0
                for i in 0..<c.count {
                    let (row, position) = (i / (l * 48), i / 48 % l)
                    if position < lengths[row] || !kernel || layer == 0 { worst = max(worst, abs(c.pointer[i] - f.pointer[i])) }
                    else { padding = max(padding, abs(f.pointer[i])) }
                }
                XCTAssertLessThan(worst, 2e-5, "fused vs composite hidden states, layer \(layer), kernel \(kernel)")
                XCTAssertEqual(padding, 0, "packed padding rows, layer \(layer)")
            }
        }
    }

    /// The packed forward (padding at the ends of rows) against the attention kernel on the padded batch with the
    /// additive mask, and a mask with a hole (not packable) on the kernel against oneDNN: the same real-token states.
    func testPackedTokensEqualThePaddedBatch() throws {
        let config = BERT.Config(vocabSize: 60, hiddenSize: 64, numHiddenLayers: 2, numAttentionHeads: 2, intermediateSize: 128)
        let model = try BERT(config, seed: 11)
        var g = SeededGenerator(seed: 5)
        let (b, l) = (4, 70)
        let ids = try IndexTensor(shape: [b, l], values: (0..<(b * l)).map { _ in Int32.random(in: 0..<60, using: &g) })
        let lengths = [70, 3, 51, 49]
        let flags = (0..<b).flatMap { r in (0..<l).map { Int32($0 < lengths[r] ? 1 : 0) } }
        XCTAssertEqual(BERT.realTokenCounts(flags, batch: b, length: l), lengths)
        var holed = flags
        holed[l + 1] = 0   // row 1: real, padding, real
        XCTAssertNil(BERT.realTokenCounts(holed, batch: b, length: l))
        XCTAssertNil(BERT.realTokenCounts([Int32](repeating: 0, count: l), batch: 1, length: l), "a row of padding only")
        try withNoGrad {
            for values in [flags, holed] {
                let mask = try IndexTensor(shape: [b, l], values: values)
                let kernel = try Kernels.$fusesAttention.withValue(true) { try model.forward(ids: ids, mask: mask) }
                let onednn = try Kernels.$fusesAttention.withValue(false) { try model.forward(ids: ids, mask: mask) }
                var worst: Float = 0
                for i in 0..<kernel.count where values[i / 64] != 0 { worst = max(worst, abs(kernel.pointer[i] - onednn.pointer[i])) }
                XCTAssertLessThan(worst, 2e-5, values == flags ? "packed" : "mask with a hole")
                // The last state alone (what `forward` and the embedder ask for) is the last of every layer's.
                let every = try Kernels.$fusesAttention.withValue(true) { try model.hiddenStates(ids: ids, mask: mask, upToLayer: 1) }
                let one = try Kernels.$fusesAttention.withValue(true) { try model.lastHiddenState(ids: ids, mask: mask, upToLayer: 1) }
                XCTAssertEqual(every.count, 2)
                XCTAssertEqual(one.values, every[1].values)
                XCTAssertEqual(try model.lastHiddenState(ids: ids, mask: mask, upToLayer: 0).values, every[0].values)
            }
        }
    }

    /// The attention ops refuse sequences outside their rows, key counts that do not fit, and shapes that are not
    /// Q|K|V rows, with errors naming the op; they never read past the tensor.
    func testAttentionRefusesSequencesAndKeyCountsThatDoNotFit() throws {
        var g = SeededGenerator(seed: 9)
        let packed = Tensor.randn([10, 3 * 8], generator: &g), padded = Tensor.randn([2, 5, 3 * 8], generator: &g)
        try withNoGrad {
            for bad in [AttentionSequence(offset: 6, queries: 5, keys: 5), AttentionSequence(offset: 0, queries: 3, keys: 4),
                        AttentionSequence(offset: -1, queries: 2, keys: 2)] {
                XCTAssertThrowsError(try Tensor.packedSelfAttention(packed, heads: 2, sequences: [bad])) { error in
                    XCTAssertTrue("\(error)".contains("packedSelfAttention"), "\(error)")
                }
            }
            XCTAssertThrowsError(try Tensor.packedSelfAttention(Tensor.randn([10, 20], generator: &g), heads: 2, sequences: []))
            for counts in [[5], [0, 5], [5, 6]] {
                XCTAssertThrowsError(try Tensor.packedSelfAttention(padded, heads: 2, mask: nil, keyCounts: counts)) { error in
                    XCTAssertTrue("\(error)".contains("key counts"), "\(error)")
                }
            }
            // Rows no sequence covers come back as zeros.
            let out = try Tensor.packedSelfAttention(packed, heads: 2, sequences: [AttentionSequence(offset: 2, queries: 3, keys: 3)])
            XCTAssertEqual(out.shape, [10, 8])
            XCTAssertEqual(Array(out.values[0..<16]) + Array(out.values[40..<80]), [Float](repeating: 0, count: 56))
            XCTAssertTrue(out.values[16..<40].contains { $0 != 0 })
        }
    }

    /// Q, K and V from three tensors (int8's smoothed linears) give the attention of the same values packed side by
    /// side, on the kernel and on oneDNN's products, padded and packed; mismatched shapes are refused.
    func testSeparateProjectionsEqualPackedOnes() throws {
        var g = SeededGenerator(seed: 10)
        let (b, l, hidden) = (3, 7, 16)
        let q = Tensor.randn([b, l, hidden], generator: &g), k = Tensor.randn([b, l, hidden], generator: &g)
        let v = Tensor.randn([b, l, hidden], generator: &g)
        let qkv = try Tensor.concat([q, k, v], axis: 2)
        let counts = [7, 4, 1]
        let mask = try Tensor(shape: [b, 1, 1, l], values: counts.flatMap { n in (0..<l).map { $0 < n ? Float(0) : -1e9 } })
        try withNoGrad {
            for kernel in [true, false] {
                try Kernels.$fusesAttention.withValue(kernel) {
                    let packed = try Tensor.packedSelfAttention(.packed(qkv), heads: 4, mask: mask, keyCounts: counts)
                    let separate = try Tensor.packedSelfAttention(.separate(query: q, key: k, value: v), heads: 4, mask: mask, keyCounts: counts)
                    for (x, y) in zip(packed.values, separate.values) { XCTAssertEqual(x, y, accuracy: 1e-6, "kernel \(kernel)") }
                }
            }
            let rows = [AttentionSequence(offset: 0, queries: 7, keys: 7), AttentionSequence(offset: 7, queries: 4, keys: 4)]
            let flat = { (t: Tensor) in try t.reshaped([b * l, t.shape[2]]) }
            let packed = try Tensor.packedSelfAttention(.packed(flat(qkv)), heads: 4, sequences: rows)
            let separate = try Tensor.packedSelfAttention(.separate(query: flat(q), key: flat(k), value: flat(v)), heads: 4, sequences: rows)
            XCTAssertEqual(packed.values, separate.values)
            XCTAssertThrowsError(try Tensor.packedSelfAttention(.separate(query: q, key: k, value: Tensor.randn([b, l, 8], generator: &g)),
                                                                heads: 4, mask: nil)) { error in
                XCTAssertTrue("\(error)".contains("packedSelfAttention (key, value)"), "\(error)")
            }
        }
    }

    func testFusedOpsRefuseInputsThatNeedGradients() throws {
        var g = SeededGenerator(seed: 1)
        let x = Tensor.randn([2, 3, 4], generator: &g)
        let w = Tensor.randn([5, 4], generator: &g)
        w.requiresGrad = true
        XCTAssertThrowsError(try x.fusedLinear(weight: w, bias: nil))
        XCTAssertNoThrow(try withNoGrad { try x.fusedLinear(weight: w, bias: nil) })
    }

    func testFusedLinearMatchesComposite() throws {
        var g = SeededGenerator(seed: 2)
        let x = Tensor.randn([2, 5, 8], generator: &g), w = Tensor.randn([6, 8], generator: &g)
        let bias = Tensor.randn([6], generator: &g), residual = Tensor.randn([2, 5, 6], generator: &g)
        let fused = try x.fusedLinear(weight: w, bias: bias, activation: .gelu, adding: nil)
        let composite = try x.linear(weight: w, bias: bias).gelu()
        let fusedResidual = try x.fusedLinear(weight: w, bias: bias, adding: residual)
        let compositeResidual = try x.linear(weight: w, bias: bias) + residual
        for i in 0..<fused.count {
            XCTAssertEqual(fused.pointer[i], composite.pointer[i], accuracy: 1e-5)
            XCTAssertEqual(fusedResidual.pointer[i], compositeResidual.pointer[i], accuracy: 1e-5)
        }
    }

    /// The feed-forward pair equals its two fused linears in fp32 and, under int8 (where its hidden activations pass
    /// as u8 codes), exactly the two int8 linears; shapes that do not chain are typed errors naming the op.
    func testFusedFeedForwardEqualsTwoFusedLinears() throws {
        var g = SeededGenerator(seed: 4)
        let x = Tensor.randn([2, 5, 8], generator: &g), w1 = Tensor.randn([12, 8], generator: &g), w2 = Tensor.randn([8, 12], generator: &g)
        let b1 = Tensor.randn([12], generator: &g), b2 = Tensor.randn([8], generator: &g), residual = Tensor.randn([2, 5, 8], generator: &g)
        var precisions: [Precision] = [.fp32]
        if (try? Precision.int8.requireSupport()) != nil { precisions.append(.int8) }
        for precision in precisions {
            try withPrecision(precision) {
                let pair = try x.fusedFeedForward(weight1: w1, bias1: b1, activation: .gelu, weight2: w2, bias2: b2, adding: residual)
                let separate = try x.fusedLinear(weight: w1, bias: b1, activation: .gelu).fusedLinear(weight: w2, bias: b2, adding: residual)
                XCTAssertEqual(pair.shape, [2, 5, 8])
                XCTAssertEqual(pair.values, separate.values, "\(precision)")
                XCTAssertThrowsError(try x.fusedFeedForward(weight1: w1, bias1: b1, activation: .gelu, weight2: w1, bias2: b2)) { error in
                    XCTAssertTrue("\(error)".contains("fusedFeedForward"), "\(error)")
                }
                XCTAssertThrowsError(try x.fusedFeedForward(weight1: w1, bias1: b1, activation: .gelu, weight2: w2, bias2: b2,
                                                            adding: Tensor.zeros([2, 5, 12]))) { error in
                    XCTAssertTrue("\(error)".contains("fusedFeedForward (residual)"), "\(error)")
                }
            }
        }
    }

    /// `inputScales` (the int8 smoothing's x / s): under int8 multiplied in the pass that quantizes x, in fp32 a
    /// product first; either way bit for bit the linear and the feed-forward pair of x times the scales (40 features:
    /// the quantizing loops' 16-lane body and their tail). Scales of the wrong width are a typed error naming the op.
    func testInputScalesEqualTheProductFirst() throws {
        var g = SeededGenerator(seed: 21)
        let x = Tensor.randn([3, 5, 40], generator: &g), scales = Tensor.uniform([40], low: 0.25, high: 4, generator: &g)
        let w1 = Tensor.randn([24, 40], generator: &g), w2 = Tensor.randn([40, 24], generator: &g)
        let b1 = Tensor.randn([24], generator: &g), b2 = Tensor.randn([40], generator: &g), residual = Tensor.randn([3, 5, 40], generator: &g)
        var precisions: [Precision] = [.fp32]
        if (try? Precision.int8.requireSupport()) != nil { precisions.append(.int8) }
        for precision in precisions {
            try withPrecision(precision) {
                let scaled = try x * scales
                XCTAssertEqual(try x.fusedLinear(weight: w1, bias: b1, activation: .gelu, inputScales: scales).values,
                               try scaled.fusedLinear(weight: w1, bias: b1, activation: .gelu).values, "\(precision)")
                XCTAssertEqual(try x.fusedFeedForward(weight1: w1, bias1: b1, activation: .gelu, weight2: w2, bias2: b2, adding: residual,
                                                      inputScales: scales).values,
                               try scaled.fusedFeedForward(weight1: w1, bias1: b1, activation: .gelu, weight2: w2, bias2: b2,
                                                           adding: residual).values, "\(precision)")
                XCTAssertThrowsError(try x.fusedLinear(weight: w1, bias: b1, inputScales: Tensor.ones([24]))) { error in
                    XCTAssertTrue("\(error)".contains("fusedLinear (input scales)"), "\(error)")
                }
                XCTAssertThrowsError(try x.fusedFeedForward(weight1: w1, bias1: b1, activation: .gelu, weight2: w2, bias2: b2,
                                                            inputScales: Tensor.ones([40, 1]))) { error in
                    XCTAssertTrue("\(error)".contains("fusedFeedForward (input scales)"), "\(error)")
                }
            }
        }
    }

    /// A batch without padding runs attention without the additive mask: the same hidden states, bit for bit, as
    /// with a mask of zeros, on the fused and the composite paths.
    func testNoMaskEqualsAZeroMask() throws {
        let config = BERT.Config(vocabSize: 50, hiddenSize: 48, numHiddenLayers: 1, numAttentionHeads: 4, intermediateSize: 96)
        let model = try BERT(config, seed: 9)
        var g = SeededGenerator(seed: 5)
        let x = Tensor.randn([2, 7, 48], generator: &g), zeros = Tensor.zeros([2, 1, 1, 7])
        let layer = model.layers.items[0]
        let fused = try withNoGrad { (try layer.forward(x, mask: nil, training: false), try layer.forward(x, mask: zeros, training: false)) }
        XCTAssertEqual(fused.0.values, fused.1.values, "fused path")
        let composite = (try layer.forward(x, mask: nil, training: false), try layer.forward(x, mask: zeros, training: false))
        XCTAssertEqual(composite.0.values, composite.1.values, "composite path")
    }
}
