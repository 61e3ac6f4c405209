import Foundation
import GraftData
import GraftHeads

/// The two stages of feature extraction, shared by `TransferJob` and by
/// `graft extract` / `graft fit`, which run them one at a time.
public enum FeatureStages {
    /// Stage 1: features of `indices` into a resumable store at `url`.
    public static func extract(_ extractor: FeatureExtractor, dataset: any Dataset, indices: [Int]?, to url: URL,
                               batchSize: Int = 32, shardSize: Int = 4096, strict: Bool = false, overwrite: Bool = false,
                               progress: ProgressHandler? = nil, isCancelled: @Sendable () -> Bool = { false }) throws -> FeatureStore {
        let job = FeatureExtraction(batchSize: batchSize, shardSize: shardSize, strict: strict, overwrite: overwrite, progress: progress)
        return try job.run(extractor: extractor, dataset: dataset, indices: indices, to: url, isCancelled: isCancelled)
    }

    /// A store's rows as a feature matrix. An incomplete store (an extraction that was stopped) is
    /// refused unless `allowPartial`: training on part of the data must be asked for.
    public static func rows(of store: FeatureStore, allowPartial: Bool = false) throws -> (x: FeatureMatrix, labels: [Int], ids: [String]) {
        guard store.manifest.complete || allowPartial else {
            throw TransferError.corruptStore(path: store.url.path, reason: "incomplete: \(store.count) of \(store.manifest.requested) items were extracted "
                + "before the extraction stopped. Rerun the same `graft extract` command to resume it, or pass --allow-partial to use the \(store.count) rows")
        }
        guard store.count > 0 else { throw TransferError.emptyData("feature store \(store.url.path) holds no rows") }
        let rows = try store.readAll()
        return (try FeatureMatrix(rows: rows.count, columns: store.source.dimension, values: rows.features), rows.labels, rows.ids)
    }

    /// Stage 2: a linear head on feature rows (C by cross-validation when nil; see `HeadChoice`).
    public static func fit(_ head: HeadKind, C: Double?, x: FeatureMatrix, labels: [Int], classNames: [String],
                           classWeighting: ClassWeighting = .uniform, seed: UInt64 = 0) throws -> HeadFit {
        let present = Set(labels)
        guard present.count >= 2 else {
            let only = present.first.map { $0 < classNames.count ? classNames[$0] : "\($0)" } ?? "none"
            throw TransferError.singleClass("the features hold only the class '\(only)'")
        }
        let choice: HeadChoice = head == .linearSVM ? .linearSVM(C: C) : .logisticRegression(C: C)
        return try choice.fit(x, labels: labels, seed: seed, classWeighting: classWeighting)
    }

    /// The manifest of a feature bundle: backbone, cut, pooling and head.
    public static func manifest(task: any TransferTask, head: HeadKind, C: Double?, backbone: BackboneSpec, source: FeatureSource,
                                classNames: [String], fit: HeadFit, examples: Int) -> BundleManifest {
        var m = BundleManifest(task: task.kind, strategy: .featureExtraction(head: head, C: C), backbone: backbone, classNames: classNames)
        m.source = source
        m.notes = ["C": "\(fit.head.C)", "examples": "\(examples)",
                   "fitSeconds": String(format: "%.2f", fit.summary.seconds)]
        return m
    }
}
