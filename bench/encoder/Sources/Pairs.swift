import Foundation
import GraftKernels
import GraftTensor

/// `graft-bench-encoder WORK --pairs`: in-process A/Bs of two session-19 changes (bench/RESULTS.md "Session 19"),
/// each side alternated call by call, 15 rounds, medians in ms:
/// - the int8 feed-forward pair (`Kernels.feedForwardInt8`, codes between the linears) against two `linearInt8`
///   calls (the fp32 hidden tensor written and read back), MiniLM's shapes with bias, GELU and residual;
/// - `Tensor.packedSelfAttention` without a mask against a mask of zeros (what BERT passed before for unpadded batches).
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
    for l in [128, 32] {
        let qkv = Tensor.randn([32, l, 3 * inputs], generator: &g), zeros = Tensor.zeros([32, 1, 1, l])
        let (none, zero) = try withNoGrad {
            try median({ _ = try Tensor.packedSelfAttention(qkv, heads: 12, mask: nil) },
                       { _ = try Tensor.packedSelfAttention(qkv, heads: 12, mask: zeros) })
        }
        print(String(format: "pairs\tattention batch 32 x %d\tno mask %.2f ms\tmask of zeros %.2f ms\t%.3fx the time", l, none, zero, none / zero))
    }
}
