import Foundation
import GraftData
import GraftDistributed
import GraftHeads

/// The one job path: `data + backbone + task + strategy + options -> trained model + report`.
///
/// The Swift API (`ImageClassifier.train`, `TextClassifier.train`), every CLI command that trains
/// (`finetune`, `train`, `compare`; `extract` and `fit` run its feature stages one at a time) and
/// `graft compare` (this job once per strategy on one split) run it. A new task, backbone or
/// execution mode comes in through `TransferTask`, `Backbone` or `JobOptions`, not a new pipeline.
public struct TransferJob {
    public var data: DataSource
    /// The pretrained backbone; nil picks the default for the data's input.
    public var backbone: BackboneSpec?
    public var task: any TransferTask
    public var strategy: Strategy
    public var options: JobOptions

    public init(data: DataSource, backbone: BackboneSpec? = nil, task: any TransferTask = ClassificationTask(),
                strategy: Strategy, options: JobOptions) {
        self.data = data; self.backbone = backbone; self.task = task; self.strategy = strategy; self.options = options
    }

    /// The backbone this job builds on: the named or default pretrained one, or, from scratch, its random counterpart.
    public func backboneSpec() throws -> BackboneSpec {
        let pretrained = try task.backboneSpec(backbone) ?? .defaultPretrained(for: data.kind)
        guard pretrained.input == data.kind else {
            throw TransferError.unsupported("backbone \(pretrained) reads \(pretrained.input.rawValue)s, but \(data.name) holds \(data.kind.rawValue)s")
        }
        return strategy.kind == .fromScratch ? pretrained.scratch(architecture: options.scratchArchitecture) : pretrained
    }

    /// The split the job trains, validates and tests on (`ExperimentSplit`'s rules).
    public func split() throws -> ExperimentSplit {
        try ExperimentSplit.make(data, perClass: options.perClass, validation: options.validation, testCount: options.testCount,
                                 seed: options.seed)
    }

    /// Runs the job on `split` (its own when nil) and writes the bundle when `options.bundle` is set.
    public func run(split given: ExperimentSplit? = nil, progress: ProgressHandler? = nil,
                    isCancelled: @escaping @Sendable () -> Bool = { false }) throws -> JobResult {
        let split = try given ?? self.split()
        let spec = try backboneSpec()
        try FileManager.default.createDirectory(at: options.workDirectory, withIntermediateDirectories: true)
        var result = strategy.trainsNetwork
            ? try trainNetwork(spec, split: split, progress: progress, isCancelled: isCancelled)
            : try fitHead(spec, split: split, progress: progress, isCancelled: isCancelled)
        result.split = split
        if isCancelled() { throw TransferError.cancelled }
        if let bundle = options.bundle {
            if Communicator.world.isRoot { try result.save(to: bundle) }   // under mpirun every rank holds the same model
            result.bundle = bundle
        }
        return result
    }

    // MARK: Feature extraction

    func fitHead(_ spec: BackboneSpec, split: ExperimentSplit, progress: ProgressHandler?,
                 isCancelled: @escaping @Sendable () -> Bool) throws -> JobResult {
        guard case let .featureExtraction(head, C) = strategy else { preconditionFailure("fitHead runs feature extraction only") }
        // The job's feature heads are the classifiers; the regression and multi-label heads are fitted on a store
        // with the targets file (FeatureStages.fitRegression / fitMultiLabel, `graft fit --task`).
        guard task.kind == .classification else {
            throw TransferError.unsupported("the \(task.kind.rawValue) task's feature head is fitted on a feature store: graft extract, then graft fit --task \(task.kind.rawValue)")
        }
        let extractor = try FeatureExtractor(backbone: Backbones.load(spec), cut: options.cut, pool: options.pool,
                                             precision: options.precision)
        func store(_ name: String, _ dataset: any Dataset, _ indices: [Int]) throws -> FeatureStore {
            try FeatureStages.extract(extractor, dataset: dataset, indices: indices, to: options.workDirectory.appendingPathComponent(name),
                                      batchSize: options.batchSize, shardSize: options.shardSize, overwrite: true,
                                      progress: progress, isCancelled: isCancelled)
        }
        let fitItems = options.headSeesValidation ? (split.train + split.validation).sorted() : split.train
        let extractStart = Date()
        let trainStore = try store("features-train", data.labelled, fitItems)
        let extractSeconds = Date().timeIntervalSince(extractStart)
        let rows = try FeatureStages.rows(of: trainStore)
        if isCancelled() { throw TransferError.cancelled }
        progress?(ProgressEvent(phase: .fitting, completed: 0, total: 1))
        let fitStart = Date()
        let fit = try FeatureStages.fit(head, C: C, x: rows.x, labels: rows.labels, classNames: data.classNames,
                                        classWeighting: options.classWeighting, seed: options.seed, neighbors: options.neighbors)
        progress?(ProgressEvent(phase: .fitting, completed: 1, total: 1))
        // Extraction (or reading a store another job made) plus the fit. Stores carry no timings:
        // a resumed store is byte-identical to an uninterrupted one.
        let seconds = extractSeconds + Date().timeIntervalSince(fitStart)
        var manifest = FeatureStages.manifest(task: task, head: head, C: C, backbone: spec, source: extractor.source,
                                              classNames: data.classNames, fit: fit, examples: rows.labels.count)
        var result = JobResult(strategy: strategy, backbone: spec, manifest: manifest, trainSeconds: seconds,
                               trainableParameters: fit.head.parameterCount)
        result.head = fit.head
        result.extractSeconds = extractSeconds
        if !options.headSeesValidation && !split.validation.isEmpty {
            let v = try FeatureStages.rows(of: store("features-validation", data.labelled, split.validation))
            let report = try fit.head.evaluate(v.x, labels: v.labels)
            result.validation = report
            manifest.notes["validationAccuracy"] = String(format: "%.4f", report.accuracy)
        }
        if !split.test.isEmpty {
            let t = try FeatureStages.rows(of: store("features-test", data.testSet, split.test))
            let report = try fit.head.evaluate(t.x, labels: t.labels)
            result.test = report
            result.testPredictions = try? ItemPredictions(head: fit.head, features: t.x, ids: t.ids, truth: t.labels,
                                                          dataset: data.testSet, among: split.test)
            manifest.notes["testAccuracy"] = String(format: "%.4f", report.accuracy)
        }
        result.manifest = manifest
        return result
    }

    // MARK: Network strategies

    func trainNetwork(_ spec: BackboneSpec, split: ExperimentSplit, progress: ProgressHandler?,
                      isCancelled: @escaping @Sendable () -> Bool) throws -> JobResult {
        if case .contrastive = strategy, task.kind != .classification {   // before any model is loaded
            throw TransferError.unsupported("contrastive tuning pairs items by class: it trains classifiers, not the \(task.kind.rawValue) task")
        }
        let start = Date()
        var overrides = options.training
        overrides.seed = overrides.seed ?? options.seed
        let seed = overrides.seed ?? 0
        let outputs = task.outputNames(classNames: data.classNames).count
        let backbone = try Backbones.load(spec, seed: seed, outputs: outputs)
        var recipe = NetworkRecipe(strategy, backbone: backbone, overrides: overrides)
        recipe.linearProbe = options.linearProbe
        let smallImages = try recipe.adaptAugmentation(to: data.labelled, indices: split.train, inputSize: backbone.preprocessing?.inputSize)
        var unfreeze: Int?, strategy = strategy
        if case let .fineTune(k) = strategy {
            unfreeze = recipe.options.choosesDepth ? AutomaticDepth.blocks(trainingItems: split.train.count, input: backbone.input,
                                                                             blockCount: backbone.blockCount) : k
            strategy = .fineTune(unfreeze: unfreeze)   // what trained is what the result, the table and the bundle say
            recipe.strategy = strategy
        }
        let network = try backbone.network(outputs: outputs, unfreeze: unfreeze, seed: recipe.options.seed)
        // The task's training state (regression: the training targets' scale) is set from the training split.
        let training = try task.attached(to: network).prepared(for: data.labelled, indices: split.train)
        let trained = if case let .contrastive(contrastive) = strategy {
            try tuneContrastively(network, contrastive, recipe: recipe, task: training, split: split, seed: seed,
                                  progress: progress, isCancelled: isCancelled)
        } else {
            try recipe.train(network, task: training, dataset: data.labelled, train: split.train, validation: split.validation,
                             checkpoint: options.workDirectory.appendingPathComponent("checkpoint"), resume: options.resume,
                             progress: progress, isCancelled: isCancelled)
        }
        var finished = try training.finished(network)
        let seconds = Date().timeIntervalSince(start)
        if isCancelled() { throw TransferError.cancelled }
        var manifest = BundleManifest(task: task.kind, strategy: strategy, backbone: spec, classNames: task.outputNames(classNames: data.classNames))
        manifest.inputSize = backbone.preprocessing?.inputSize
        manifest.headInput = (network as? TextTaskNetwork)?.headInputKind.rawValue
        var result = JobResult(strategy: strategy, backbone: spec, manifest: manifest, trainSeconds: seconds,
                               trainableParameters: trained.training.trainableParameters)
        result.network = network
        result.training = trained.training
        result.probe = trained.probe
        result.learningRateRangeTest = trained.learningRateRangeTest
        result.recipe = trained.name
        if !split.validation.isEmpty {
            let scored = try Evaluation.score(network, task: finished, dataset: data.labelled, indices: split.validation, progress: progress)
            finished = try finished.calibrated(scores: scored.scores, targets: scored.targets)
            if let metrics = try finished.metrics(scores: scored.scores, targets: scored.targets) {
                result.validationMetrics = metrics
                manifest.notes["validation_" + metrics.headline.name] = String(format: "%.4f", metrics.headline.value)
            } else if case let .classes(truth) = scored.targets {
                let report = try finished.report(truth: truth, scores: scored.scores, trainedClasses: Array(0..<scored.scores.columns))
                result.validation = report
                manifest.notes["validationAccuracy"] = String(format: "%.4f", report.accuracy)
            }
        }
        if !split.test.isEmpty {
            let scored = try Evaluation.score(network, task: finished, dataset: data.testSet, indices: split.test, progress: progress)
            if let metrics = try finished.metrics(scores: scored.scores, targets: scored.targets) {
                result.testMetrics = metrics
                result.testScores = scored
                manifest.notes["test_" + metrics.headline.name] = String(format: "%.4f", metrics.headline.value)
            } else if case let .classes(truth) = scored.targets {
                let report = try finished.report(truth: truth, scores: scored.scores, trainedClasses: Array(0..<scored.scores.columns))
                result.test = report
                result.testPredictions = try ItemPredictions(ids: scored.ids, truth: truth, probabilities: scored.scores,
                                                             dataset: data.testSet, among: split.test)
                manifest.notes["testAccuracy"] = String(format: "%.4f", report.accuracy)
                manifest.notes["testBalancedAccuracy"] = String(format: "%.4f", report.balancedAccuracy)
            }
        }
        finished.record(in: &manifest)
        manifest.record(trained)
        if smallImages { manifest.notes["augmentation"] = "flip only (small images)" }
        if recipe.options.choosesDepth, case let .fineTune(k?) = strategy {
            manifest.notes["unfreeze"] = "auto: \(k) blocks for \(split.train.count) training items"
        }
        result.manifest = manifest
        return result
    }
}
