import Foundation
import Synchronization
import GraftData
import GraftHeads
import GraftModels
import GraftTensor
import GraftText
import GraftTransfer

/// Sentence embeddings from a pretrained encoder (strategy 1 for text: use the
/// model as it is), as sentence-transformers' `encode` computes them.
///
/// ```swift
/// let embedder = try Embedder()                                   // all-MiniLM-L6-v2
/// let vectors = try embedder.encode(["a cat sat", "a dog ran"])   // [[Float]], 384-d
/// try embedder.similarity("a cat sat", "a kitten was sitting")     // cosine
/// ```
public final class Embedder: Sendable {
    /// One call at a time runs the encoder.
    private let embedder: Mutex<SentenceEmbedder>
    public let name: String
    public let dimension: Int
    /// Whether the model's own configuration normalises its vectors (MiniLM's does).
    public let normalizesByDefault: Bool
    /// What the encoder's matmuls compute in (docs/PRECISION.md).
    public let precision: Precision

    /// `.miniLM`, or `.custom(weights: modelDirectory, architecture: "bert")`. `precision` bf16 needs a CPU
    /// with AVX-512 bf16 (else `KernelError.unsupportedPrecision`).
    public init(_ backbone: BackboneSpec = .miniLM, precision: Precision = .fp32) throws {
        try precision.requireSupport()
        self.precision = precision
        guard backbone.input == .text, let text = try Backbones.load(backbone) as? TextBackbone else {
            throw GraftError.wrongBackbone(task: "sentence embedder", backbone: backbone.description)
        }
        try text.requirePrecision(precision)   // int8: dynamic, no calibration
        name = text.embedder.name
        dimension = text.embedder.dimension
        normalizesByDefault = text.embedder.normalize
        embedder = Mutex(text.embedder)
    }

    /// One vector per sentence, in input order. `normalize`: scale to unit
    /// length; nil does what the model's configuration says.
    public func encode(_ sentences: [String], normalize: Bool? = nil, batchSize: Int = 32) throws -> [[Float]] {
        guard !sentences.isEmpty else { return [] }
        let flat = try embedder.withLock { e in
            try withPrecision(precision) { try e.embed(sentences, batchSize: max(1, batchSize), normalize: normalize).values }
        }
        let d = dimension
        return (0..<sentences.count).map { Array(flat[($0 * d)..<(($0 + 1) * d)]) }
    }

    public func encode(_ sentence: String, normalize: Bool? = nil) throws -> [Float] {
        try encode([sentence], normalize: normalize)[0]
    }

    /// Cosine similarity of two sentences' embeddings.
    public func similarity(_ a: String, _ b: String) throws -> Float {
        let v = try encode([a, b])
        return try VectorSimilarity.cosine(v[0], v[1])
    }

    /// The `top` sentences of `corpus` closest in meaning to `query`, best first
    /// (`SearchHit.index` points into `corpus`, `score` is the cosine).
    public func search(_ query: String, in corpus: [String], top: Int = 5) throws -> [SearchHit] {
        guard !corpus.isEmpty else { return [] }
        let index = try EmbeddingIndex(embeddings: encode(corpus, normalize: true))
        return try index.search(encode(query, normalize: true), top: max(1, top))
    }
}
