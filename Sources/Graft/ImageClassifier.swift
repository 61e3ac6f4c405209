import Foundation
import GraftData
import GraftHeads
import GraftModels
import GraftTensor
import GraftText
import GraftTransfer

/// An image classifier for your labels, built on a pretrained network by one
/// of the three strategies.
///
/// ```swift
/// let job = ImageClassifier.train(data: .folder(photos), parameters: .init(strategy: .fineTune(unfreeze: 2)))
/// let classifier = try await job.result
/// try classifier.predict(image: photo)          // [LabelScore], best first
/// try classifier.write(to: bundleURL)
/// ```
public final class ImageClassifier: Sendable {
    let core: ClassifierCore
    /// Metrics on the held-out validation split (nil when loaded from disk or trained without one).
    public let validationMetrics: Metrics?

    init(core: ClassifierCore, validationMetrics: Metrics?) {
        self.core = core
        self.validationMetrics = validationMetrics
    }

    /// Starts training on a thread of its own; the job reports progress and hands back the classifier.
    public static func train(data: TrainingData, parameters: Parameters = Parameters()) -> TrainingJob<ImageClassifier> {
        TrainingJob { context in
            let (core, metrics) = try ClassifierTraining.run(input: .image, data: data, parameters: parameters, context: context)
            return (ImageClassifier(core: core, validationMetrics: metrics), metrics)
        }
    }

    /// Loads a bundle written by `write(to:)` or by `graft fit` / `graft finetune`.
    /// `precision`: what the backbone computes in (docs/PRECISION.md); nil: the precision its head was
    /// fitted with (fp32 unless the features were extracted in bf16). Throws `KernelError.unsupportedPrecision`
    /// when this CPU cannot compute in it.
    public convenience init(contentsOf url: URL, precision: Precision? = nil) throws {
        self.init(core: try ClassifierCore(bundle: url, input: .image, precision: precision), validationMetrics: nil)
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
    public func predict(image: RGBImage, top: Int = 5) throws -> [LabelScore] {
        try predict(images: [image], top: top)[0]
    }

    /// Decodes a JPEG or PNG file and predicts it.
    public func predict(contentsOf url: URL, top: Int = 5) throws -> [LabelScore] {
        try predict(image: ImageDecoder().decode(contentsOf: url), top: top)
    }

    public func predict(images: [RGBImage], top: Int = 5) throws -> [[LabelScore]] {
        try core.predict(images, top: top) { $0.batch(images: $1) }
    }

    /// The features the classifier decides on: the backbone's (feature
    /// extraction) or the trained network's penultimate layer.
    public func embeddings(images: [RGBImage]) throws -> [[Float]] {
        try core.embeddings(images) { $0.batch(images: $1) }
    }

    /// Accuracy, per-class precision/recall/F1, confusion matrix and log-loss on labelled images.
    public func evaluate(on data: TrainingData) throws -> Metrics {
        try core.evaluate(data.dataset(for: .image))
    }

    /// Writes the bundle (a folder: `bundle.json` plus safetensors) to `url`, replacing what is there.
    public func write(to url: URL) throws { try core.write(to: url) }
}
