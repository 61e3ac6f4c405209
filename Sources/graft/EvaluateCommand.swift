import ArgumentParser
import Foundation
import Graft

/// `graft evaluate`: a bundle's metrics on labelled data.
struct EvaluateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "evaluate", abstract: "Accuracy, per-class precision/recall/F1, confusion matrix and log-loss of a bundle.")

    @Option(help: "Bundle directory.") var bundle: String
    @Option(help: "Labelled data (built-in name, folder or CSV/JSONL).") var data: String
    @Option(help: "train or test (built-ins with an official test set).") var split: String = "test"
    @Option(help: "Only the first N examples.") var limit: Int?
    @Flag(help: "JSON output.") var json = false
    @Option(help: "Also write a self-contained HTML report (metrics, confusion matrix, most confident mistakes) to this file.") var report: String?
    @Flag(help: "No progress bar.") var quiet = false

    func run() throws {
        let classifier = try TrainedClassifier(bundle: URL(fileURLWithPath: bundle))
        let source = try DataSource.resolve(data)
        let dataset: any Dataset = split == "test" ? (source.test ?? source.train) : source.train
        // Data classes are matched to the bundle's by name; unknown ones are reported.
        let unseen = dataset.classNames.filter { !classifier.classNames.contains($0) }
        if !unseen.isEmpty { FileHandle.standardError.write(Data("warning: \(TransferError.unseenLabels(unseen))\n".utf8)) }
        let mapping = dataset.classNames.map { classifier.classNames.firstIndex(of: $0) ?? -1 }
        let indices = Array(0..<min(limit ?? dataset.count, dataset.count))
        let loader = BatchLoader(dataset: dataset, indices: indices, preprocessing: classifier.preprocessing ?? Preprocessing(inputSize: 1),
                                 options: .init(batchSize: 32))
        var truth: [Int] = [], predicted: [Int] = [], probs: [Float] = []
        var rows = (labels: [Int](), ids: [String](), indices: [Int](), confidence: [Float]())  // for the HTML report
        let meter = ProgressMeter(phase: .evaluating, total: indices.count)
        let bar = TerminalProgressBar(enabled: !quiet)
        while let batch = try loader.next() {
            guard batch.count > 0 else { continue }
            let p = try classifier.probabilities(batch)
            for (row, label) in zip(p, batch.labels) {
                truth.append(mapping[label] >= 0 ? mapping[label] : classifier.classNames.count + label)
                predicted.append(row.enumerated().max { $0.element < $1.element }!.offset)
                probs += row
                rows.confidence.append(row.max() ?? 0)
            }
            rows.labels += batch.labels; rows.ids += batch.ids; rows.indices += batch.indices
            bar.draw(meter.event(completed: truth.count))
        }
        let k = classifier.classNames.count
        let scored = try ClassificationReport(truth: truth, predicted: predicted,
                                              probabilities: FeatureMatrix(rows: truth.count, columns: k, values: probs),
                                              trainedClasses: Array(0..<k))
        let report = scored
        if let path = self.report {
            // Mistakes are judged by class name: the data set's classes against the bundle's.
            let predictions = try ItemPredictions(indices: rows.indices, ids: rows.ids, truth: rows.labels, predicted: predicted,
                                                  confidence: rows.confidence)
            let examples = Misclassifications.mostConfident(predictions, dataset: dataset, predictedClassNames: classifier.classNames, k: 16)
            let names = classifier.classNames + dataset.classNames.map { "(unseen) \($0)" }
            try HTMLReport.evaluation(report: report, classNames: names, title: "Evaluation of \(URL(fileURLWithPath: bundle).lastPathComponent) on \(source.name)",
                                      examples: examples).write(to: URL(fileURLWithPath: path), atomically: true, encoding: .utf8)
        }
        if json {
            let enc = JSONEncoder(); enc.outputFormatting = [.prettyPrinted, .sortedKeys]
            print(String(decoding: try enc.encode(report), as: UTF8.self))
            return
        }
        print(String(format: "accuracy %.4f, balanced accuracy %.4f%@ on %d examples", report.accuracy, report.balancedAccuracy,
                     report.logLoss.map { String(format: ", log-loss %.4f", $0) } ?? "", report.rows))
        print("\nclass                     precision  recall      f1  support")
        for m in report.perClass {
            let name = m.label < k ? classifier.classNames[m.label] : "(unseen) \(dataset.classNames[m.label - k])"
            print("\(name.padding(toLength: 24, withPad: " ", startingAt: 0))  \(String(format: "%9.4f %7.4f %7.4f %8d", m.precision, m.recall, m.f1, m.support))")
        }
        print("\nconfusion matrix (rows: truth, columns: predicted)")
        for row in report.confusionMatrix { print(row.map { String(format: "%5d", $0) }.joined()) }
    }
}
