import Foundation
import Synchronization
import GraftKernels
import GraftNN
import GraftTensor

/// BERT encoder, mirroring Hugging Face `modeling_bert.py` (BertModel):
/// embeddings (word + position + token type, LayerNorm), post-LN encoder
/// layers with exact GELU, optional pooler. Keys match HF checkpoints
/// (`encoder.layer.0.attention.self.query.weight`).
public final class BERT: Module, @unchecked Sendable {  // unchecked: as Module
    /// Decoded from the model's own config.json.
    public struct Config: Codable, Sendable, Equatable {
        public var vocabSize: Int
        public var hiddenSize: Int
        public var numHiddenLayers: Int
        public var numAttentionHeads: Int
        public var intermediateSize: Int
        public var maxPositionEmbeddings: Int
        public var typeVocabSize: Int
        public var layerNormEps: Float
        public var hiddenAct: String

        enum CodingKeys: String, CodingKey {
            case vocabSize = "vocab_size", hiddenSize = "hidden_size", numHiddenLayers = "num_hidden_layers"
            case numAttentionHeads = "num_attention_heads", intermediateSize = "intermediate_size"
            case maxPositionEmbeddings = "max_position_embeddings", typeVocabSize = "type_vocab_size"
            case layerNormEps = "layer_norm_eps", hiddenAct = "hidden_act"
        }

        public init(vocabSize: Int, hiddenSize: Int, numHiddenLayers: Int, numAttentionHeads: Int, intermediateSize: Int,
                    maxPositionEmbeddings: Int = 512, typeVocabSize: Int = 2, layerNormEps: Float = 1e-12, hiddenAct: String = "gelu") {
            self.vocabSize = vocabSize; self.hiddenSize = hiddenSize; self.numHiddenLayers = numHiddenLayers
            self.numAttentionHeads = numAttentionHeads; self.intermediateSize = intermediateSize
            self.maxPositionEmbeddings = maxPositionEmbeddings; self.typeVocabSize = typeVocabSize
            self.layerNormEps = layerNormEps; self.hiddenAct = hiddenAct
        }

        public static func load(_ url: URL) throws -> Config {
            try JSONDecoder().decode(Config.self, from: Data(contentsOf: url))
        }

        /// Floats the encoder's parameters take (embeddings, layers, pooler); nil past 2^52 (or for
        /// negative sizes), where the exact count no longer matters.
        public var parameterCount: Int? {
            func count<T: Numeric>(_ v: T, _ h: T, _ i: T, _ layers: T, _ positions: T, _ types: T) -> T {
                (v + positions + types + 2) * h + layers * (4 * h * h + 2 * h * i + 9 * h + i) + (h + 1) * h
            }
            let sizes = [vocabSize, hiddenSize, intermediateSize, numHiddenLayers, maxPositionEmbeddings, typeVocabSize]
            guard sizes.allSatisfy({ $0 >= 0 }) else { return nil }
            let d = sizes.map(Double.init)
            guard count(d[0], d[1], d[2], d[3], d[4], d[5]) < 0x1p52 else { return nil }
            return count(vocabSize, hiddenSize, intermediateSize, numHiddenLayers, maxPositionEmbeddings, typeVocabSize)
        }

        /// Refuses sizes that are not positive, and models whose parameters would not fit in this
        /// machine's memory (a hostile or mistyped config.json must be an error, not an allocation failure).
        public func validate() throws {
            let sizes = [("vocab_size", vocabSize), ("hidden_size", hiddenSize), ("num_hidden_layers", numHiddenLayers),
                         ("num_attention_heads", numAttentionHeads), ("intermediate_size", intermediateSize),
                         ("max_position_embeddings", maxPositionEmbeddings), ("type_vocab_size", typeVocabSize)]
            if let (key, value) = sizes.first(where: { $0.1 < 1 }) {
                throw ModelError.invalidConfig("\(key) \(value) (must be at least 1)")
            }
            let memoryFloats = Int(clamping: ProcessInfo.processInfo.physicalMemory / 4)
            guard let count = parameterCount, count <= memoryFloats else {
                throw ModelError.invalidConfig("\(parameterCount.map { "\($0) parameters" } ?? "more than 2^52 parameters") do not fit in this machine's memory (\(ProcessInfo.processInfo.physicalMemory >> 20) MiB)")
            }
        }
    }

    public let config: Config
    public let embeddings: BertEmbeddings
    public let layers: ModuleList<BertLayer>
    public let pooler: BertPooler

    public init(_ config: Config, seed: UInt64 = 0) throws {
        try config.validate()
        guard config.hiddenSize % config.numAttentionHeads == 0 else {
            throw ModelError.invalidConfig("hidden_size \(config.hiddenSize) not divisible by \(config.numAttentionHeads) heads")
        }
        guard config.hiddenAct == "gelu" else { throw ModelError.invalidConfig("hidden_act \(config.hiddenAct) (only gelu)") }
        self.config = config
        var g = SeededGenerator(seed: seed)
        embeddings = BertEmbeddings(config, generator: &g)
        layers = ModuleList((0..<config.numHiddenLayers).map { _ in BertLayer(config, generator: &g) })
        pooler = BertPooler(config.hiddenSize, generator: &g)
        for (i, layer) in layers.items.enumerated() {   // what normalised each layer's input (int8 smoothing)
            layer.inputNorm = i == 0 ? embeddings.layerNorm : layers.items[i - 1].outputNorm
        }
    }

    public override var keyedChildren: [(String, Module)] {
        [("embeddings", embeddings), ("encoder", SubModulesNamed([("layer", layers)])), ("pooler", pooler)]
    }

    /// HF checkpoint keys -> Graft keys: drop buffers that are derived
    /// (`position_ids`) and a task model's `bert.` prefix.
    public static func sanitize(_ weights: [String: Tensor]) -> [String: Tensor] {
        var out: [String: Tensor] = [:]
        for (k, v) in weights {
            var key = k
            if key.hasPrefix("bert.") { key.removeFirst(5) }
            if key.hasSuffix("position_ids") { continue }
            out[key] = v
        }
        return out
    }

    /// Hidden states after each layer: index 0 is the embedding output,
    /// index i the output of layer i. `upToLayer` stops early (cut points).
    /// ids, mask: [B, L] (mask 1 for real tokens).
    public func hiddenStates(ids: IndexTensor, tokenTypes: IndexTensor? = nil, mask: IndexTensor,
                             upToLayer: Int? = nil, training: Bool = false) throws -> [Tensor] {
        try encode(ids: ids, tokenTypes: tokenTypes, mask: mask, upToLayer: upToLayer, training: training, everyLayer: true)
    }

    /// The hidden state after layer `upToLayer` (nil: the last) alone: a packed batch then unpacks only that one.
    public func lastHiddenState(ids: IndexTensor, tokenTypes: IndexTensor? = nil, mask: IndexTensor,
                                upToLayer: Int? = nil, training: Bool = false) throws -> Tensor {
        try encode(ids: ids, tokenTypes: tokenTypes, mask: mask, upToLayer: upToLayer, training: training, everyLayer: false).last!
    }

    /// The embedding output and each layer's (`everyLayer`), or the embedding output and the last layer's.
    private func encode(ids: IndexTensor, tokenTypes: IndexTensor?, mask: IndexTensor, upToLayer: Int?, training: Bool,
                        everyLayer: Bool) throws -> [Tensor] {
        guard ids.shape.count == 2, mask.shape == ids.shape else {
            throw TensorError.shapeMismatch(op: "BERT input (ids vs attention mask)", lhs: ids.shape, rhs: mask.shape)
        }
        let (b, l) = (ids.shape[0], ids.shape[1])
        guard l <= config.maxPositionEmbeddings else {
            throw TensorError.invalidShape(op: "BERT", shape: ids.shape, reason: "sequence longer than \(config.maxPositionEmbeddings) positions")
        }
        // Additive mask [B, 1, 1, L]: 0 for tokens, a large negative for padding; none when nothing is padded (adding
        // zeros changes no score, and the broadcast add costs a fifth of the attention's time at 128 tokens).
        let flags = mask.values
        var additive: Tensor? = nil
        if flags.contains(0) {
            let m = try Tensor(uninitializedShape: [b, 1, 1, l])
            for i in 0..<(b * l) { m.pointer[i] = flags[i] != 0 ? 0 : -1e9 }
            additive = m
        }
        let keyCounts = additive == nil ? nil : Self.realTokenCounts(flags, batch: b, length: l)
        let last = min(upToLayer ?? layers.count, layers.count)
        if training && FrozenTrunk.runsAsInference && !embeddings.hasTrainableParameters {
            return try encodeOverFrozenTrunk(ids: ids, tokenTypes: tokenTypes, mask: mask, additive: additive, keyCounts: keyCounts,
                                             last: last, everyLayer: everyLayer)
        }
        var h = try embeddings.forward(ids: ids, tokenTypes: tokenTypes, training: training)
        var states = [h]
        // Padding at the ends of rows, inference only, Graft's attention kernel: the layers run on the real tokens
        // alone (docs/TEXT.md "Encoder inference path"); padding rows of the states returned are zeros.
        if let keyCounts, Kernels.fusesAttention, !training,
           !GradMode.isEnabled || !namedParameters().contains(where: { $0.1.needsGrad }) {
            let packing = PackedTokens(batch: b, length: l, counts: keyCounts)
            var packed = try packing.pack(h)
            for (i, layer) in layers.items.prefix(last).enumerated() {
                packed = try layer.inferenceForward(packed: packed, packing.sequences)
                if everyLayer || i == last - 1 { states.append(try packing.unpack(packed)) }
            }
            return states
        }
        for layer in layers.items.prefix(last) {
            h = try layer.forward(h, mask: additive, keyCounts: keyCounts, training: training)
            if everyLayer { states.append(h) }
        }
        if !everyLayer && last > 0 { states.append(h) }
        return states
    }

    /// Training with `FrozenTrunk.runsAsInference`: the frozen embeddings and leading layers as at inference (packed,
    /// fused, ComputePrecision.current), then the trainable layers in training mode on their output, on packed rows
    /// when the padding is at the rows' ends (padding rows come back zeros: masked as keys, never pooled).
    private func encodeOverFrozenTrunk(ids: IndexTensor, tokenTypes: IndexTensor?, mask: IndexTensor, additive: Tensor?,
                                       keyCounts: [Int]?, last: Int, everyLayer: Bool) throws -> [Tensor] {
        let (b, l) = (ids.shape[0], ids.shape[1])
        let frozen = layers.items.prefix(last).prefix { !$0.hasTrainableParameters }.count
        let trunk = try withNoGrad {
            try encode(ids: ids, tokenTypes: tokenTypes, mask: mask, upToLayer: frozen, training: false, everyLayer: everyLayer)
        }
        var h = trunk.last!
        var states = everyLayer ? trunk : [trunk[0]]
        if let keyCounts, frozen < last {
            let packing = PackedTokens(batch: b, length: l, counts: keyCounts)
            var packed = try packing.pack(h)
            for (i, layer) in layers.items[frozen..<last].enumerated() {
                packed = try layer.forward(packed: packed, packing, mask: additive)
                if everyLayer || i == last - frozen - 1 { h = try packing.unpack(packed) }
                if everyLayer { states.append(h) }
            }
        } else {
            for layer in layers.items[frozen..<last] {
                h = try layer.forward(h, mask: additive, keyCounts: keyCounts, training: true)
                if everyLayer { states.append(h) }
            }
        }
        if !everyLayer && last > 0 { states.append(h) }
        return states
    }

    /// Each row's count of real tokens when every row is real tokens then padding (what a tokenizer pads), else nil
    /// (a mask with holes, or a row of padding only: the additive mask handles those).
    static func realTokenCounts(_ flags: [Int32], batch: Int, length: Int) -> [Int]? {
        var counts: [Int] = []
        counts.reserveCapacity(batch)
        for r in 0..<batch {
            let row = flags[(r * length)..<((r + 1) * length)]
            let real = row.prefix { $0 != 0 }.count
            guard real > 0, !row.dropFirst(real).contains(where: { $0 != 0 }) else { return nil }
            counts.append(real)
        }
        return counts
    }

    /// The last hidden state [B, L, H].
    public func forward(ids: IndexTensor, tokenTypes: IndexTensor? = nil, mask: IndexTensor, training: Bool = false) throws -> Tensor {
        try lastHiddenState(ids: ids, tokenTypes: tokenTypes, mask: mask, training: training)
    }
}

/// Groups children under a key without parameters of its own (HF's `encoder`).
final class SubModulesNamed: Module, @unchecked Sendable {  // unchecked: as Module
    let children: [(String, Module)]
    init(_ children: [(String, Module)]) { self.children = children }
    override var keyedChildren: [(String, Module)] { children }
}

public final class BertEmbeddings: Module, @unchecked Sendable {  // unchecked: as Module
    let wordEmbeddings: Embedding
    let positionEmbeddings: Embedding
    let tokenTypeEmbeddings: Embedding
    let layerNorm: LayerNorm
    let dropout: Dropout

    init(_ c: BERT.Config, generator g: inout SeededGenerator) {
        wordEmbeddings = Embedding(c.vocabSize, c.hiddenSize, generator: &g)
        positionEmbeddings = Embedding(c.maxPositionEmbeddings, c.hiddenSize, generator: &g)
        tokenTypeEmbeddings = Embedding(c.typeVocabSize, c.hiddenSize, generator: &g)
        layerNorm = LayerNorm(c.hiddenSize, epsilon: c.layerNormEps)
        dropout = Dropout(0.1)
    }

    public override var keyedChildren: [(String, Module)] {
        [("word_embeddings", wordEmbeddings), ("position_embeddings", positionEmbeddings),
         ("token_type_embeddings", tokenTypeEmbeddings), ("LayerNorm", layerNorm)]
    }

    func forward(ids: IndexTensor, tokenTypes: IndexTensor?, training: Bool) throws -> Tensor {
        let (b, l) = (ids.shape[0], ids.shape[1])
        let positions = try IndexTensor(shape: [l], values: (0..<l).map { Int32($0) })
        let types = try tokenTypes ?? IndexTensor(shape: [b, l], values: [Int32](repeating: 0, count: b * l))
        var h = try wordEmbeddings(ids) + tokenTypeEmbeddings(types)
        h = try h + positionEmbeddings(positions)   // [L, H] broadcasts over the batch
        return try dropout.forward(layerNorm.forward(h, training: training), training: training)
    }
}

public final class BertLayer: Module, @unchecked Sendable {  // unchecked: as Module
    let query: Linear, key: Linear, value: Linear
    let attentionOutput: Linear
    let attentionNorm: LayerNorm
    let intermediate: Linear
    let output: Linear
    let outputNorm: LayerNorm
    let heads: Int
    let dropout: Dropout
    let packedQKVCache = Mutex<PackedQKV?>(nil)
    /// The norm whose output this layer reads (the previous layer's, or the embeddings'): set by `BERT`.
    weak var inputNorm: LayerNorm?
    let smoothedCache = Mutex<[String: SmoothedInt8Weight]>([:])

    init(_ c: BERT.Config, generator g: inout SeededGenerator) {
        let h = c.hiddenSize
        query = Linear(h, h, generator: &g); key = Linear(h, h, generator: &g); value = Linear(h, h, generator: &g)
        attentionOutput = Linear(h, h, generator: &g)
        attentionNorm = LayerNorm(h, epsilon: c.layerNormEps)
        intermediate = Linear(h, c.intermediateSize, generator: &g)
        output = Linear(c.intermediateSize, h, generator: &g)
        outputNorm = LayerNorm(h, epsilon: c.layerNormEps)
        heads = c.numAttentionHeads
        dropout = Dropout(0.1)
    }

    public override var keyedChildren: [(String, Module)] {
        [("attention", SubModulesNamed([
            ("self", SubModulesNamed([("query", query), ("key", key), ("value", value)])),
            ("output", SubModulesNamed([("dense", attentionOutput), ("LayerNorm", attentionNorm)])),
          ])),
         ("intermediate", SubModulesNamed([("dense", intermediate)])),
         ("output", SubModulesNamed([("dense", output), ("LayerNorm", outputNorm)]))]
    }

    /// x [B, L, H]; mask additive [B, 1, 1, L], or nil when no token is padding; keyCounts: each row's real tokens
    /// when the padding is at the end (the fused path's attention then skips the padding keys).
    func forward(_ x: Tensor, mask: Tensor?, keyCounts: [Int]? = nil, training: Bool) throws -> Tensor {
        // Frozen layers and no-grad scopes take the fused path; anything that will be differentiated does not.
        if !training && (!GradMode.isEnabled || !(x.needsGrad || namedParameters().contains { $0.1.needsGrad })) {
            return try inferenceForward(x, mask: mask, keyCounts: keyCounts)
        }
        return try compositeForward(x, batch: x.shape[0], length: x.shape[1], mask: mask, training: training, paddedRows: nil)
    }

    /// Training mode on packed tokens [T, H] (`PackedTokens`): the linears, norms, dropout and feed-forward see the
    /// T real rows only; attention runs on the padded [B, L, H] layout they scatter into (`mask` keeps the padding
    /// keys out), its context gathered back. Taped like `forward`; the real rows' values equal the padded forward's.
    func forward(packed x: Tensor, _ packing: PackedTokens, mask: Tensor?) throws -> Tensor {
        try compositeForward(x, batch: packing.batch, length: packing.length, mask: mask, training: true, paddedRows: packing.paddedRows)
    }

    /// The layer as separate (taped) ops on x [B, L, H], or on packed rows [T, H] whose places in the padded batch are
    /// `paddedRows`.
    private func compositeForward(_ x: Tensor, batch b: Int, length l: Int, mask: Tensor?, training: Bool,
                                  paddedRows: [Int]?) throws -> Tensor {
        let hidden = x.shape[x.rank - 1]
        let d = hidden / heads
        func split(_ t: Tensor) throws -> Tensor {
            let padded = try paddedRows.map { try t.scatterRows($0, count: b * l) } ?? t
            return try padded.reshaped([b, l, heads, d]).permuted([0, 2, 1, 3])
        }
        let q = try split(query.forward(x, training: training))
        let k = try split(key.forward(x, training: training))
        let v = try split(value.forward(x, training: training))
        // BertSelfAttention: softmax(QK^T / sqrt(d) + mask) V
        let scaled = try q.matmul(k, transposeB: true) * (1 / Float(d).squareRoot())
        let scores = try mask.map { try scaled + $0 } ?? scaled
        let probs = try dropout.forward(scores.softmax(), training: training)
        let merged = try probs.matmul(v).permuted([0, 2, 1, 3])
        let context = try paddedRows.map { try merged.reshaped([b * l, hidden]).gatherRows($0) } ?? merged.reshaped([b, l, hidden])
        let attended = try attentionNorm.forward(dropout.forward(attentionOutput.forward(context, training: training), training: training) + x, training: training)
        let inner = try intermediate.forward(attended, training: training).gelu()
        return try outputNorm.forward(dropout.forward(output.forward(inner, training: training), training: training) + attended, training: training)
    }
}

extension BertLayer {
    /// The same layer as `forward` in 7 fused primitives instead of ~20 ops (no-grad inference only):
    /// one packed QKV matmul, attention reading the heads through strides with the scale and the mask
    /// fused into the scores, GELU and both residual adds fused into their matmuls. A parity test holds
    /// it to the composite path.
    func inferenceForward(_ x: Tensor, mask: Tensor?, keyCounts: [Int]? = nil) throws -> Tensor {
        try inferenceForward(x) { p in try Tensor.packedSelfAttention(p, heads: heads, mask: mask, keyCounts: keyCounts) }
    }

    /// The same on tokens packed without padding: x [T, H], each sequence a run of rows.
    func inferenceForward(packed x: Tensor, _ sequences: [AttentionSequence]) throws -> Tensor {
        try inferenceForward(x) { p in try Tensor.packedSelfAttention(p, heads: heads, sequences: sequences) }
    }

    /// The layer around `attention` (Q, K, V rows -> context rows); x [..., H].
    private func inferenceForward(_ x: Tensor, attention: (AttentionProjections) throws -> Tensor) throws -> Tensor {
        let context = try attention(projections(x))
        let attended = try attentionNorm.forward(context.fusedLinear(weight: attentionOutput.weight, bias: attentionOutput.bias, adding: x), training: false)
        let (intermediateWeight, innerScales) = try smoothed("intermediate", weight: intermediate.weight, norm: attentionNorm)
        // GRAFT_INT8_FFN_OUTPUT=0 keeps the feed-forward output linear in fp32 under int8 (measurement).
        let projected: Tensor
        if ComputePrecision.current == .int8 && !BertLayer.quantizesFeedForwardOutput {
            let inner = try attended.fusedLinear(weight: intermediateWeight, bias: intermediate.bias, activation: .gelu,
                                                 inputScales: innerScales)
            projected = try ComputePrecision.$current.withValue(ComputePrecision.unquantized) {
                try inner.fusedLinear(weight: output.weight, bias: output.bias, adding: attended)
            }
        } else {
            projected = try attended.fusedFeedForward(weight1: intermediateWeight, bias1: intermediate.bias, activation: .gelu,
                                                      weight2: output.weight, bias2: output.bias, adding: attended,
                                                      inputScales: innerScales)
        }
        return try outputNorm.forward(projected, training: false)
    }

    /// Q, K and V of x: one matmul over the packed weight, or under int8 with smoothing (and the input's norm known)
    /// three linears, each reading x smoothed for its own weight (`Int8InputSmoothing`).
    private func projections(_ x: Tensor) throws -> AttentionProjections {
        guard ComputePrecision.current == .int8, Int8InputSmoothing.enabled, let norm = inputNorm else {
            let (qkvWeight, qkvBias) = try packedQKV()
            return .packed(try x.fusedLinear(weight: qkvWeight, bias: qkvBias))
        }
        func project(_ linear: Linear, _ key: String) throws -> Tensor {
            let (weight, scales) = try smoothed(key, weight: linear.weight, norm: norm)
            return try x.fusedLinear(weight: weight, bias: linear.bias, inputScales: scales)
        }
        return .separate(query: try project(query, "query"), key: try project(key, "key"), value: try project(value, "value"))
    }

    /// Under int8 with smoothing on: W diag(s) and 1 / s, the input scales the int8 linear multiplies x by as it
    /// quantizes it, both made once per version of W and the norm; otherwise W as it is and no scales.
    private func smoothed(_ key: String, weight: Tensor, norm: LayerNorm) throws -> (Tensor, Tensor?) {
        guard ComputePrecision.current == .int8, Int8InputSmoothing.enabled else { return (weight, nil) }
        let stamp = [weight, norm.weight, norm.bias].map { [$0.storage.id, $0.storage.version] }
        let made = try smoothedCache.withLock { cache in
            if let hit = cache[key], hit.stamp == stamp { return hit }
            let (w, inverse) = try Int8InputSmoothing.smoothed(weight: weight, norm: norm)
            let made = SmoothedInt8Weight(stamp: stamp, weight: w, inverse: inverse)
            cache[key] = made
            return made
        }
        return (made.weight, made.inverse)
    }

    /// Whether int8 quantizes the feed-forward output linear too (GRAFT_INT8_FFN_OUTPUT=0|1; measurement).
    static let quantizesFeedForwardOutput = ProcessInfo.processInfo.environment["GRAFT_INT8_FFN_OUTPUT"] != "0"

    /// Query, key and value weights [3H, H] and biases [3H] side by side, rebuilt only when one of
    /// the six tensors changed (loading, an optimizer step), so the fused matmul's cached copy stays valid.
    private func packedQKV() throws -> (Tensor, Tensor) {
        let parts = [query.weight, key.weight, value.weight] + [query.bias, key.bias, value.bias].compactMap { $0 }
        guard parts.count == 6 else { throw TensorError.invalidArgument(op: "BertLayer", reason: "query/key/value need biases") }
        let stamp = parts.map { [$0.storage.id, $0.storage.version] }
        return try packedQKVCache.withLock { cache in
            if let cache, cache.stamp == stamp { return (cache.weight, cache.bias) }
            let packed = PackedQKV(stamp: stamp, weight: try Tensor.concat(Array(parts[0..<3]), axis: 0),
                                   bias: try Tensor.concat(Array(parts[3..<6]), axis: 0))
            cache = packed
            return (packed.weight, packed.bias)
        }
    }
}

struct PackedQKV {
    let stamp: [[Int]]
    let weight: Tensor, bias: Tensor
}

/// tanh(W h_[CLS] + b): part of HF checkpoints; sentence embeddings do not use it.
public final class BertPooler: Module, @unchecked Sendable {  // unchecked: as Module
    let dense: Linear
    init(_ hidden: Int, generator g: inout SeededGenerator) { dense = Linear(hidden, hidden, generator: &g) }
    public override var keyedChildren: [(String, Module)] { [("dense", dense)] }
    public func forward(_ hidden: Tensor) throws -> Tensor {
        try dense.forward(hidden.slice(axis: 1, 0..<1).reshaped([hidden.shape[0], hidden.shape[2]]), training: false).tanh()
    }
}
