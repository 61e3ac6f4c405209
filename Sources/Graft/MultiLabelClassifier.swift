import Foundation
import GraftData
import GraftTransfer

/// Tags images or texts with every label that applies (photo tags, topics): a sigmoid/BCE head on a pretrained
/// backbone, frozen or fine-tuned, on the same job path as `graft finetune --task multi-label` (docs/TASKS.md);
/// per-label thresholds chosen on validation.
///
/// ```swift
/// let job = MultiLabelClassifier.train(data: .images(photos, labels: [["cat", "sofa"], ["dog"], []]))
/// let tagger = try await job.result
/// let tags = try tagger.predict(images: [photo])[0]   // every label at or above its threshold
/// ```
public final class MultiLabelClassifier: Sendable {
    let core: ClassifierCore
    /// Micro/macro F1, mAP and Hamming loss on the held-out validation split (nil when loaded from disk).
    public let validationMetrics: MultiLabelReport?

    init(core: ClassifierCore, validationMetrics: MultiLabelReport?) {
        self.core = core
        self.validationMetrics = validationMetrics
    }

    /// Starts training on a thread of its own: by default a new sigmoid head alone on the frozen pretrained
    /// network (BCE), thresholds chosen on validation; `parameters.strategy = .fineTune()` also trains its last
    /// blocks. (One-vs-rest logistic regression on a feature store is `graft fit --task multi-label`.)
    public static func train(data: MultiLabelData, parameters: Parameters = Parameters()) -> TrainingJob<MultiLabelClassifier> {
        TrainingJob { context in
            let (core, metrics) = try JobRunner.trainTask(data.resolve, kind: .multiLabel, parameters: parameters, context: context)
            guard case let .multiLabel(report)? = metrics else { return (MultiLabelClassifier(core: core, validationMetrics: nil), nil) }
            return (MultiLabelClassifier(core: core, validationMetrics: report), nil)
        }
    }

    /// Loads a multi-label bundle (`write(to:)`, `graft fit|finetune --task multi-label`).
    public convenience init(contentsOf url: URL, precision: Precision? = nil) throws {
        self.init(core: try ClassifierCore(bundle: url, input: nil, task: .multiLabel, precision: precision), validationMetrics: nil)
    }

    public var labelNames: [String] { core.manifest.classNames }
    /// The probability at or above which each label (in `labelNames` order) is predicted.
    public var thresholds: [Float] { core.thresholds ?? [] }
    public var input: DataKind { core.input }
    public var manifest: BundleManifest { core.manifest }

    /// Each image's labels at or above their thresholds, most probable first.
    public func predict(images: [RGBImage]) throws -> [[LabelScore]] {
        try requireInput(.image)
        return try core.predict(images, top: labelNames.count) { $0.batch(images: $1) }
    }

    public func predict(texts: [String]) throws -> [[LabelScore]] {
        try requireInput(.text)
        return try core.predict(texts, top: labelNames.count) { $0.batch(texts: $1) }
    }

    /// Every label's probability per input, in `labelNames` order.
    public func probabilities(images: [RGBImage]) throws -> [[Float]] {
        try requireInput(.image)
        return try core.scores(images) { $0.batch(images: $1) }
    }

    public func probabilities(texts: [String]) throws -> [[Float]] {
        try requireInput(.text)
        return try core.scores(texts) { $0.batch(texts: $1) }
    }

    public func write(to url: URL) throws { try core.write(to: url) }

    private func requireInput(_ kind: DataKind) throws {
        guard core.input == kind else { throw GraftError.wrongKind(task: "\(core.input.rawValue) multi-label classifier", data: kind.rawValue + "s") }
    }
}
