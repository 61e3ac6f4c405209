import Foundation
import GraftKernels
import GraftNN
import GraftTensor
import GraftText

/// A sentence-transformers model: WordPiece tokenizer, BERT encoder, pooling
/// over the attention mask and (when the model says so) L2 normalisation.
/// Loaded from the model's own directory (config.json, model.safetensors,
/// vocab.txt, 1_Pooling/config.json, modules.json, sentence_bert_config.json).
public final class SentenceEmbedder: Sendable {
    public let name: String
    public let bert: BERT
    public let tokenizer: WordPieceTokenizer
    public let pooling: PoolingMode
    public let normalize: Bool
    public let maxLength: Int

    public init(directory: URL, name: String? = nil) throws {
        self.name = name ?? directory.lastPathComponent
        let config = try BERT.Config.load(directory.appendingPathComponent("config.json"))
        bert = try BERT(config)
        try bert.load(contentsOf: directory.appendingPathComponent("model.safetensors"), sanitize: BERT.sanitize)
        tokenizer = try WordPieceTokenizer(modelDirectory: directory)
        let poolingURL = directory.appendingPathComponent("1_Pooling/config.json")
        pooling = FileManager.default.fileExists(atPath: poolingURL.path) ? try PoolingMode.load(poolingURL) : .mean
        let modules = (try? String(contentsOf: directory.appendingPathComponent("modules.json"), encoding: .utf8)) ?? ""
        normalize = modules.contains("Normalize")
        let st = (try? JSONSerialization.jsonObject(with: Data(contentsOf: directory.appendingPathComponent("sentence_bert_config.json")))) as? [String: Any]
        maxLength = min((st?["max_seq_length"] as? Int) ?? 512, config.maxPositionEmbeddings)
    }

    /// A zoo model (`all-minilm-l6-v2`) from the cache, or a Hub model (`hf:ORG/NAME[@REV]`).
    public static func pretrained(_ name: String = "all-minilm-l6-v2") throws -> SentenceEmbedder {
        if let directory = try PretrainedReferences.textModelDirectory(name) { return try SentenceEmbedder(directory: directory, name: name) }  // hf:ORG/NAME
        let entry = try ModelZoo.entry(name)
        guard entry.kind == .text else { throw ModelError.unknownModel(name, available: ModelZoo.entries.filter { $0.kind == .text }.map(\.name)) }
        guard entry.isInstalled else { throw ModelError.weightsNotInstalled(model: name, path: entry.url.path) }
        return try SentenceEmbedder(directory: entry.url, name: name)
    }

    public var dimension: Int { bert.config.hiddenSize }

    /// Indices of sequences with these token counts in batches, shortest first (ties in input order): at most
    /// `batchSize` each, and a batch of at least `minimumBatch` closes early when the next sequence would make its
    /// padded positions exceed `maxPadding` times its real tokens. Uniform lengths keep full batches; a call with
    /// one ragged batch of 32 reviews (feature extraction's pattern) runs as padding-tight sub-batches: measured
    /// 1.47x the sentences/s of one padded batch (bench/RESULTS.md, session 13).
    public static func lengthOrderedBatches(_ lengths: [Int], batchSize: Int, minimumBatch: Int = 8,
                                            maxPadding: Double = 1.25) -> [[Int]] {
        let order = lengths.indices.sorted { (lengths[$0], $0) < (lengths[$1], $1) }
        var batches: [[Int]] = [], current: [Int] = [], tokens = 0
        for i in order {
            let padded = (current.count + 1) * lengths[i]   // ascending: the newcomer is the longest
            let full = current.count >= max(1, batchSize)
            let loose = current.count >= minimumBatch && Double(padded) > maxPadding * Double(tokens + lengths[i])
            if !current.isEmpty && (full || loose) {
                batches.append(current)
                current = []
                tokens = 0
            }
            current.append(i)
            tokens += lengths[i]
        }
        if !current.isEmpty { batches.append(current) }
        return batches
    }

    /// Token states of layer `layer` (nil: last) and the mask, for one batch of texts.
    public func states(_ texts: [String], layer: Int? = nil, training: Bool = false) throws -> (Tensor, IndexTensor) {
        try states(tokenizer.encodeBatch(texts, maxLength: maxLength), layer: layer, training: training)
    }

    /// Token states of layer `layer` (nil: last) and the mask, for one tokenized batch. Padding rows hold no meaning
    /// (zeros where the batch ran packed, docs/TEXT.md "Encoder inference path"): read them through the mask.
    public func states(_ tokens: TokenBatch, layer: Int? = nil, training: Bool = false) throws -> (Tensor, IndexTensor) {
        let shape = [tokens.batch, tokens.length]
        let ids = try IndexTensor(shape: shape, values: tokens.ids)
        let mask = try IndexTensor(shape: shape, values: tokens.attentionMask)
        let types = try IndexTensor(shape: shape, values: tokens.tokenTypeIds)
        return (try bert.lastHiddenState(ids: ids, tokenTypes: types, mask: mask, upToLayer: layer, training: training), mask)
    }

    /// Sentence vectors [n, dimension] in input order. Texts are tokenized first and batched by token
    /// count, so each batch pads only to its own longest text (sorting by characters padded Rotten
    /// Tomatoes reviews 22% more: bench/RESULTS.md, issue 19).
    public func embed(_ texts: [String], batchSize: Int = 32, layer: Int? = nil, normalize: Bool? = nil) throws -> Tensor {
        let encoded = tokenizer.encodeEach(texts, maxLength: maxLength)
        let d = dimension
        let out = try Tensor(uninitializedShape: [texts.count, d])
        try withNoGrad {
            // Packed batches (Graft's attention kernel) skip the padding's work: no reason to split them by padding.
            let maxPadding = Kernels.fusesAttention ? Double.infinity : 1.25
            for idx in Self.lengthOrderedBatches(encoded.map(\.count), batchSize: batchSize, maxPadding: maxPadding) {
                let (h, mask) = try states(TokenBatch(padding: idx.map { encoded[$0] }, padID: tokenizer.padID), layer: layer)
                let pooled = try poolTokens(h, mask: mask, mode: pooling, normalize: normalize ?? self.normalize)
                for (row, i) in idx.enumerated() { (out.pointer + i * d).update(from: pooled.pointer + row * d, count: d) }
            }
        }
        return out
    }
}
