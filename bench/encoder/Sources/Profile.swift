import GraftModels
import Foundation
import GraftTensor
import GraftTransfer

/// `graft-bench-encoder --profile`: wall time of each op of one MiniLM encoder layer as the composite
/// (training) path runs it: BertLayer.forward's sequence of public Tensor ops, random weights of the real shapes) at batch 32 and lengths 32 / 128,
/// plus tokenization, embeddings and pooling measured through SentenceEmbedder, to show where embed's time goes.
func profileOps() throws {
    let hidden = 384, heads = 12, d = 32, inner = 1536, b = 32
    var g = SeededGenerator(seed: 0)
    func weight(_ o: Int, _ i: Int) -> Tensor { Tensor.randn([o, i], std: 0.05, generator: &g) }
    let (wq, wk, wv, wo) = (weight(hidden, hidden), weight(hidden, hidden), weight(hidden, hidden), weight(hidden, hidden))
    let (wi, wout) = (weight(inner, hidden), weight(hidden, inner))
    let bias384 = Tensor.randn([hidden], std: 0.05, generator: &g), bias1536 = Tensor.randn([inner], std: 0.05, generator: &g)
    let gamma = Tensor(repeating: 1, shape: [hidden]), beta = Tensor.zeros([hidden])
    let repeats = Int(ProcessInfo.processInfo.environment["BENCH_REPEATS"] ?? "") ?? 5
    for l in [32, 128] {
        var times: [String: Double] = [:]
        var order: [String] = []
        func time<T>(_ name: String, _ body: () throws -> T) rethrows -> T {
            let t = DispatchTime.now().uptimeNanoseconds
            let r = try body()
            if times[name] == nil { order.append(name) }
            times[name, default: 0] += Double(DispatchTime.now().uptimeNanoseconds - t) / 1e6
            return r
        }
        let x = Tensor.randn([b, l, hidden], generator: &g)
        let mask = Tensor.zeros([b, 1, 1, l])
        var total = 0.0
        for rep in 0...repeats {
            if rep == 1 { times = [:]; order = []; total = 0 }   // the first pass warms oneDNN's primitive caches
            let start = DispatchTime.now().uptimeNanoseconds
            try withNoGrad {
                func split(_ t: Tensor) throws -> Tensor {
                    let r = try t.reshaped([b, l, heads, d])
                    return try time("permute (split heads, x3)") { try r.permuted([0, 2, 1, 3]) }
                }
                func linear(_ t: Tensor, _ w: Tensor, _ bias: Tensor, _ what: String) throws -> Tensor {
                    let y = try time("matmul \(what)") { try t.matmul(w, transposeB: true) }
                    return try time("bias add (linear)") { try y + bias }
                }
                let q = try split(linear(x, wq, bias384, "QKV (x3)"))
                let k = try split(linear(x, wk, bias384, "QKV (x3)"))
                let v = try split(linear(x, wv, bias384, "QKV (x3)"))
                let s = try time("matmul QK^T (batched)") { try q.matmul(k, transposeB: true) }
                let scaled = try time("scale 1/sqrt(d) (affine)") { try s * (1 / Float(d).squareRoot()) }
                let masked = try time("+ mask [B,1,1,L] (broadcast)") { try scaled + mask }
                let probs = time("softmax") { masked.softmax() }
                let ctx = try time("matmul PV (batched)") { try probs.matmul(v) }
                let merged = try time("permute (merge heads)") { try ctx.permuted([0, 2, 1, 3]) }.reshaped([b, l, hidden])
                let ao = try linear(merged, wo, bias384, "attention output")
                let res1 = try time("residual add (x2)") { try ao + x }
                let attended = try time("layer norm (x2)") { try res1.layerNorm(gamma: gamma, beta: beta, epsilon: 1e-12) }
                let i1 = try linear(attended, wi, bias1536, "intermediate 384->1536")
                let act = time("gelu") { i1.gelu() }
                let o = try linear(act, wout, bias384, "output 1536->384")
                let res2 = try time("residual add (x2)") { try o + attended }
                _ = try time("layer norm (x2)") { try res2.layerNorm(gamma: gamma, beta: beta, epsilon: 1e-12) }
            }
            total += Double(DispatchTime.now().uptimeNanoseconds - start) / 1e6
        }
        let perLayer = total / Double(repeats)
        print(String(format: "# profile: one encoder layer, batch %d, length %d: %.2f ms per layer (%d runs)", b, l, perLayer, repeats))
        for name in order {
            let ms = times[name]! / Double(repeats)
            print(String(format: "prof\t%d\t%@\t%.3f\t%.1f", l, name, ms, 100 * ms / perLayer))
        }
    }
}

/// Tokenization, the 6 layers and pooling, from SentenceEmbedder itself (one batch of 32 of each case).
func profileEmbedder(_ embedder: SentenceEmbedder, _ texts: [String], _ name: String) throws {
    let batch = Array(texts.prefix(32))
    let repeats = 5
    _ = try embedder.embed(batch, batchSize: 32)
    var tok = 0.0, embed = 0.0, embeddings = 0.0
    for _ in 0..<repeats {
        var t = DispatchTime.now().uptimeNanoseconds
        let tokens = embedder.tokenizer.encodeBatch(batch, maxLength: embedder.maxLength)
        tok += Double(DispatchTime.now().uptimeNanoseconds - t) / 1e6
        let shape = [tokens.batch, tokens.length]
        let ids = try IndexTensor(shape: shape, values: tokens.ids), mask = try IndexTensor(shape: shape, values: tokens.attentionMask)
        t = DispatchTime.now().uptimeNanoseconds
        _ = try withNoGrad { try embedder.bert.hiddenStates(ids: ids, mask: mask, upToLayer: 0) }
        embeddings += Double(DispatchTime.now().uptimeNanoseconds - t) / 1e6
        t = DispatchTime.now().uptimeNanoseconds
        _ = try embedder.embed(batch, batchSize: 32)
        embed += Double(DispatchTime.now().uptimeNanoseconds - t) / 1e6
    }
    print(String(format: "# profile %@: embed of one batch of 32: %.2f ms, of which tokenization %.2f ms, embeddings (+ mask) %.2f ms", name,
                 embed / Double(repeats), tok / Double(repeats), embeddings / Double(repeats)))
}
