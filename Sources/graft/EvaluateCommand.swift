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

/// `graft evaluate`: a bundle's metrics on labelled data.
struct EvaluateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "evaluate", abstract: "Accuracy, per-class precision/recall/F1, confusion matrix and log-loss of a bundle.")

    @Option(help: "Bundle directory.") var bundle: String
    @Option(help: "Labelled data (built-in name, folder or CSV/JSONL).") var data: String
    @Option(help: "Which part of a built-in data set (test: its official test set, or the whole data when it has none).") var split: DataPart = .test
    @Option(help: "Only the first N examples.") var limit: Int?
    @Option(help: ModelArguments.bundlePrecisionHelp) var precision: Precision?
    @Flag(help: CLIOutput.jsonHelp) var json = false
    @Option(help: "Also write a self-contained HTML report (metrics, confusion matrix, most confident mistakes) to this file.") var report: String?
    @Flag(help: "No progress output.") var quiet = false

    func run() throws {
        let classifier = try TrainedModel(bundle: URL(fileURLWithPath: bundle), precision: precision)
        let source = try DataSource.resolve(data)
        let dataset: any Dataset = split == .test ? (source.test ?? source.train) : source.train
        guard dataset.kind == classifier.input else {
            throw ValidationError("the bundle reads \(classifier.input.rawValue)s but \(data) holds \(dataset.kind.rawValue)s")
        }
        let bar = TerminalProgressBar(quiet: quiet)
        let scored = try BundleEvaluation(classifier, dataset: dataset, indices: Array(0..<min(limit ?? dataset.count, dataset.count)),
                                          progress: bar.handler)
        // Data classes are matched to the bundle's by name; unknown ones are reported.
        if !scored.unseenClasses.isEmpty { CLIOutput.log("warning: \(TransferError.unseenLabels(scored.unseenClasses))") }
        let report = scored.report, names = scored.labelNames(unseenPrefix: "(unseen) ")
        if let path = self.report {
            try HTMLReport.evaluation(report: report, classNames: names, title: "Evaluation of \(URL(fileURLWithPath: bundle).lastPathComponent) on \(source.name)",
                                      examples: scored.mistakes(in: dataset)).write(to: URL(fileURLWithPath: path), atomically: true, encoding: .utf8)
        }
        if json { return try CLIOutput.printJSON(report) }
        print(String(format: "accuracy %.4f, balanced accuracy %.4f%@ on %d examples (%@)", report.accuracy, report.balancedAccuracy,
                     report.logLoss.map { String(format: ", log-loss %.4f", $0) } ?? "", report.rows, classifier.precision.rawValue))
        print("\nclass                     precision  recall      f1  support")
        for m in report.perClass {
            let name = m.label < names.count ? names[m.label] : "class \(m.label)"
            print("\(name.padding(toLength: 24, withPad: " ", startingAt: 0))  \(String(format: "%9.4f %7.4f %7.4f %8d", m.precision, m.recall, m.f1, m.support))")
        }
        print("\nconfusion matrix (rows: truth, columns: predicted)")
        for row in report.confusionMatrix { print(row.map { String(format: "%5d", $0) }.joined()) }
    }
}
