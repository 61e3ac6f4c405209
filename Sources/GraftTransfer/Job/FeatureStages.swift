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

    /// Stage 2: a head on feature rows. Linear heads choose C by cross-validation when nil (see `HeadChoice`);
    /// the prototype and k-NN heads (`neighbors` votes) fit nothing.
    public static func fit(_ head: HeadKind, C: Double?, x: FeatureMatrix, labels: [Int], classNames: [String],
                           classWeighting: ClassWeighting = .uniform, seed: UInt64 = 0, neighbors: Int = 5) throws -> ClassifierHeadFit {
        let present = Set(labels)
        guard present.count >= 2 else {
            let only = present.first.map { $0 < classNames.count ? classNames[$0] : "\($0)" } ?? "none"
            throw TransferError.singleClass("the features hold only the class '\(only)'")
        }
        switch head {
        case .logisticRegression: return ClassifierHeadFit(try HeadChoice.logisticRegression(C: C).fit(x, labels: labels, seed: seed, classWeighting: classWeighting))
        case .linearSVM: return ClassifierHeadFit(try HeadChoice.linearSVM(C: C).fit(x, labels: labels, seed: seed, classWeighting: classWeighting))
        case .prototype: return ClassifierHeadFit(try PrototypeClassifier().fit(x, labels: labels))
        case .nearestNeighbors:
            let fit = try NearestNeighborsHead.fit(x, labels: labels, k: neighbors)
            return ClassifierHeadFit(head: fit.head, summary: fit.summary)
        case .ridge, .oneVsRest:
            throw TransferError.unsupported("\(head.rawValue) is the head of the \(head == .ridge ? "regression" : "multi-label") task: fit it with that task (graft fit --task)")
        }
    }

    /// Stage 2 of the regression task: ridge regression of `targets` (matched to the store's rows by id)
    /// on the store's features; alpha by cross-validation when nil.
    public static func fitRegression(_ store: FeatureStore, targets: RegressionTargets, alpha: Double?, folds: Int = 5, seed: UInt64 = 0,
                                     allowPartial: Bool = false) throws -> (fit: RidgeRegression.Fit, x: FeatureMatrix, y: FeatureMatrix) {
        let rows = try self.rows(of: store, allowPartial: allowPartial)
        let y = try targets.matrix(for: rows.ids, store: store.url.path)
        var options = RidgeRegression.Options(alpha: alpha)
        options.folds = min(folds, rows.x.rows)
        options.seed = seed
        return (try RidgeRegression(options).fit(rows.x, targets: y), rows.x, y)
    }

    /// What `fitMultiLabel` fitted and measured.
    public struct MultiLabelFit {
        public var head: MultiLabelHead
        /// Metrics on the held-out validation rows (with the chosen thresholds); nil when too few rows to hold any out.
        public var validation: MultiLabelReport?
        public var trainRows: Int, validationRows: Int
        public var seconds: Double
    }

    /// Stage 2 of the multi-label task: one-vs-rest logistic regression (one C for every label) on a seeded
    /// `1 - validationFraction` of the store's rows, thresholds chosen on the rest (0.5 where no rows are held out).
    public static func fitMultiLabel(_ store: FeatureStore, labels: MultiLabelTargets, C: Double = 1, validationFraction: Double = 0.2,
                                     seed: UInt64 = 0, allowPartial: Bool = false) throws -> MultiLabelFit {
        let start = Date()
        let rows = try self.rows(of: store, allowPartial: allowPartial)
        let sets = try labels.sets(for: rows.ids, store: store.url.path)
        var order = Array(0..<rows.x.rows)
        var generator = SeededGenerator(seed: seed)
        order.shuffle(using: &generator)
        let held = rows.x.rows >= 5 ? max(1, Int((Double(rows.x.rows) * validationFraction).rounded())) : 0
        let validation = Array(order.prefix(held)).sorted(), train = Array(order.dropFirst(held)).sorted()
        let trainX = try rows.x.selectingRows(train)
        var head = try OneVsRestLogistic(.init(C: C)).fit(trainX, labels: train.map { sets[$0] }, labelCount: labels.names.count)
        var report: MultiLabelReport?
        if !validation.isEmpty {
            let vx = try rows.x.selectingRows(validation), vy = validation.map { sets[$0] }
            try OneVsRestLogistic.chooseThresholds(&head, x: vx, labels: vy)
            report = try head.evaluate(vx, truth: vy)
        }
        return MultiLabelFit(head: head, validation: report, trainRows: train.count, validationRows: validation.count,
                             seconds: Date().timeIntervalSince(start))
    }

    /// The manifest of a regression bundle: the target names stand where class names are.
    public static func regressionManifest(backbone: BackboneSpec, source: FeatureSource, targets: [String], fit: RidgeRegression.Fit,
                                          examples: Int) -> BundleManifest {
        var m = BundleManifest(task: .regression, strategy: .featureExtraction(head: .ridge, C: nil), backbone: backbone, classNames: targets)
        m.source = source
        m.notes = ["alpha": "\(fit.head.alpha)", "examples": "\(examples)", "fitSeconds": String(format: "%.2f", fit.seconds)]
        return m
    }

    /// The manifest of a feature bundle: backbone, cut, pooling and head.
    public static func manifest(task: any TransferTask, head: HeadKind, C: Double?, backbone: BackboneSpec, source: FeatureSource,
                                classNames: [String], fit: ClassifierHeadFit, examples: Int) -> BundleManifest {
        var m = BundleManifest(task: task.kind, strategy: .featureExtraction(head: head, C: C), backbone: backbone, classNames: classNames)
        m.source = source
        m.notes = ["examples": "\(examples)", "fitSeconds": String(format: "%.2f", fit.summary.seconds)]
        if let C = fit.head.regularisation { m.notes["C"] = "\(C)" }
        if let knn = fit.head as? NearestNeighborsHead { m.notes["k"] = "\(knn.k)" }
        return m
    }
}

extension FeatureStages {
    /// The manifest of a multi-label bundle: the label names stand where class names are.
    public static func multiLabelManifest(backbone: BackboneSpec, source: FeatureSource, labels: [String], fit: MultiLabelFit) -> BundleManifest {
        var m = BundleManifest(task: .multiLabel, strategy: .featureExtraction(head: .oneVsRest, C: fit.head.C), backbone: backbone, classNames: labels)
        m.source = source
        m.notes = ["C": "\(fit.head.C)", "examples": "\(fit.trainRows)", "validationExamples": "\(fit.validationRows)",
                   "fitSeconds": String(format: "%.2f", fit.seconds)]
        if let v = fit.validation {
            m.notes["validationMicroF1"] = String(format: "%.4f", v.microF1)
            m.notes["validationMeanAveragePrecision"] = String(format: "%.4f", v.meanAveragePrecision)
        }
        return m
    }
}
