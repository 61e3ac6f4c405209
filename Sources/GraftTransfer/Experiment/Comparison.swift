import Foundation
import GraftData
import GraftTensor

/// The article's claim made measurable: on one seeded split, train from
/// scratch, fit logistic regression and a linear SVM on pretrained features,
/// and fine-tune the last K blocks; report accuracy, time and trainable size.
/// It is `TransferJob` run once per strategy on one split, nothing more.
public struct Comparison {
    public var data: String = "fashion-mnist"
    /// Separate validation / test data (any spec `DataSource.resolve` takes).
    public var validationData: String?
    public var testData: String?
    /// The pretrained backbone (`BackboneSpec.named`, `.onnx(...)`); nil picks the default for the data's kind.
    public var backbone: BackboneSpec?
    /// What the models predict: classification, or detection (`data` then names detection data, and the
    /// strategies train a YOLO at `inputSize`: from scratch, heads only, last K blocks).
    public var task: TaskKind = .classification
    /// Detection: the detector's square input side (nil: its cfg's).
    public var inputSize: Int?
    public var perClass: Int? = 20
    /// Validation examples per class; nil: `ValidationSplit.auto`.
    public var validationPerClass: Int? = nil
    public var testCount = 1000
    public var seed: UInt64 = 0
    /// Run in this order; `.fineTune(unfreeze:)` says how many blocks.
    public var strategies: [Strategy] = [.fromScratch, .featureExtraction(head: .logisticRegression),
                                         .featureExtraction(head: .linearSVM), .fineTune(unfreeze: 2)]
    /// What the feature-extraction rows compute their features in (`JobOptions.precision`); network rows train in fp32.
    public var precision: Precision = .fp32
    /// Changes to the backbone's training defaults for fine-tuning (LP-FT) and for training from scratch.
    public var fineTuning = TrainingOverrides()
    public var scratchTraining = TrainingOverrides()
    /// Where feature stores and checkpoints go.
    public var workDirectory: URL
    public var progress: ProgressHandler?
    public var log: @Sendable (String) -> Void = { _ in }

    public init(workDirectory: URL) { self.workDirectory = workDirectory }

    public func run() throws -> ComparisonResult {
        let source = task == .detection ? try DataSource.detection(data, validation: validationData, test: testData)
            : try DataSource.resolve(data, validation: validationData, test: testData)
        let jobTask: any TransferTask = task == .detection ? DetectionTask(classNames: source.classNames, inputSize: inputSize) : ClassificationTask()
        var options = JobOptions(workDirectory: workDirectory)
        options.perClass = perClass
        options.validation = validationPerClass.map { .perClass($0) } ?? .auto
        options.testCount = testCount
        options.seed = seed
        options.precision = precision
        // The validation items serve early stopping; heads choose C by cross-validation and see them too.
        options.headSeesValidation = true
        let backbone = try jobTask.backboneSpec(self.backbone)
        let base = TransferJob(data: source, backbone: backbone, task: jobTask, strategy: .fromScratch, options: options)
        let split = try base.split()
        let pretrained = backbone ?? .defaultPretrained(for: source.kind)
        if precision != .fp32, strategies.contains(where: { $0.kind == .featureExtraction }) {
            try Backbones.load(pretrained).requirePrecision(precision)   // before any row trains
        }
        log("data \(source.name): \(split.summary); model \(pretrained.model)")
        var result = ComparisonResult(data: source.name, model: pretrained.model, classNames: source.classNames,
                                      trainCount: split.train.count, validationCount: split.validation.count, testCount: split.test.count,
                                      perClass: perClass, seed: seed, outcomes: [], task: task)
        var extractSeconds: Double?  // the feature strategies share one store: each row counts its extraction
        for strategy in strategies {
            log("\(strategy.title) ...")
            var job = base
            job.strategy = strategy
            switch strategy {
            case .fromScratch:
                job.options.training = scratchTraining
                job.options.workDirectory = workDirectory.appendingPathComponent("scratch")
            case let .fineTune(k):
                job.options.training = fineTuning
                job.options.workDirectory = workDirectory.appendingPathComponent("finetune" + (k.map { "-\($0)" } ?? "-all"))
            case .contrastive:
                job.options.workDirectory = workDirectory.appendingPathComponent("contrastive")
            case .featureExtraction:
                break  // both heads share the feature stores in workDirectory
            }
            var r = try job.run(split: split, progress: progress)
            if let e = r.extractSeconds {
                if let first = extractSeconds { r.trainSeconds += first - e } else { extractSeconds = e }
            }
            if case let .detection(d)? = r.testMetrics {
                result.outcomes.append(StrategyOutcome(strategy: strategy.title, detail: r.detail, accuracy: d.map50, balancedAccuracy: d.map5095,
                                                       trainSeconds: r.trainSeconds, trainableParameters: r.trainableParameters, report: nil,
                                                       metrics: r.testMetrics, history: r.training?.history))
                continue
            }
            guard let report = r.test else { throw TransferError.emptyData("\(source.name) left no test items for the comparison") }
            result.outcomes.append(StrategyOutcome(strategy: strategy.title, detail: r.detail, accuracy: report.accuracy,
                                                   balancedAccuracy: report.balancedAccuracy, trainSeconds: r.trainSeconds,
                                                   trainableParameters: r.trainableParameters, report: report,
                                                   history: r.training?.history, predictions: r.testPredictions,
                                                   probe: r.probe, bestValidationScore: r.training?.bestValidationAccuracy,
                                                   learningRateRangeTest: r.learningRateRangeTest))
        }
        return result
    }
}
