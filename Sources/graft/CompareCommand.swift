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

/// `graft compare`: every strategy on one seeded split, one table.
struct CompareCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "compare",
        abstract: "Compare training from scratch, features + logistic regression / linear SVM / class prototypes / k-NN, and fine-tuning on one split.")

    @Option(help: "Data set: fashion-mnist, digits, rotten-tomatoes, a folder of class folders, or a CSV/JSONL file.")
    var data: String?
    @Option(name: .customLong("validation-data"), help: "Separate validation data (else held out of --data).") var validationData: String?
    @Option(name: .customLong("test-data"), help: "Separate test data (else the official test set, or held out of --data).") var testData: String?
    @Flag(help: "Use the text default (rotten-tomatoes with all-minilm-l6-v2).")
    var text = false
    @Option(help: "Backbone: a zoo name, or a weights file/model directory with --arch. Default: efficientnet-lite0 for images, all-minilm-l6-v2 for text.")
    var model: String?
    @Option(help: "Architecture of a weights file given with --model.") var arch: String?
    @Option(help: ModelArguments.preprocessHelp) var preprocess: String?
    @Option(name: .customLong("unfreeze-from"), help: ModelArguments.unfreezeFromHelp) var unfreezeFrom: String?
    @Option(name: .customLong("per-class"), help: "Training examples per class (few-shot; default 20, detection: every training image).")
    var perClass: Int?
    @Option(name: .customLong("validation-per-class"),
            help: "Validation examples per class, held out of the training pool for early stopping and the best checkpoint (default: a fifth of --per-class, 10 to 250).")
    var validationPerClass: Int?
    @Option(name: .customLong("test-count"), help: "Test examples (stratified).")
    var testCount: Int = 1000
    @Option(help: "Blocks (image) or encoder layers (text) to fine-tune, or 'auto' (by the number of training items: the new head alone below 5,000 images or 1,000 texts, else the last 5 blocks of a deep image network, 2 otherwise).")
    var unfreeze: String = "2"
    @Option(help: "Fine-tuning epochs (default: 4 images, 3 text).")
    var epochs: Int?
    @Option(help: "Fine-tuning: a budget of optimizer steps instead of --epochs.")
    var steps: Int?
    @Option(help: "Fine-tuning: the head's learning rate, or 'auto' (a range test on the warm-started network picks it).")
    var lr: LearningRateArgument?
    @Option(help: "Pair iterations of the contrastive strategy (SetFit; default 20).")
    var iterations: Int = 20
    // Default: scratch,logreg,svm,finetune; with --task detect scratch,heads,finetune (said in --task's help).
    @Option(help: "Strategies to run, comma separated, in order.")
    var strategies: StrategyList?
    @Option(help: "What the feature-extraction rows compute their features in: fp32, bf16 (CPUs with bf16) or int8 (text encoders, or an image network from `graft quantize` given with --model FILE --arch A); network rows train in fp32.")
    var precision: Precision = .fp32
    @Option(name: .customLong("frozen-precision"), help: "Fine-tuning rows: run the frozen trunk as at inference in fp32, bf16 or int8 (text encoders) while the unfrozen layers train in fp32 (docs/TRANSFER.md).")
    var frozenPrecision: Precision?
    @Option(help: "Seed of the split and of every initialisation.")
    var seed: UInt64 = 0
    @Option(help: "Working directory for feature stores and checkpoints.")
    var work: String?
    @Option(help: "classification, or detect: --data names detection data (default the built-in 'faces'), the strategies (default scratch,heads,finetune: heads trains only the new heads, finetune the last --unfreeze blocks too) train a YOLO and the table reports test mAP.")
    var task: TaskKind = .classification
    @Option(name: .customLong("input-size"), help: "Detection: the detector's square input side (default: its cfg's, 416).")
    var inputSize: Int?
    @Flag(help: "Print the result as JSON on stdout instead of the table.")
    var json = false
    @Option(help: "Write a self-contained HTML report (table, curves, confusion matrices, mistakes) to this file.")
    var report: String?
    @Flag(help: "No progress output.")
    var quiet = false

    func validate() throws {
        guard (validationPerClass ?? 1) >= 1 else { throw ValidationError("--validation-per-class must be at least 1") }
        guard unfreeze == "auto" || (Int(unfreeze).map { $0 >= 0 } ?? false) else { throw ValidationError("--unfreeze takes a number >= 0 or 'auto'") }
        guard unfreeze != "auto" || (task == .classification && !(strategies?.names.contains("heads") ?? false)) else {
            throw ValidationError("--unfreeze auto is measured for fine-tuning classifiers (not --task detect or the heads strategy)")
        }
        guard task == .classification || task == .detection else { throw ValidationError("compare runs --task classification or detect") }
        guard inputSize == nil || task == .detection else { throw ValidationError("--input-size goes with --task detect") }
        if task == .detection, let bad = strategies?.names.first(where: { !["scratch", "heads", "finetune"].contains($0) }) {
            throw ValidationError("--task detect compares scratch, heads and finetune; '\(bad)' fits a feature head")
        }
        guard iterations > 0 else { throw ValidationError("--iterations must be positive") }
        guard (steps ?? 1) > 0 else { throw ValidationError("--steps must be positive") }
        guard steps == nil || epochs == nil else { throw ValidationError("--steps replaces --epochs: give one of them") }
    }

    func run() throws {
        let dataName = data ?? (task == .detection ? "faces" : text ? "rotten-tomatoes" : "fashion-mnist")
        let workURL = URL(fileURLWithPath: work ?? GraftHome.url.appendingPathComponent("runs/compare-\(dataName.replacingOccurrences(of: "/", with: "_"))").path)
        var c = Comparison(workDirectory: workURL)
        c.data = dataName
        c.validationData = validationData
        c.testData = testData
        c.backbone = try ModelArguments.backboneSpec(model, arch: arch, preprocess: preprocess, unfreezeFrom: unfreezeFrom)
        c.task = task
        c.inputSize = inputSize
        c.perClass = perClass ?? (task == .detection ? nil : 20)
        c.validationPerClass = validationPerClass
        c.testCount = testCount
        c.fineTuning.epochs = epochs
        c.fineTuning.steps = steps
        lr?.apply(to: &c.fineTuning)
        c.fineTuning.frozenTrunkPrecision = frozenPrecision
        c.precision = precision
        try precision.requireSupport()
        try frozenPrecision?.requireSupport()
        c.seed = seed
        let names = strategies?.names ?? (task == .detection ? ["scratch", "heads", "finetune"] : ["scratch", "logreg", "svm", "finetune"])
        if unfreeze == "auto" { c.fineTuning.choosesDepth = true }
        c.strategies = names.compactMap { Strategy(shortName: $0, unfreeze: Int(unfreeze) ?? 2, contrastive: ContrastiveOptions(iterations: iterations)) }
        c.progress = TerminalProgressBar(quiet: quiet).handler
        c.log = { msg in if !quiet { CLIOutput.log(msg) } }
        let result = try c.run()
        if json { try CLIOutput.printJSON(result) } else { print(result.table) }
        if let report {
            // The best strategy's most confident mistakes, items reloaded from the test data.
            var examples: [MisclassifiedExample] = []
            if task == .classification, let predictions = result.bestOutcome?.predictions {
                let source = try DataSource.resolve(dataName, validation: validationData, test: testData)
                examples = Misclassifications.mostConfident(predictions, dataset: source.testSet, k: 16)
            }
            try HTMLReport.comparison(result, examples: examples).write(to: URL(fileURLWithPath: report), atomically: true, encoding: .utf8)
            if !quiet { CLIOutput.log("wrote \(report)") }
        }
    }
}
