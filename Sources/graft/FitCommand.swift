import ArgumentParser
import Foundation
import Graft
import GraftData
import GraftHeads
import GraftModels
import GraftTensor
import GraftText
import GraftTransfer
import GraftWeights

/// `graft fit`: a head on a feature store (stage 2 of feature extraction), saved as a bundle.
struct FitCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "fit", abstract: "Fit a head on extracted features: a classifier (logistic regression, linear SVM, class prototypes, k nearest neighbours) ridge regression of numeric targets (--task regression), or one-vs-rest logistic regression of label sets (--task multi-label).")

    @Option(help: "Feature store from `graft extract`.") var features: String
    @Option(help: "What the model predicts: classification (the store's labels), regression (numbers from --targets) or multi-label (label sets from --labels).")
    var task: TaskKind = .classification
    @Option(help: "Head: logreg (default), svm, prototype (nearest class mean of L2-normalised features) or knn (cosine k nearest neighbours) for classification; ridge for regression; ovr for multi-label. prototype and knn fit nothing.")
    var head: HeadKind?
    @Option(help: "Regression: CSV or JSONL file of numeric targets, matched to the store's items by its id, path or text-row column (docs/TASKS.md).")
    var targets: String?
    @Option(name: .customLong("target"), help: "Regression: a target column of --targets (repeat for several; default: target).")
    var targetColumns: [String] = []
    @Option(help: "Regression: the ridge penalty; chosen by 5-fold cross-validation from 0.01..10000 when omitted.") var alpha: Double?
    @Option(help: "Multi-label: CSV or JSONL file of label lists (`a|b` in CSV, a list in JSONL), matched to the store's items like --targets.")
    var labels: String?
    @Option(name: .customLong("label-column"), help: "Multi-label: the column of --labels holding the lists.") var labelColumn = "labels"
    @Option(name: .customLong("label-names"), help: "Multi-label: the label names, comma separated (a label outside them is an error); default: every label in --labels, sorted.")
    var labelNames: String?
    @Option(name: .customLong("validation-fraction"), help: "Multi-label: share of the items held out to choose each label's threshold (max F1).")
    var validationFraction = 0.2
    @Option(name: .customLong("C"), help: "Inverse regularisation of logreg/svm; chosen by 5-fold cross-validation when omitted.") var c: Double?
    @Option(name: .customLong("k"), help: "Neighbours that vote (knn only; default 5).") var k: Int?
    @Flag(name: .customLong("balanced"), help: "Weight classes inversely to their frequency.") var balanced = false
    @Flag(name: .customLong("allow-partial"), help: "Fit on an incomplete store (an extraction that was stopped) instead of refusing it.")
    var allowPartial = false
    @Option(help: "Seed of the cross-validation folds.") var seed: UInt64 = 0
    @Option(help: "Output bundle directory.") var out: String
    @Flag(help: CLIOutput.jsonHelp) var json = false

    /// The head the task fits when none is named.
    var chosenHead: HeadKind {
        head ?? { switch task { case .classification: .logisticRegression; case .regression: .ridge; case .multiLabel: .oneVsRest; case .detection: .logisticRegression } }()
    }

    func validate() throws {
        guard task != .detection else { throw ValidationError("a detector has no feature head: use graft finetune --task detect") }
        guard task == .multiLabel || (labels == nil && labelNames == nil) else { throw ValidationError("--labels and --label-names go with --task multi-label") }
        if task == .multiLabel {
            guard chosenHead == .oneVsRest else { throw ValidationError("--task multi-label fits --head ovr, not \(chosenHead.rawValue)") }
            guard labels != nil else { throw ValidationError("--task multi-label needs --labels FILE") }
            guard targets == nil, targetColumns.isEmpty, alpha == nil, k == nil, !balanced else {
                throw ValidationError("--targets, --target, --alpha, --k and --balanced do not apply to --task multi-label")
            }
            if let c, !(c > 0 && c.isFinite) { throw ValidationError("--C must be a finite number > 0") }
            guard validationFraction >= 0, validationFraction < 1 else { throw ValidationError("--validation-fraction must be in [0, 1)") }
            return
        }
        if task == .regression {
            guard chosenHead == .ridge else { throw ValidationError("--task regression fits --head ridge, not \(chosenHead.rawValue)") }
            guard targets != nil else { throw ValidationError("--task regression needs --targets FILE") }
            guard c == nil, k == nil, !balanced else { throw ValidationError("--C, --k and --balanced are classification options") }
            if let alpha, !(alpha > 0 && alpha.isFinite) { throw ValidationError("--alpha must be a finite number > 0") }
            return
        }
        guard targets == nil, targetColumns.isEmpty, alpha == nil else { throw ValidationError("--targets, --target and --alpha go with --task regression") }
        guard chosenHead != .ridge, chosenHead != .oneVsRest else {
            throw ValidationError("--head \(chosenHead.rawValue) goes with --task \(chosenHead == .ridge ? "regression" : "multi-label")")
        }
        let head = chosenHead
        if let k {
            guard head == .nearestNeighbors else { throw ValidationError("--k applies to --head knn only") }
            guard k >= 1 else { throw ValidationError("--k must be at least 1, got \(k)") }
        }
        if c != nil && !head.isRegularised { throw ValidationError("--C applies to --head logreg or svm only") }
    }

    func run() throws {
        let store = try FeatureStore.open(URL(fileURLWithPath: features))
        // The store records its backbone; stores of Graft 0.1 name a zoo model.
        let backbone = try store.manifest.backbone ?? BackboneSpec.zoo(store.source.model)
        if task == .regression { return try fitRegression(store, backbone: backbone) }
        if task == .multiLabel { return try fitMultiLabel(store, backbone: backbone) }
        let head = chosenHead
        let rows = try FeatureStages.rows(of: store, allowPartial: allowPartial)
        if !store.manifest.complete { CLIOutput.log("warning: fitting on \(store.count) of \(store.manifest.requested) items (--allow-partial)") }
        let fit = try FeatureStages.fit(head, C: c, x: rows.x, labels: rows.labels, classNames: store.classNames,
                                        classWeighting: balanced ? .balanced : .uniform, seed: seed, neighbors: k ?? 5)
        var manifest = FeatureStages.manifest(task: ClassificationTask(), head: head, C: c, backbone: backbone, source: store.source,
                                              classNames: store.classNames, fit: fit, examples: rows.labels.count)
        let train = try fit.head.evaluate(rows.x, labels: rows.labels)
        manifest.notes["trainAccuracy"] = String(format: "%.4f", train.accuracy)
        try BundleStore.save(manifest, head: fit.head, to: URL(fileURLWithPath: out))
        if json {
            try CLIOutput.printJSON(FitSummary(bundle: out, head: head, C: fit.head.regularisation, k: (fit.head as? NearestNeighborsHead)?.k,
                                     examples: rows.labels.count, dimension: store.source.dimension,
                                     trainAccuracy: train.accuracy, fitSeconds: fit.summary.seconds, strategy: manifest.strategy,
                                     backbone: backbone, source: store.source))
        } else {
            let setting = (fit.head as? NearestNeighborsHead).map { "k=\($0.k)" } ?? fit.head.regularisation.map { String(format: "C=%g", $0) } ?? "no fitting"
            print(String(format: "%@ on %d x %d: %@, training accuracy %.4f, %.2f s -> %@", head.rawValue, rows.labels.count,
                         store.source.dimension, setting, train.accuracy, fit.summary.seconds, out))
        }
    }
}

extension FitCommand {
    func fitRegression(_ store: FeatureStore, backbone: BackboneSpec) throws {
        let columns = targetColumns.isEmpty ? ["target"] : targetColumns
        let table = try RegressionTargets(contentsOf: URL(fileURLWithPath: targets!), columns: columns)
        if !store.manifest.complete { CLIOutput.log("warning: fitting on \(store.count) of \(store.manifest.requested) items (--allow-partial)") }
        let fitted = try FeatureStages.fitRegression(store, targets: table, alpha: alpha, seed: seed, allowPartial: allowPartial)
        let fit = fitted.fit
        let train = try fit.head.evaluate(fitted.x, targets: fitted.y)
        var manifest = FeatureStages.regressionManifest(backbone: backbone, source: store.source, targets: columns, fit: fit, examples: fitted.x.rows)
        manifest.notes["trainR2"] = String(format: "%.4f", train.r2)
        if let search = fit.search { manifest.notes["cvMeanSquaredError"] = String(format: "%.6g", search.meanSquaredError.min() ?? 0) }
        try BundleStore.save(manifest, regression: fit.head, to: URL(fileURLWithPath: out))
        if json {
            try CLIOutput.printJSON(RegressionFitSummary(bundle: out, task: .regression, head: .ridge, alpha: fit.head.alpha, targets: columns,
                                                         examples: fitted.x.rows, dimension: store.source.dimension, train: train,
                                                         crossValidation: fit.search, fitSeconds: fit.seconds, backbone: backbone, source: store.source))
        } else {
            let how = fit.search.map { "chosen by \($0.folds)-fold cross-validation" } ?? "given"
            print(String(format: "ridge on %d x %d -> %d target(s): alpha=%g (%@), training MAE %.4g, RMSE %.4g, R^2 %.4f, %.2f s -> %@",
                         fitted.x.rows, store.source.dimension, columns.count, fit.head.alpha, how, train.meanAbsoluteError,
                         train.rootMeanSquaredError, train.r2, fit.seconds, out))
        }
    }
}

extension FitCommand {
    func fitMultiLabel(_ store: FeatureStore, backbone: BackboneSpec) throws {
        let names = labelNames.map { $0.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) } }
        let table = try MultiLabelTargets(contentsOf: URL(fileURLWithPath: labels!), column: labelColumn, names: names)
        if !store.manifest.complete { CLIOutput.log("warning: fitting on \(store.count) of \(store.manifest.requested) items (--allow-partial)") }
        let fit = try FeatureStages.fitMultiLabel(store, labels: table, C: c ?? 1, validationFraction: validationFraction, seed: seed,
                                                  allowPartial: allowPartial)
        let manifest = FeatureStages.multiLabelManifest(backbone: backbone, source: store.source, labels: table.names, fit: fit)
        try BundleStore.save(manifest, multiLabel: fit.head, to: URL(fileURLWithPath: out))
        if json {
            try CLIOutput.printJSON(MultiLabelFitSummary(bundle: out, task: .multiLabel, head: .oneVsRest, C: fit.head.C, labels: table.names,
                                                         thresholds: fit.head.thresholds, trainExamples: fit.trainRows,
                                                         validationExamples: fit.validationRows, dimension: store.source.dimension,
                                                         validation: fit.validation, fitSeconds: fit.seconds, backbone: backbone, source: store.source))
            return
        }
        print(String(format: "ovr on %d x %d -> %d labels: C=%g, thresholds on %d validation items, %.2f s -> %@", fit.trainRows,
                     store.source.dimension, table.names.count, fit.head.C, fit.validationRows, fit.seconds, out))
        guard let v = fit.validation else { return print("no validation items: every threshold is 0.5") }
        print(String(format: "validation: micro F1 %.4f, macro F1 %.4f, Hamming loss %.4f, mAP %.4f", v.microF1, v.macroF1, v.hammingLoss,
                     v.meanAveragePrecision))
        print("\nlabel                     threshold  precision  recall      f1      AP  support")
        for m in v.perLabel {
            print("\(table.names[m.label].padding(toLength: 24, withPad: " ", startingAt: 0))  "
                  + String(format: "%9.3f  %9.4f %7.4f %7.4f %7.4f %8d", fit.head.thresholds[m.label], m.precision, m.recall, m.f1,
                           m.averagePrecision, m.support))
        }
    }
}

struct MultiLabelFitSummary: Encodable {
    var bundle: String, task: TaskKind, head: HeadKind, C: Double, labels: [String], thresholds: [Float]
    var trainExamples: Int, validationExamples: Int, dimension: Int, validation: MultiLabelReport?, fitSeconds: Double
    var backbone: BackboneSpec, source: FeatureSource
}

struct RegressionFitSummary: Encodable {
    var bundle: String, task: TaskKind, head: HeadKind, alpha: Double, targets: [String], examples: Int, dimension: Int
    var train: RegressionReport, crossValidation: RidgeRegression.Search?, fitSeconds: Double
    var backbone: BackboneSpec, source: FeatureSource
}

struct FitSummary: Encodable {
    var bundle: String, head: HeadKind, C: Double?, k: Int?, examples: Int, dimension: Int, trainAccuracy: Double, fitSeconds: Double
    var strategy: Strategy, backbone: BackboneSpec, source: FeatureSource
}
