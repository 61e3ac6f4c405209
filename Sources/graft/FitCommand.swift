import ArgumentParser
import Foundation
import Graft

/// `graft fit`: a linear head on a feature store, saved as a bundle.
struct FitCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "fit", abstract: "Fit logistic regression or a linear SVM on extracted features.")

    @Option(help: "Feature store from `graft extract`.") var features: String
    @Option(help: "logreg or svm.") var head: String = "logreg"
    @Option(name: .customLong("C"), help: "Inverse regularisation; chosen by 5-fold cross-validation when omitted.") var c: Double?
    @Flag(name: .customLong("balanced"), help: "Weight classes inversely to their frequency.") var balanced = false
    @Option(help: "Output bundle directory.") var out: String

    func run() throws {
        let store = try FeatureStore.open(URL(fileURLWithPath: features))
        let rows = try store.readAll()
        guard Set(rows.labels).count >= 2 else { throw TransferError.singleClass("store \(features) has one label only") }
        let x = try FeatureMatrix(rows: rows.count, columns: store.source.dimension, values: rows.features)
        let choice: HeadChoice
        switch head {
        case "logreg": choice = .logisticRegression(C: c)
        case "svm": choice = .linearSVM(C: c)
        default: throw ValidationError("--head must be logreg or svm")
        }
        let fit = try choice.fit(x, labels: rows.labels, classWeighting: balanced ? .balanced : .uniform)
        let isText = store.source.layer == "pooled" || store.source.layer.hasPrefix("layer")
        var manifest = BundleManifest(task: isText ? .text : .image, strategy: .featureExtraction, model: store.source.model,
                                      architecture: store.source.model, classNames: store.classNames)
        manifest.source = store.source
        let train = try fit.head.evaluate(x, labels: rows.labels)
        manifest.notes = ["trainAccuracy": String(format: "%.4f", train.accuracy), "C": "\(fit.head.C)",
                          "fitSeconds": String(format: "%.2f", fit.summary.seconds), "examples": "\(rows.count)"]
        try BundleStore.save(manifest, head: fit.head, to: URL(fileURLWithPath: out))
        print(String(format: "%@ on %d x %d: C=%g, training accuracy %.4f, %.2f s -> %@", head, rows.count, store.source.dimension,
                     fit.head.C, train.accuracy, fit.summary.seconds, out))
    }
}
