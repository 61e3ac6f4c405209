import Foundation
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

    /// Token states of layer `layer` (nil: last) and the mask, for one batch of texts.
    public func states(_ texts: [String], layer: Int? = nil, training: Bool = false) throws -> (Tensor, IndexTensor) {
        let tokens = tokenizer.encodeBatch(texts, maxLength: maxLength)
        let shape = [tokens.batch, tokens.length]
        let ids = try IndexTensor(shape: shape, values: tokens.ids)
        let mask = try IndexTensor(shape: shape, values: tokens.attentionMask)
        let types = try IndexTensor(shape: shape, values: tokens.tokenTypeIds)
        let all = try bert.hiddenStates(ids: ids, tokenTypes: types, mask: mask, upToLayer: layer, training: training)
        return (all.last!, mask)
    }

    /// Sentence vectors [n, dimension] in input order. Texts are batched by
    /// length so each batch pads only to its own longest text.
    public func embed(_ texts: [String], batchSize: Int = 32, layer: Int? = nil, normalize: Bool? = nil) throws -> Tensor {
        let order = texts.indices.sorted { texts[$0].utf8.count < texts[$1].utf8.count }
        let d = dimension
        let out = try Tensor(uninitializedShape: [texts.count, d])
        try withNoGrad {
            for start in stride(from: 0, to: order.count, by: max(1, batchSize)) {
                let idx = Array(order[start..<min(start + batchSize, order.count)])
                let (h, mask) = try states(idx.map { texts[$0] }, layer: layer)
                let pooled = try poolTokens(h, mask: mask, mode: pooling, normalize: normalize ?? self.normalize)
                for (row, i) in idx.enumerated() { (out.pointer + i * d).update(from: pooled.pointer + row * d, count: d) }
            }
        }
        return out
    }
}
