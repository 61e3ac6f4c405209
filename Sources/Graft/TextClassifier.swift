import Foundation
import GraftData
import GraftHeads
import GraftModels
import GraftTensor
import GraftText
import GraftTransfer

/// A text classifier for your labels, built on a pretrained sentence encoder
/// (MiniLM by default) by one of the three strategies.
///
/// ```swift
/// let job = TextClassifier.train(data: .texts(reviews, labels: verdicts))
/// let classifier = try await job.result
/// try classifier.predict(text: "a dull, overlong film")     // [LabelScore], best first
/// ```
public final class TextClassifier: Sendable {
    let core: ClassifierCore
    /// Metrics on the held-out validation split (nil when loaded from disk or trained without one).
    public let validationMetrics: Metrics?

    init(core: ClassifierCore, validationMetrics: Metrics?) {
        self.core = core
        self.validationMetrics = validationMetrics
    }

    /// Starts training on a thread of its own; the job reports progress and hands back the classifier.
    public static func train(data: TrainingData, parameters: Parameters = Parameters()) -> TrainingJob<TextClassifier> {
        TrainingJob { context in
            let (core, metrics) = try ClassifierTraining.run(input: .text, data: data, parameters: parameters, context: context)
            return (TextClassifier(core: core, validationMetrics: metrics), metrics)
        }
    }

    /// Loads a bundle written by `write(to:)` or by `graft fit` / `graft finetune`.
    /// `precision`: what the backbone computes in (docs/PRECISION.md); nil: the precision its head was
    /// fitted with (fp32 unless the features were extracted in bf16). Throws `KernelError.unsupportedPrecision`
    /// when this CPU cannot compute in it.
    public convenience init(contentsOf url: URL, precision: Precision? = nil) throws {
        self.init(core: try ClassifierCore(bundle: url, input: .text, precision: precision), validationMetrics: nil)
    }

    /// What the backbone computes in.
    public var precision: Precision { core.precision }

    /// The labels it predicts, in the order of its outputs.
    public var classNames: [String] { core.manifest.classNames }
    /// What the bundle says: strategy, backbone, head, notes.
    public var manifest: BundleManifest { core.manifest }
    /// Width of `embeddings` rows.
    public var embeddingDimension: Int { core.embeddingDimension }

    /// The `top` most likely labels, best first.
    public func predict(text: String, top: Int = 5) throws -> [LabelScore] {
        try predict(texts: [text], top: top)[0]
    }

    public func predict(texts: [String], top: Int = 5) throws -> [[LabelScore]] {
        try core.predict(texts, top: top) { $0.batch(texts: $1) }
    }

    /// The features the classifier decides on: the encoder's sentence vectors
    /// (feature extraction) or the fine-tuned encoder's mean-pooled states.
    public func embeddings(texts: [String]) throws -> [[Float]] {
        try core.embeddings(texts) { $0.batch(texts: $1) }
    }

    /// Accuracy, per-class precision/recall/F1, confusion matrix and log-loss on labelled texts.
    public func evaluate(on data: TrainingData) throws -> Metrics {
        try core.evaluate(data.dataset(for: .text))
    }

    /// Writes the bundle (a folder: `bundle.json` plus safetensors) to `url`, replacing what is there.
    public func write(to url: URL) throws { try core.write(to: url) }
}
