import Foundation
import GraftData
import GraftTransfer

/// Predicts numbers from images or texts (an angle, a score, a count): a new linear head on a pretrained
/// backbone, frozen or fine-tuned, on the same job path as `graft finetune --task regression` (docs/TASKS.md).
///
/// ```swift
/// let job = Regressor.train(data: .texts(reviews, values: scores.map { [$0] }, targets: ["score"]))
/// let model = try await job.result
/// let predicted = try model.predict(texts: ["a tender, funny film"])   // [[Float]], one row per text
/// ```
public final class Regressor: Sendable {
    let core: ClassifierCore
    /// MAE, RMSE and R^2 on the held-out validation split (nil when loaded from disk or trained without one).
    public let validationMetrics: RegressionReport?

    init(core: ClassifierCore, validationMetrics: RegressionReport?) {
        self.core = core
        self.validationMetrics = validationMetrics
    }

    /// Starts training on a thread of its own. With the default strategy only a new linear head trains, on the
    /// frozen pretrained network (MSE); `parameters.strategy = .fineTune()` also trains its last blocks. (Ridge
    /// on a feature store is `graft extract` + `graft fit --task regression`.)
    public static func train(data: RegressionData, parameters: Parameters = Parameters()) -> TrainingJob<Regressor> {
        TrainingJob { context in
            let (core, metrics) = try JobRunner.trainTask(data.resolve, kind: .regression, parameters: parameters, context: context)
            guard case let .regression(report)? = metrics else { return (Regressor(core: core, validationMetrics: nil), nil) }
            return (Regressor(core: core, validationMetrics: report), nil)
        }
    }

    /// Loads a regression bundle (`write(to:)`, `graft fit|finetune --task regression`).
    public convenience init(contentsOf url: URL, precision: Precision? = nil) throws {
        self.init(core: try ClassifierCore(bundle: url, input: nil, task: .regression, precision: precision), validationMetrics: nil)
    }

    /// The predicted columns, in the order of every row `predict` returns.
    public var targetNames: [String] { core.manifest.classNames }
    /// What the bundle reads: images or texts.
    public var input: DataKind { core.input }
    public var manifest: BundleManifest { core.manifest }

    /// One row of `targetNames.count` values per image (the backbone's own preprocessing).
    public func predict(images: [RGBImage]) throws -> [[Float]] {
        try requireInput(.image)
        return try core.scores(images) { $0.batch(images: $1) }
    }

    /// One row of `targetNames.count` values per text.
    public func predict(texts: [String]) throws -> [[Float]] {
        try requireInput(.text)
        return try core.scores(texts) { $0.batch(texts: $1) }
    }

    /// Copies the bundle to `url` (atomically: old or new at every instant).
    public func write(to url: URL) throws { try core.write(to: url) }

    private func requireInput(_ kind: DataKind) throws {
        guard core.input == kind else { throw GraftError.wrongKind(task: "\(core.input.rawValue) regressor", data: kind.rawValue + "s") }
    }
}
