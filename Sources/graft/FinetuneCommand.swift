import ArgumentParser
import Foundation
import Graft

/// Options shared by `graft finetune` and `graft train`.
struct TrainingArguments: ParsableArguments {
    @Option(help: "Data set (built-in name, folder or CSV/JSONL).") var data: String
    @Option(help: "Output bundle directory.") var out: String
    @Option(name: .customLong("per-class"), help: "Training examples per class (few-shot).") var perClass: Int?
    // Unset options keep the recipe's defaults (`NetworkRecipe.defaultOptions`), the ones `graft compare` and the library use.
    @Option(help: "Epochs (default: 4 fine-tuning images, 3 text, 15 from scratch).") var epochs: Int?
    @Option(help: "Learning rate of the head (default: AdamW 5e-4 images, 2e-3 text; from scratch SGD 0.05).") var lr: Float?
    @Option(name: .customLong("trunk-lr-scale"), help: "Discriminative learning rate factor for unfrozen trunk layers (default 0.2).") var trunkScale: Float?
    @Option(help: "Batch size (default 16 fine-tuning, 32 from scratch).") var batch: Int?
    @Option(help: "sgd or adamw.") var optimizer: String?
    @Option(help: "cosine, one-cycle or constant.") var schedule: String?
    @Option(name: .customLong("weight-decay"), help: "Weight decay (weights only).") var weightDecay: Float?
    @Option(name: .customLong("label-smoothing"), help: "Label smoothing (default 0.1).") var labelSmoothing: Float?
    @Option(help: "Early-stopping patience in epochs (0: off).") var patience: Int?
    @Flag(name: .customLong("no-augment"), help: "Disable random resized crop, flip and colour jitter.") var noAugment = false
    @Flag(name: .customLong("no-probe"), help: "Fine-tune from a random head instead of LP-FT's logistic-regression warm start.") var noProbe = false
    @Flag(help: "Continue from the last checkpoint of the same job.") var resume = false
    @Option(help: "Seed.") var seed: UInt64 = 0
    @Flag(help: "No progress bar.") var quiet = false
    @Option(help: "Also write a self-contained HTML report (training curves, test metrics, confusion matrix, most confident mistakes) to this file.") var report: String?

    func overrides() throws -> TrainingOverrides {
        var o = TrainingOverrides()
        o.epochs = epochs; o.learningRate = lr; o.trunkLearningRateScale = trunkScale; o.batchSize = batch
        o.weightDecay = weightDecay; o.labelSmoothing = labelSmoothing; o.patience = patience; o.seed = seed
        if let optimizer {
            guard let kind = TrainingOptions.OptimizerKind(rawValue: optimizer) else { throw ValidationError("--optimizer must be sgd or adamw") }
            o.optimizer = kind
        }
        if let schedule {
            guard let kind = TrainingOptions.ScheduleKind(rawValue: schedule) else { throw ValidationError("--schedule must be cosine, one-cycle or constant") }
            o.schedule = kind
        }
        if noAugment { o.augment = false }
        return o
    }

    func run(_ job: NetworkTraining) throws {
        var job = job
        job.perClass = perClass
        job.options = try overrides()
        job.linearProbe = !noProbe
        job.resume = resume
        job.progress = TerminalProgressBar(enabled: !quiet).handler
        let outcome = try job.run(out: URL(fileURLWithPath: out))
        if let probe = outcome.probe {
            print(String(format: "linear probe (LP-FT): logistic regression C=%g on %d examples", probe.C, probe.examples)
                  + (probe.validationAccuracy.map { String(format: ", validation accuracy %.4f before fine-tuning", $0) } ?? ""))
        }
        print("epoch  train loss  train acc  val loss  val acc   seconds")
        for r in outcome.training.history {
            print(String(format: "%5d  %10.4f  %9.4f  %8.4f  %7.4f  %8.1f", r.epoch + 1, r.trainLoss, r.trainAccuracy,
                         r.validationLoss ?? .nan, r.validationAccuracy ?? .nan, r.seconds))
        }
        if let t = outcome.test { print(String(format: "test accuracy %.4f (balanced %.4f) on %d examples", t.accuracy, t.balancedAccuracy, t.rows)) }
        print("trainable parameters \(outcome.training.trainableParameters); bundle \(out)")
        if let report, let test = outcome.test {
            try HTMLReport.evaluation(report: test, classNames: outcome.manifest.classNames,
                                      title: "\(outcome.manifest.strategy.rawValue): \(outcome.manifest.model) on \(data)",
                                      history: outcome.training.history, examples: outcome.mistakes)
                .write(to: URL(fileURLWithPath: report), atomically: true, encoding: .utf8)
        }
    }
}

/// `graft finetune`: new head, last K blocks unfrozen.
struct FinetuneCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "finetune", abstract: "Fine-tune the last K blocks of a pretrained model plus a new head.")

    @Option(help: "Pretrained model (zoo name).") var model: String?
    @Option(help: "Blocks (EfficientNet blocks, ResNet stages, BERT layers) to train, or 'all'.") var unfreeze: String = "2"
    @OptionGroup var training: TrainingArguments

    func run() throws {
        var job = NetworkTraining(data: training.data)
        job.model = model
        if unfreeze == "all" { job.unfreeze = nil } else {
            guard let k = Int(unfreeze), k >= 0 else { throw ValidationError("--unfreeze takes a number or 'all'") }
            job.unfreeze = k
        }
        try training.run(job)
    }
}

/// `graft train --from-scratch`: the baseline without pretrained knowledge.
struct TrainCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "train", abstract: "Train a network from random initialisation (the baseline).")

    @Flag(name: .customLong("from-scratch"), help: "Random initialisation (required: the only mode of `train`).") var fromScratch = false
    @Option(help: "Architecture: small-cnn (default, sized for small images) or any of `graft models --all`.") var arch: String = "small-cnn"
    @OptionGroup var training: TrainingArguments

    func validate() throws { guard fromScratch else { throw ValidationError("`graft train` needs --from-scratch; use `graft finetune` for pretrained models") } }

    func run() throws {
        var job = NetworkTraining(data: training.data)
        job.model = arch
        job.fromScratch = true
        job.unfreeze = nil
        try training.run(job)
    }
}
