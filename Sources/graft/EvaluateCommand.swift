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
    static let configuration = CommandConfiguration(commandName: "evaluate", abstract: "Accuracy, per-class precision/recall/F1, confusion matrix and log-loss of a bundle; MAE, RMSE and R^2 of a regression bundle (--targets); micro/macro F1, mAP and Hamming loss of a multi-label bundle (--labels).")

    @Option(help: "Bundle directory.") var bundle: String
    @Option(help: "Labelled data (built-in name, folder or CSV/JSONL).") var data: String
    @Option(help: "Which part of a built-in data set (test: its official test set, or the whole data when it has none).") var split: DataPart = .test
    @Option(help: "Only the first N examples.") var limit: Int?
    @Option(help: ModelArguments.bundlePrecisionHelp) var precision: Precision?
    @Flag(help: CLIOutput.jsonHelp) var json = false
    @Option(help: "Also write a self-contained HTML report (metrics, confusion matrix, most confident mistakes) to this file.") var report: String?
    @Flag(help: "No progress output.") var quiet = false
    @Option(help: "Regression bundles: CSV or JSONL file of the data's numeric targets, matched to its items by id, path or text-row column (docs/TASKS.md).")
    var targets: String?
    @Option(name: .customLong("target"), help: "Regression bundles: the column of --targets holding each of the bundle's targets, in its order (default: the bundle's target names).")
    var targetColumns: [String] = []
    @Option(help: "Multi-label bundles: CSV or JSONL file of the data's label lists, matched to its items like --targets.") var labels: String?
    @Option(name: .customLong("label-column"), help: "Multi-label bundles: the column of --labels holding the lists.") var labelColumn = "labels"

    func run() throws {
        let classifier = try TrainedModel(bundle: URL(fileURLWithPath: bundle), precision: precision)
        let source = classifier.manifest.task == .detection ? try DataSource.detection(data) : try DataSource.resolve(data)
        let dataset: any Dataset = split == .test ? (source.test ?? source.train) : source.train
        guard dataset.kind == classifier.input else {
            throw ValidationError("the bundle reads \(classifier.input.rawValue)s but \(data) holds \(dataset.kind.rawValue)s")
        }
        let bar = TerminalProgressBar(quiet: quiet)
        if classifier.manifest.task != .classification {
            return try evaluateTask(classifier, dataset: dataset, dataName: source.name, progress: bar.handler)
        }
        guard targets == nil, targetColumns.isEmpty, labels == nil else {
            throw ValidationError("--targets, --target and --labels go with regression and multi-label bundles; \(bundle) is a classification bundle")
        }
        let scored = try BundleEvaluation(classifier, dataset: dataset, indices: Array(0..<min(limit ?? dataset.count, dataset.count)),
                                          progress: bar.handler)
        // Data classes are matched to the bundle's by name; unknown ones are reported.
        if !scored.unseenClasses.isEmpty { CLIOutput.log("warning: \(TransferError.unseenLabels(scored.unseenClasses))") }
        let report = scored.report, names = scored.labelNames(unseenPrefix: "(unseen) ")
        if let path = self.report {
            try HTMLReport.evaluation(report: report, classNames: names, title: "Evaluation of \(URL(fileURLWithPath: bundle).lastPathComponent) on \(source.name)",
                                      examples: scored.mistakes(in: dataset)).write(to: URL(fileURLWithPath: path), atomically: true, encoding: .utf8)
        }
        if json { return try CLIOutput.printJSON(ComputedIn(report, precision: classifier.precision)) }
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

extension EvaluateCommand {
    /// Regression and multi-label bundles: the data's targets from --targets or --labels, the task's metrics.
    func evaluateTask(_ model: TrainedModel, dataset: any Dataset, dataName: String, progress: ProgressHandler?) throws {
        let names = model.classNames
        let targeted: any Dataset
        switch model.manifest.task {
        case .regression:
            guard let targets, labels == nil else { throw ValidationError("\(bundle) is a regression bundle: give the data's values with --targets FILE") }
            let columns = targetColumns.isEmpty ? names : targetColumns
            guard columns.count == names.count else {
                throw ValidationError("\(bundle) predicts \(names.count) targets (\(names.joined(separator: ", "))); --target names \(columns.count)")
            }
            targeted = try TargetedDataset(dataset, regression: RegressionTargets(contentsOf: URL(fileURLWithPath: targets), columns: columns), dataName: dataName)
        case .multiLabel:
            guard let labels, targets == nil, targetColumns.isEmpty else {
                throw ValidationError("\(bundle) is a multi-label bundle: give the data's label lists with --labels FILE")
            }
            let file = try MultiLabelTargets(contentsOf: URL(fileURLWithPath: labels), column: labelColumn, names: names)
            targeted = try TargetedDataset(dataset, multiLabel: file, dataName: dataName)
        case .detection:
            guard targets == nil, targetColumns.isEmpty, labels == nil else { throw ValidationError("\(bundle) is a detection bundle: its data's boxes come with --data") }
            targeted = dataset
        case .classification:
            throw ValidationError("\(bundle) is a classification bundle: its metrics come without --targets or --labels")
        }
        let evaluation = try TaskEvaluation(model, dataset: targeted, indices: Array(0..<min(limit ?? targeted.count, targeted.count)),
                                            progress: progress)
        if let path = report {
            try HTMLReport.taskEvaluation(evaluation.metrics, names: names, scored: evaluation.scored,
                                          title: "Evaluation of \(URL(fileURLWithPath: bundle).lastPathComponent) on \(dataName)")
                .write(to: URL(fileURLWithPath: path), atomically: true, encoding: .utf8)
        }
        if json { return try CLIOutput.printJSON(ComputedIn(evaluation.metrics, precision: model.precision)) }
        print(evaluation.metrics.summaryLine)
        switch evaluation.metrics {
        case let .regression(r):
            print("\ntarget                          MAE      RMSE       R^2")
            for (t, name) in zip(r.perTarget, names) {
                print("\(name.padding(toLength: 24, withPad: " ", startingAt: 0))  \(String(format: "%8.4f  %8.4f  %8.4f", t.meanAbsoluteError, t.rootMeanSquaredError, t.r2))")
            }
        case let .multiLabel(m):
            print("\nlabel                     precision  recall      f1      ap  support")
            for l in m.perLabel {
                let name = l.label < names.count ? names[l.label] : "label \(l.label)"
                print("\(name.padding(toLength: 24, withPad: " ", startingAt: 0))  \(String(format: "%9.4f %7.4f %7.4f %7.4f %8d", l.precision, l.recall, l.f1, l.averagePrecision, l.support))")
            }
        case let .detection(d):
            print("\nclass                      AP@0.5  AP@0.5:0.95  objects")
            for c in d.perClass {
                print("\(c.name.padding(toLength: 24, withPad: " ", startingAt: 0))  \(String(format: "%8.4f  %11.4f  %7d", c.ap50, c.ap5095, c.objects))")
            }
        }
    }
}
