import Foundation
import GraftKernels
import GraftTensor

/// `graft-bench-encoder WORK --pairs`: in-process A/Bs of two session-19 changes (bench/RESULTS.md "Session 19"),
/// each side alternated call by call, 15 rounds, medians in ms:
/// - the int8 feed-forward pair (`Kernels.feedForwardInt8`, codes between the linears) against two `linearInt8`
///   calls (the fp32 hidden tensor written and read back), MiniLM's shapes with bias, GELU and residual;
/// - `Tensor.packedSelfAttention` without a mask against a mask of zeros (what BERT passed before for unpadded batches),
///   on oneDNN's matmul + softmax + matmul;
/// and of session 20's: attention on Graft's kernel (`Kernels.fusesAttention`) against oneDNN's products, on equal
/// lengths (8 x 512, 32 x 128, 32 x 32) and on a ragged batch (lengths 8-64 padded to 64, the kernel told each row's key count);
/// and session 21's: the int8 smoothing's x / s in the quantizing pass (`fusedLinear(inputScales:)`) against a
/// product tensor first (what BERT did in session 20), MiniLM's query and intermediate shapes at 1,024 rows.
func abPairs() throws {
    func median(_ body: () throws -> Void, _ other: () throws -> Void) rethrows -> (Double, Double) {
        try body(); try other()
        var a: [Double] = [], b: [Double] = []
        for _ in 0..<15 {
            var t = DispatchTime.now().uptimeNanoseconds
            try body(); a.append(Double(DispatchTime.now().uptimeNanoseconds - t) / 1e6)
            t = DispatchTime.now().uptimeNanoseconds
            try other(); b.append(Double(DispatchTime.now().uptimeNanoseconds - t) / 1e6)
        }
        return (a.sorted()[7], b.sorted()[7])
    }
    var g = SeededGenerator(seed: 5)
    let (inputs, hidden) = (384, 1536)
    let w1 = Tensor.randn([hidden, inputs], std: 0.05, generator: &g), w2 = Tensor.randn([inputs, hidden], std: 0.05, generator: &g)
    let b1 = Tensor.randn([hidden], generator: &g), b2 = Tensor.randn([inputs], generator: &g)
    let (k1, k2) = (WeightKey(id: w1.storage.id, version: 0), WeightKey(id: w2.storage.id, version: 0))
    for rows in [4096, 1024] {
        let x = Tensor.randn([rows, inputs], generator: &g)
        let inner = try Tensor(uninitializedShape: [rows, hidden]), out = try Tensor(uninitializedShape: [rows, inputs])
        let (pair, separate) = try median({
            try Kernels.feedForwardInt8(a: x.pointer, rows: rows, inputs: inputs, hidden: hidden, outputs: inputs, weight1: w1.pointer,
                                        weightKey1: k1, bias1: b1.pointer, activation: .gelu, weight2: w2.pointer, weightKey2: k2,
                                        bias2: b2.pointer, c: out.pointer, accumulate: true)
        }, {
            try Kernels.linearInt8(a: x.pointer, rows: rows, inputs: inputs, weight: w1.pointer, outputs: hidden, weightKey: k1,
                                   bias: b1.pointer, c: inner.pointer, activation: .gelu)
            try Kernels.linearInt8(a: inner.pointer, rows: rows, inputs: hidden, weight: w2.pointer, outputs: inputs, weightKey: k2,
                                   bias: b2.pointer, c: out.pointer, accumulate: true)
        })
        print(String(format: "pairs\tint8 feed-forward %d rows\tpair %.2f ms\ttwo linears %.2f ms\t%.3fx the time", rows, pair, separate, pair / separate))
    }
    let columnScales = Tensor.uniform([inputs], low: 0.5, high: 2, generator: &g)
    for (label, weight) in [("384 -> 384", Tensor.randn([inputs, inputs], std: 0.05, generator: &g)), ("384 -> 1536", w1)] {
        let x = Tensor.randn([1024, inputs], generator: &g)
        let (folded, product) = try withNoGrad {
            try withPrecision(.int8) {
                try median({ _ = try x.fusedLinear(weight: weight, bias: nil, inputScales: columnScales) },
                           { _ = try (x * columnScales).fusedLinear(weight: weight, bias: nil) })
            }
        }
        print(String(format: "pairs\tint8 smoothed linear %@, 1,024 rows\tscales in the quantizing pass %.2f ms\tproduct first %.2f ms\t%.3fx the time", label, folded, product, folded / product))
    }
    for l in [128, 32] {
        let qkv = Tensor.randn([32, l, 3 * inputs], generator: &g), zeros = Tensor.zeros([32, 1, 1, l])
        let (none, zero) = try withNoGrad {
            try Kernels.$fusesAttention.withValue(false) {
                try median({ _ = try Tensor.packedSelfAttention(qkv, heads: 12, mask: nil) },
                           { _ = try Tensor.packedSelfAttention(qkv, heads: 12, mask: zeros) })
            }
        }
        print(String(format: "pairs\tattention batch 32 x %d\tno mask %.2f ms\tmask of zeros %.2f ms\t%.3fx the time", l, none, zero, none / zero))
    }
    func fusedAgainstOneDNN(_ label: String, _ qkv: Tensor, mask: Tensor?, keyCounts: [Int]?) throws {
        let (fused, onednn) = try withNoGrad {
            try median({ _ = try Kernels.$fusesAttention.withValue(true) { try Tensor.packedSelfAttention(qkv, heads: 12, mask: mask, keyCounts: keyCounts) } },
                       { _ = try Kernels.$fusesAttention.withValue(false) { try Tensor.packedSelfAttention(qkv, heads: 12, mask: mask) } })
        }
        print(String(format: "pairs\tattention %@\tGraft kernel (%@) %.2f ms\toneDNN %.2f ms\t%.3fx the time", label, Kernels.attentionISA, fused, onednn, fused / onednn))
    }
    try fusedAgainstOneDNN("batch 8 x 512", Tensor.randn([8, 512, 3 * inputs], generator: &g), mask: nil, keyCounts: nil)
    for l in [128, 32] {
        try fusedAgainstOneDNN("batch 32 x \(l)", Tensor.randn([32, l, 3 * inputs], generator: &g), mask: nil, keyCounts: nil)
    }
    // Packed batches have a new row count almost every batch, and each new count builds new oneDNN primitives:
    // what that costs, fp32 and int8 linears of the feed-forward's shape with a row count never seen before against
    // one already cached.
    var fresh = 20_000
    for precision in [Precision.fp32, .int8] {
        let x = Tensor.randn([1100, inputs], generator: &g)
        let (new, cached) = try withNoGrad {
            try withPrecision(precision) {
                try median({ fresh += 1; _ = try x.slice(axis: 0, 0..<(fresh % 200 + 900)).fusedLinear(weight: w1, bias: b1, activation: .gelu) },
                           { _ = try x.slice(axis: 0, 0..<900).fusedLinear(weight: w1, bias: b1, activation: .gelu) })
            }
        }
        print(String(format: "pairs\t%@ linear 384 -> 1536 + GELU, ~1,000 rows\tnew row count %.2f ms\tcached %.2f ms\t%.3fx the time", precision.rawValue, new, cached, new / cached))
    }
    let lengths = (0..<32).map { 8 + $0 * 56 / 31 }
    let mask = try Tensor(shape: [32, 1, 1, 64], values: lengths.flatMap { n in (0..<64).map { $0 < n ? Float(0) : -1e9 } })
    try fusedAgainstOneDNN("ragged batch 32 x 8-64", Tensor.randn([32, 64, 3 * inputs], generator: &g), mask: mask, keyCounts: lengths)
}
