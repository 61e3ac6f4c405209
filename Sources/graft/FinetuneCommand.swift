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

/// Options shared by `graft finetune` and `graft train`: the data, the split, the training overrides.
struct TrainingArguments: ParsableArguments {
    @Option(help: "Data set (built-in name, folder or CSV/JSONL).") var data: String
    @Option(name: .customLong("validation-data"), help: "Separate validation data (else held out of --data).") var validationData: String?
    @Option(name: .customLong("test-data"), help: "Separate test data (else the official test set, or held out of --data).") var testData: String?
    @Option(help: "Output bundle directory.") var out: String
    @Option(name: .customLong("per-class"), help: "Training examples per class (few-shot).") var perClass: Int?
    @Option(name: .customLong("validation-per-class"), help: "Validation examples per class (at most half of a class; default: a fifth of the training examples per class, 10 to 250).")
    var validationPerClass: Int?
    @Option(name: .customLong("test-count"), help: "Test examples (0: none).") var testCount: Int = 2000
    // Unset options keep the backbone's measured defaults, the ones `graft compare` and the library use.
    @Option(help: "Epochs (default: 4 fine-tuning images, 3 text, 15 from scratch).") var epochs: Int?
    @Option(help: "A budget of optimizer steps instead of --epochs: exactly this many steps, the schedule spread over them.") var steps: Int?
    @Option(help: "Learning rate of the head (default: AdamW 5e-4 images, 2e-3 text; from scratch SGD 0.05), or 'auto': a learning-rate range test on the warm-started network picks it (docs/TRANSFER.md).")
    var lr: LearningRateArgument?
    @Option(name: .customLong("trunk-lr-scale"), help: "Discriminative learning rate factor for unfrozen trunk layers (default 0.2).") var trunkScale: Float?
    @Option(help: "Batch size (default 16 fine-tuning, 32 from scratch).") var batch: Int?
    @Option(help: "Optimizer.") var optimizer: TrainingOptions.OptimizerKind?
    @Option(help: "LR schedule.") var schedule: TrainingOptions.ScheduleKind?
    @Option(name: .customLong("weight-decay"), help: "Weight decay (weights only).") var weightDecay: Float?
    @Option(name: .customLong("label-smoothing"), help: "Label smoothing (default 0.1).") var labelSmoothing: Float?
    @Option(help: "Early-stopping patience in epochs (0: off).") var patience: Int?
    @Option(help: "Training augmentation: auto (crop, flip, jitter; flip only for images at most a third of the input side), full, flip or none.")
    var augment: AugmentChoice = .auto
    @Flag(name: .customLong("no-augment"), help: "Same as --augment none.") var noAugment = false
    @Flag(name: .customLong("adapt-bn"), help: "AdaBN: re-estimate the batch norms' statistics on the training data before fine-tuning.")
    var adaptBatchNorm = false
    @Option(name: .customLong("frozen-precision"), help: "Run the frozen trunk as at inference (no dropout, fused kernels) in fp32, bf16 or int8 (text encoders) while the unfrozen layers train in fp32 (docs/TRANSFER.md). Default: the frozen layers train-mode with the rest.")
    var frozenPrecision: Precision?
    @Flag(name: .customLong("no-probe"), help: "Fine-tune from a random head instead of LP-FT's logistic-regression warm start.") var noProbe = false
    @Flag(help: "Continue from the last checkpoint of the same job.") var resume = false
    @Option(help: "Seed.") var seed: UInt64 = 0
    @Flag(help: CLIOutput.jsonHelp) var json = false
    @Flag(help: "No progress output.") var quiet = false
    @Option(help: "Also write a self-contained HTML report (training curves, test metrics, confusion matrix, most confident mistakes) to this file.") var report: String?
    @OptionGroup var taskOptions: TaskArguments

    func validate() throws {
        guard (validationPerClass ?? 0) >= 0, testCount >= 0 else { throw ValidationError("--validation-per-class and --test-count cannot be negative") }
        guard (steps ?? 1) > 0 else { throw ValidationError("--steps must be positive") }
        guard steps == nil || epochs == nil else { throw ValidationError("--steps replaces --epochs: give one of them") }
    }

    /// The job's options; checkpoints go beside the bundle (`OUT.checkpoint`).
    func options() -> JobOptions {
        let bundle = URL(fileURLWithPath: out)
        var o = JobOptions(workDirectory: bundle.deletingLastPathComponent().appendingPathComponent(bundle.lastPathComponent + ".checkpoint"))
        o.bundle = bundle
        o.perClass = perClass
        o.validation = validationPerClass.map { .perClass($0) } ?? .auto
        o.testCount = testCount
        o.seed = seed
        o.linearProbe = !noProbe
        o.resume = resume
        var t = TrainingOverrides()
        t.epochs = epochs; t.steps = steps; t.trunkLearningRateScale = trunkScale; t.batchSize = batch
        lr?.apply(to: &t)
        t.optimizer = optimizer; t.schedule = schedule
        t.weightDecay = weightDecay; t.labelSmoothing = labelSmoothing; t.patience = patience; t.seed = seed
        if adaptBatchNorm { t.adaptsBatchNorm = true }
        t.frozenTrunkPrecision = frozenPrecision
        switch noAugment ? .none : augment {
        case .auto: break
        case .full: t.adaptsAugmentationToInput = false
        case .flip: t.randomResizedCrop = false; t.colorJitter = false
        case .none: t.augment = false
        }
        o.training = t
        return o
    }

    func run(backbone: BackboneSpec?, strategy: Strategy, architecture: String? = nil, choosesDepth: Bool = false) throws {
        let (task, source) = try taskOptions.resolve(taskOptions.source(data, validation: validationData, test: testData))
        var options = options()
        if choosesDepth { options.training.choosesDepth = true }
        options.scratchArchitecture = architecture
        let job = TransferJob(data: source, backbone: backbone, task: task, strategy: strategy, options: options)
        let result = try job.run(progress: TerminalProgressBar(quiet: quiet).handler)
        if !quiet { CLIOutput.log("data \(source.name): \(result.split.summary)") }
        let mistakes = result.testPredictions.map { Misclassifications.mostConfident($0, dataset: source.testSet, k: 16) } ?? []
        if let report, let metrics = result.testMetrics {
            try HTMLReport.taskEvaluation(metrics, names: result.manifest.classNames, scored: result.testScores,
                                          title: "\(result.strategy.kind.rawValue): \(result.backbone.model) on \(data)",
                                          history: result.training?.history ?? [], metricName: task.metricName)
                .write(to: URL(fileURLWithPath: report), atomically: true, encoding: .utf8)
        } else if let report, let test = result.test {
            try HTMLReport.evaluation(report: test, classNames: result.manifest.classNames,
                                      title: "\(result.strategy.kind.rawValue): \(result.backbone.model) on \(data)",
                                      history: result.training?.history ?? [], examples: mistakes)
                .write(to: URL(fileURLWithPath: report), atomically: true, encoding: .utf8)
        }
        if json { return try CLIOutput.printJSON(JobSummary(result)) }
        let metric = task.metricName
        if let probe = result.probe {
            let head = switch task.kind { case .classification: "logistic regression C"; case .regression: "ridge alpha"; case .multiLabel: "one-vs-rest logistic C"; case .detection: "probe" }
            let stage = result.recipe == "SetFit" ? "head on the tuned embeddings (SetFit)" : "linear probe (LP-FT)"
            print(String(format: "%@: %@=%g on %d examples", stage, head, probe.C, probe.examples)
                  + (probe.validationAccuracy.map { String(format: ", validation %@ %.4f before fine-tuning", metric, $0) } ?? ""))
        }
        if let found = result.learningRateRangeTest {
            print(String(format: "learning-rate range test: %d steps, the loss breaks at %g (lowest at %g); training at %g",
                         found.points.count, found.breakingRate, found.minimumLossRate, found.suggested))
        }
        print("epoch  train loss  " + ("train " + metric).leftPadded(9) + "  val loss  " + ("val " + metric).leftPadded(7) + "   seconds")
        for r in result.training?.history ?? [] {
            print(String(format: "%5d  %10.4f  %9.4f  %8.4f  %7.4f  %8.1f", r.epoch + 1, r.trainLoss, r.trainAccuracy,
                         r.validationLoss ?? .nan, r.validationAccuracy ?? .nan, r.seconds))
        }
        if result.training?.keptStart == true {
            print("no epoch beat the warm-started probe on validation: the bundle holds the probe (epoch 0)")
        }
        if let t = result.test { print(String(format: "test accuracy %.4f (balanced %.4f) on %d examples", t.accuracy, t.balancedAccuracy, t.rows)) }
        if let m = result.testMetrics { print("test " + m.summaryLine) }
        print("trainable parameters \(result.trainableParameters); bundle \(out)")
    }
}

/// `--augment`: which training transforms run (`TrainingOptions`).
enum AugmentChoice: String, ExpressibleByArgument, CaseIterable { case auto, full, flip, none }

/// What `finetune`, `train` and `compare --json` print of a job.
struct JobSummary: Encodable {
    var strategy: Strategy
    var backbone: BackboneSpec
    var split: ExperimentSplit.Counts
    var trainSeconds: Double
    var trainableParameters: Int
    var recipe: String?
    var probe: NetworkRecipe.LinearProbe?
    var learningRateRangeTest: LearningRateRangeTest.Result?
    var history: [EpochRecord]?
    /// Fine-tuning: true when no epoch beat the warm start on validation, so the model is the probe.
    var keptWarmStart: Bool?
    var validation: ClassificationReport?
    var test: ClassificationReport?
    /// Regression and multi-label: the task's metrics.
    var validationMetrics: TaskMetrics?
    var testMetrics: TaskMetrics?
    var bundle: String?

    init(_ r: JobResult) {
        strategy = r.strategy; backbone = r.backbone; split = r.split.counts; trainSeconds = r.trainSeconds
        trainableParameters = r.trainableParameters; recipe = r.recipe; probe = r.probe; history = r.training?.history
        learningRateRangeTest = r.learningRateRangeTest
        keptWarmStart = r.probe == nil ? nil : r.training?.keptStart
        validation = r.validation; test = r.test; bundle = r.bundle?.path
        validationMetrics = r.validationMetrics; testMetrics = r.testMetrics
    }
}

/// `graft finetune`: new head, last K blocks unfrozen.
struct FinetuneCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "finetune", abstract: "Fine-tune the last K blocks of a pretrained model plus a new head.")

    @Option(help: "Backbone: a zoo name, or a weights file/model directory with --arch.") var model: String?
    @Option(help: "Architecture of a weights file given with --model.") var arch: String?
    @Option(help: "Blocks (EfficientNet blocks, ResNet stages, BERT layers) to train, 'all', or 'auto' (by the number of training items: the new head alone below 5,000 images or 1,000 texts, else the last 5 blocks of a deep image network, 2 otherwise; docs/TRANSFER.md).")
    var unfreeze: String = "2"
    @Option(help: ModelArguments.preprocessHelp) var preprocess: String?
    @Option(name: .customLong("unfreeze-from"), help: ModelArguments.unfreezeFromHelp) var unfreezeFrom: String?
    @Flag(help: "SetFit's few-shot recipe (texts): tune every encoder layer on pairs of the labelled items with a cosine-similarity loss, then fit logistic regression on the tuned embeddings. --epochs (default 1), --lr (2e-5) and --batch (pairs per step, 16) apply to the pair tuning.")
    var contrastive = false
    @Option(help: "With --contrastive: rounds of pair drawing, each one positive and one negative pair per training item (default 20).")
    var iterations: Int?
    @OptionGroup var training: TrainingArguments

    func validate() throws {
        guard ["all", "auto"].contains(unfreeze) || (Int(unfreeze).map { $0 >= 0 } ?? false) else {
            throw ValidationError("--unfreeze takes a number >= 0, 'all' or 'auto'")
        }
        guard unfreeze != "auto" || (!contrastive && training.taskOptions.task == .classification) else {
            throw ValidationError("--unfreeze auto is measured for fine-tuning classifiers: give --unfreeze K")
        }
        guard iterations == nil || contrastive else { throw ValidationError("--iterations applies to --contrastive only") }
        guard !contrastive || (training.lr != .auto && training.steps == nil) else {
            throw ValidationError("--contrastive tunes pairs for --epochs at --lr: --lr auto and --steps apply to fine-tuning")
        }
        guard (iterations ?? 1) > 0, (training.epochs ?? 1) > 0, (training.batch ?? 1) > 0 else {
            throw ValidationError("--iterations, --epochs and --batch must be positive")
        }
    }

    func run() throws {
        let backbone = try ModelArguments.backboneSpec(model, arch: arch, preprocess: preprocess, unfreezeFrom: unfreezeFrom)
        let defaults = ContrastiveOptions()
        let strategy: Strategy = contrastive
            ? .contrastive(ContrastiveOptions(iterations: iterations ?? defaults.iterations, epochs: training.epochs ?? defaults.epochs,
                                              learningRate: training.lr?.value ?? defaults.learningRate, batchSize: training.batch ?? defaults.batchSize))
            : .fineTune(unfreeze: Int(unfreeze))
        try training.run(backbone: backbone, strategy: strategy, choosesDepth: unfreeze == "auto")
    }
}

/// `graft train --from-scratch`: the baseline without pretrained knowledge.
struct TrainCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "train", abstract: "Train a network from random initialisation (the baseline).")

    @Flag(name: .customLong("from-scratch"), help: "Random initialisation (required: the only mode of `train`).") var fromScratch = false
    @Option(help: "Architecture for images: small-cnn (default, sized for small images) or any of `graft models --all`; texts use a random-init BERT of the text backbone.")
    var arch: String?
    @Option(help: "Text backbone whose architecture is re-initialised (default all-minilm-l6-v2).") var model: String?
    @OptionGroup var training: TrainingArguments

    func validate() throws { guard fromScratch else { throw ValidationError("`graft train` needs --from-scratch; use `graft finetune` for pretrained models") } }

    func run() throws {
        let backbone = try model.map { try BackboneSpec.named($0) }
        try training.run(backbone: backbone, strategy: .fromScratch, architecture: arch)
    }
}
