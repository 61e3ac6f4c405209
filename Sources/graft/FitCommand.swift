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
    static let configuration = CommandConfiguration(commandName: "fit", abstract: "Fit a head (logistic regression, linear SVM, class prototypes, k nearest neighbours) on extracted features.")

    @Option(help: "Feature store from `graft extract`.") var features: String
    @Option(help: "Head: logreg, svm, prototype (nearest class mean of L2-normalised features) or knn (cosine k nearest neighbours); prototype and knn fit nothing.")
    var head: HeadKind = .logisticRegression
    @Option(name: .customLong("C"), help: "Inverse regularisation of logreg/svm; chosen by 5-fold cross-validation when omitted.") var c: Double?
    @Option(name: .customLong("k"), help: "Neighbours that vote (knn only; default 5).") var k: Int?
    @Flag(name: .customLong("balanced"), help: "Weight classes inversely to their frequency.") var balanced = false
    @Flag(name: .customLong("allow-partial"), help: "Fit on an incomplete store (an extraction that was stopped) instead of refusing it.")
    var allowPartial = false
    @Option(help: "Seed of the cross-validation folds.") var seed: UInt64 = 0
    @Option(help: "Output bundle directory.") var out: String
    @Flag(help: CLIOutput.jsonHelp) var json = false

    func validate() throws {
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

struct FitSummary: Encodable {
    var bundle: String, head: HeadKind, C: Double?, k: Int?, examples: Int, dimension: Int, trainAccuracy: Double, fitSeconds: Double
    var strategy: Strategy, backbone: BackboneSpec, source: FeatureSource
}
