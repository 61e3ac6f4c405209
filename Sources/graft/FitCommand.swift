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

/// `graft fit`: a linear head on a feature store (stage 2 of feature extraction), saved as a bundle.
struct FitCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "fit", abstract: "Fit logistic regression or a linear SVM on extracted features.")

    @Option(help: "Feature store from `graft extract`.") var features: String
    @Option(help: "Linear model.") var head: HeadKind = .logisticRegression
    @Option(name: .customLong("C"), help: "Inverse regularisation; chosen by 5-fold cross-validation when omitted.") var c: Double?
    @Flag(name: .customLong("balanced"), help: "Weight classes inversely to their frequency.") var balanced = false
    @Flag(name: .customLong("allow-partial"), help: "Fit on an incomplete store (an extraction that was stopped) instead of refusing it.")
    var allowPartial = false
    @Option(help: "Seed of the cross-validation folds.") var seed: UInt64 = 0
    @Option(help: "Output bundle directory.") var out: String
    @Flag(help: CLIOutput.jsonHelp) var json = false

    func run() throws {
        let store = try FeatureStore.open(URL(fileURLWithPath: features))
        // The store records its backbone; stores of Graft 0.1 name a zoo model.
        let backbone = try store.manifest.backbone ?? BackboneSpec.zoo(store.source.model)
        let rows = try FeatureStages.rows(of: store, allowPartial: allowPartial)
        if !store.manifest.complete { CLIOutput.log("warning: fitting on \(store.count) of \(store.manifest.requested) items (--allow-partial)") }
        let fit = try FeatureStages.fit(head, C: c, x: rows.x, labels: rows.labels, classNames: store.classNames,
                                        classWeighting: balanced ? .balanced : .uniform, seed: seed)
        var manifest = FeatureStages.manifest(task: ClassificationTask(), head: head, C: c, backbone: backbone, source: store.source,
                                              classNames: store.classNames, fit: fit, examples: rows.labels.count)
        let train = try fit.head.evaluate(rows.x, labels: rows.labels)
        manifest.notes["trainAccuracy"] = String(format: "%.4f", train.accuracy)
        try BundleStore.save(manifest, head: fit.head, to: URL(fileURLWithPath: out))
        if json {
            try CLIOutput.printJSON(FitSummary(bundle: out, head: head, C: fit.head.C, examples: rows.labels.count, dimension: store.source.dimension,
                                     trainAccuracy: train.accuracy, fitSeconds: fit.summary.seconds, strategy: manifest.strategy,
                                     backbone: backbone, source: store.source))
        } else {
            print(String(format: "%@ on %d x %d: C=%g, training accuracy %.4f, %.2f s -> %@", head.rawValue, rows.labels.count,
                         store.source.dimension, fit.head.C, train.accuracy, fit.summary.seconds, out))
        }
    }
}

struct FitSummary: Encodable {
    var bundle: String, head: HeadKind, C: Double, examples: Int, dimension: Int, trainAccuracy: Double, fitSeconds: Double
    var strategy: Strategy, backbone: BackboneSpec, source: FeatureSource
}
