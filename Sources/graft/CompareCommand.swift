import ArgumentParser
import Foundation
import Graft

/// `graft compare`: every strategy on one seeded split, one table.
struct CompareCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "compare",
        abstract: "Compare training from scratch, features + logistic regression / linear SVM, and fine-tuning on one split.")

    @Option(help: "Data set: fashion-mnist, digits, rotten-tomatoes, a folder of class folders, or a CSV/JSONL file.")
    var data: String?
    @Flag(help: "Use the text default (rotten-tomatoes with all-minilm-l6-v2).")
    var text = false
    @Option(help: "Pretrained model (zoo name). Default: efficientnet-lite0 for images, all-minilm-l6-v2 for text.")
    var model: String?
    @Option(name: .customLong("per-class"), help: "Training examples per class (few-shot).")
    var perClass: Int = 20
    @Option(name: .customLong("validation-per-class"),
            help: "Validation examples per class, held out of the training pool for early stopping and the best checkpoint.")
    var validationPerClass: Int = 5
    @Option(name: .customLong("test-count"), help: "Test examples (stratified).")
    var testCount: Int = 1000
    @Option(help: "Blocks (image) or encoder layers (text) to fine-tune.")
    var unfreeze: Int = 2
    @Option(help: "Fine-tuning epochs (default: 4 images, 3 text).")
    var epochs: Int?
    @Option(help: "Strategies to run, comma separated: scratch,logreg,svm,finetune.")
    var strategies: String = "scratch,logreg,svm,finetune"
    @Option(help: "Seed of the split and of every initialisation.")
    var seed: UInt64 = 0
    @Option(help: "Working directory for feature stores and checkpoints.")
    var work: String?
    @Option(help: "Write the result as JSON to this file.")
    var json: String?
    @Option(help: "Write a self-contained HTML report (table, curves, confusion matrices, mistakes) to this file.")
    var report: String?
    @Flag(help: "No progress bars.")
    var quiet = false

    func validate() throws {
        guard validationPerClass >= 1 else { throw ValidationError("--validation-per-class must be at least 1") }
    }

    func run() throws {
        let dataName = data ?? (text ? "rotten-tomatoes" : "fashion-mnist")
        let workURL = URL(fileURLWithPath: work ?? GraftHome.url.appendingPathComponent("runs/compare-\(dataName.replacingOccurrences(of: "/", with: "_"))").path)
        var c = Comparison(workDirectory: workURL)
        c.data = dataName
        c.model = model
        c.perClass = perClass
        c.validationPerClass = validationPerClass
        c.testCount = testCount
        c.unfreeze = unfreeze
        c.fineTuning.epochs = epochs
        c.seed = seed
        c.strategies = try strategies.split(separator: ",").map {
            guard let s = Comparison.Strategy(rawValue: String($0)) else { throw ValidationError("unknown strategy '\($0)'") }
            return s
        }
        let bar = TerminalProgressBar(enabled: !quiet)
        c.progress = bar.handler
        c.log = { msg in if !quiet { FileHandle.standardError.write(Data("\(msg)\n".utf8)) } }
        let result = try c.run()
        print(result.table)
        if let json {
            let enc = JSONEncoder(); enc.outputFormatting = [.prettyPrinted, .sortedKeys]
            try enc.encode(result).write(to: URL(fileURLWithPath: json), options: .atomic)
        }
        if let report {
            // The best strategy's most confident mistakes, items reloaded from the test data.
            var examples: [MisclassifiedExample] = []
            if let predictions = result.bestOutcome?.predictions {
                let source = try DataSource.resolve(dataName)
                examples = Misclassifications.mostConfident(predictions, dataset: source.test ?? source.train, k: 16)
            }
            try HTMLReport.comparison(result, examples: examples).write(to: URL(fileURLWithPath: report), atomically: true, encoding: .utf8)
            if !quiet { FileHandle.standardError.write(Data("wrote \(report)\n".utf8)) }
        }
    }
}
