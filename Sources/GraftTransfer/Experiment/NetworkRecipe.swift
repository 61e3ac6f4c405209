import Foundation
import GraftData
import GraftHeads
import GraftModels
import GraftNN
import GraftTensor
import GraftWeights

/// How the two network strategies build and train a classifier, in one place:
/// `graft finetune`, `graft train`, `graft compare` and the library's
/// `.fineTune` / `.fromScratch` all run it, so they cannot drift apart.
///
/// Fine-tuning is LP-FT (Kumar et al. 2022). The last K blocks (BERT layers)
/// are unfrozen with their batch-norm statistics kept frozen; the new head is
/// first fitted as a logistic-regression probe on the frozen network's own
/// features of the training split and copied in (the linear probe, "LP"); only
/// then does the unfrozen part train, with AdamW at a gentle rate ("FT"). A
/// random head would send large, noisy gradients into the pretrained blocks
/// during its first steps and damage the features it is meant to reuse.
public struct NetworkRecipe: Sendable {
    /// `.fineTune` or `.fromScratch`.
    public var strategy: Strategy
    public var options: TrainingOptions
    /// LP-FT's linear probe (fine-tuning only); false starts from the random head.
    public var linearProbe = true
    /// Training examples the probe sees at most, spread evenly over the classes: its cost (one forward
    /// pass and a cross-validated logistic regression) stays under a fifth of a fine-tune's on large data.
    public var probeExampleBudget = 5_000

    /// The backbone's measured defaults for `strategy`, changed by `overrides`.
    public init(_ strategy: Strategy, backbone: any Backbone, overrides: TrainingOverrides = TrainingOverrides()) {
        self.strategy = strategy
        options = overrides.applied(to: backbone.defaultOptions(for: strategy))
    }

    public var isFineTuning: Bool { strategy.kind == .fineTune }

    // MARK: Training

    /// What the linear probe of LP-FT did.
    public struct LinearProbe: Codable, Sendable, Equatable {
        /// Regularisation chosen by cross-validation (C of logistic heads; ridge's alpha for regression).
        public var C: Double
        /// Training examples it was fitted on.
        public var examples: Int
        /// Validation accuracy of the network with the warm-started head, before any gradient step.
        public var validationAccuracy: Double?
        /// No epoch beat the probe, so it was fitted once more on training + validation items, as the
        /// feature-extraction heads are; the validation scores that follow are then not held out.
        public var refitWithValidation: Bool?
    }

    public struct Outcome: Sendable {
        public var training: TrainingResult
        /// Nil when the head started at random (from scratch, the probe off, or a resumed job).
        public var probe: LinearProbe?
        /// One word for bundles and tables: "LP-FT", "FT" or "from scratch".
        public var name: String
        /// Batch norms whose statistics AdaBN re-estimated (`TrainingOptions.adaptsBatchNorm`).
        public var adaptedBatchNorms = 0
        /// The range test that chose the learning rate (`TrainingOptions.findsLearningRate`).
        public var learningRateRangeTest: LearningRateRangeTest.Result?
        /// What the frozen trunk computed in while the rest trained (`TrainingOptions.frozenTrunkPrecision`).
        public var frozenTrunkPrecision: Precision?
    }

    /// Trains `network` on `train` (early stopping and best-epoch selection on
    /// `validation`), after warm-starting its head when the recipe says so.
    public func train(_ network: TaskNetwork, task: any TransferTask = ClassificationTask(), dataset: any Dataset, train: [Int],
                      validation: [Int], checkpoint: URL?, resume: Bool = false, progress: ProgressHandler? = nil,
                      isCancelled: @escaping @Sendable () -> Bool = { false }) throws -> Outcome {
        var trainer = Trainer(network: network, task: task, options: options, progress: progress)
        try trainer.requireFrozenTrunkPrecision()   // before the probe's pass over the data
        trainer.distribution = DistributedTraining.ifLaunched()   // data-parallel under mpirun (docs/DISTRIBUTED.md)
        var probe: LinearProbe?
        var adapted = 0
        let resuming = resume && checkpoint.map { FileManager.default.fileExists(atPath: $0.appendingPathComponent("last.safetensors").path) } == true
        if resuming, let checkpoint {
            // The probe ran before the interruption: its record survives in the checkpoint (the weights it set are in last.safetensors).
            probe = try? JSONDecoder().decode(LinearProbe.self, from: Data(contentsOf: checkpoint.appendingPathComponent("probe.json")))
        } else if isFineTuning && (linearProbe || options.adaptsBatchNorm) {
            // AdaBN first: the probe reads features normalised with the target data's statistics.
            // (A resumed job has the adapted statistics in its checkpoint.)
            if options.adaptsBatchNorm {
                adapted = try BatchNormAdaptation.adapt(network, dataset: dataset, indices: train, batchSize: options.batchSize,
                                                  progress: progress, isCancelled: isCancelled)
            }
            if linearProbe {
                probe = try warmStart(network, task: task, dataset: dataset, indices: train, progress: progress, isCancelled: isCancelled)
            }
            if probe != nil, !validation.isEmpty {
                probe?.validationAccuracy = try trainer.evaluate(dataset: dataset, indices: validation).accuracy
            }
            if let probe, let checkpoint {
                try FileManager.default.createDirectory(at: checkpoint, withIntermediateDirectories: true)
                try AtomicFile.write(JSONEncoder().encode(probe), to: checkpoint.appendingPathComponent("probe.json"))
            }
        }
        if isCancelled() { throw TransferError.cancelled }
        var rangeTest: LearningRateRangeTest.Result?
        if options.findsLearningRate {
            rangeTest = try findLearningRate(network, task: task, dataset: dataset, train: train, checkpoint: checkpoint,
                                             resuming: resuming, progress: progress, isCancelled: isCancelled)
            var found = options
            found.learningRate = rangeTest!.suggested
            let distribution = trainer.distribution
            trainer = Trainer(network: network, task: task, options: found, progress: progress)
            trainer.distribution = distribution
        }
        // The warm-started network is epoch 0's candidate: fine-tuning that does not beat it on validation returns it.
        let result = try trainer.fit(dataset: dataset, train: train, validation: validation, checkpoint: checkpoint,
                                     resume: resume, start: probe?.validationAccuracy, isCancelled: isCancelled)
        if result.keptStart, linearProbe, let kept = probe,
           var refit = try warmStart(network, task: task, dataset: dataset, indices: train + validation, progress: progress, isCancelled: isCancelled) {
            // The result is the probe: with nothing left for validation to choose, it learns from those items too.
            refit.validationAccuracy = kept.validationAccuracy
            refit.refitWithValidation = true
            probe = refit
        }
        let name = !isFineTuning ? "from scratch" : probe == nil ? "FT" : result.keptStart ? "LP-FT, probe kept" : "LP-FT"
        return Outcome(training: result, probe: probe, name: name, adaptedBatchNorms: adapted, learningRateRangeTest: rangeTest,
                       frozenTrunkPrecision: options.frozenTrunkPrecision)
    }

    /// The range test on the network as training starts (after the probe). It runs in this process alone even
    /// under mpirun: every rank has the same weights, data and seed, so every rank finds the same rate. Its
    /// result is kept beside the checkpoint, so a resumed job trains at the rate it started with.
    func findLearningRate(_ network: TaskNetwork, task: any TransferTask, dataset: any Dataset, train: [Int], checkpoint: URL?,
                          resuming: Bool, progress: ProgressHandler?, isCancelled: @escaping @Sendable () -> Bool) throws -> LearningRateRangeTest.Result {
        let file = checkpoint?.appendingPathComponent("lr-range-test.json")
        if resuming, let file, let data = try? Data(contentsOf: file),
           let saved = try? JSONDecoder().decode(LearningRateRangeTest.Result.self, from: data) {
            return saved
        }
        progress?(ProgressEvent(phase: .fitting, completed: 0, total: 1))
        let result = try LearningRateRangeTest().run(Trainer(network: network, task: task, options: options),
                                                     dataset: dataset, train: train, isCancelled: isCancelled)
        progress?(ProgressEvent(phase: .fitting, completed: 1, total: 1))
        if let checkpoint, let file {
            try FileManager.default.createDirectory(at: checkpoint, withIntermediateDirectories: true)
            try AtomicFile.write(JSONEncoder().encode(result), to: file)
        }
        return result
    }

    /// The linear probe: the task's head on features (logistic regression, ridge, one-vs-rest) fitted on
    /// what the network's head reads (up to `probeExampleBudget` items of `indices`), copied into
    /// the head. Nil when it cannot stand for the head (a class without examples).
    func warmStart(_ network: TaskNetwork, task: any TransferTask, dataset: any Dataset, indices: [Int], progress: ProgressHandler?,
                   isCancelled: @Sendable () -> Bool) throws -> LinearProbe? {
        guard let head = network.linearHead else { return nil }   // no linear head to warm-start (detection)
        let perClass = max(1, probeExampleBudget / max(1, head.outFeatures))
        let picked = Splitter.sample(perClass: perClass, labels: dataset.labels, from: indices, seed: options.seed &+ 0x1F)
        let loader = BatchLoader(dataset: dataset, indices: picked, preprocessing: network.preprocessing ?? Preprocessing(inputSize: 1),
                                 options: .init(batchSize: options.batchSize))
        let meter = ProgressMeter(phase: .extracting, total: picked.count)
        var rows: [Float] = [], targets = BatchTargets.classes([])
        try withNoGrad {
            while let batch = try loader.next() {
                if isCancelled() { loader.cancel(); throw TransferError.cancelled }
                guard batch.count > 0 else { continue }
                rows += try network.headInput(batch, training: false).values
                targets = try targets.appending(batch.requireTargets())
                progress?(meter.event(completed: targets.count))
            }
        }
        let d = head.inFeatures, k = head.outFeatures
        guard targets.count > 0 else { return nil }
        progress?(ProgressEvent(phase: .fitting, completed: 0, total: 1))
        let fit = try task.probe(FeatureMatrix(rows: targets.count, columns: d, values: rows), targets: targets, outputs: k, seed: options.seed)
        progress?(ProgressEvent(phase: .fitting, completed: 1, total: 1))
        guard let fit, try Self.copy(fit, into: head) else { return nil }
        return LinearProbe(C: fit.regularisation, examples: targets.count)
    }

    /// Copies a linear head fitted on standardised features into a network's
    /// classifier: W' = W / scale, b' = b - W' mean, so it scores raw features.
    /// False when the shapes or classes do not match.
    public static func copy(_ head: LinearHead, into linear: Linear) throws -> Bool {
        guard head.classes == Array(0..<linear.outFeatures) else { return false }
        return try copy(ProbeFit(head, regularisation: head.C), into: linear)
    }

    /// Copies a probe's raw-feature weights into a network's final linear layer; false when the shapes differ.
    static func copy(_ fit: ProbeFit, into linear: Linear) throws -> Bool {
        let (k, d) = (linear.outFeatures, linear.inFeatures)
        guard fit.weights.count == k * d, fit.bias.count == k else { return false }
        try linear.weight.assign(Tensor(shape: [k, d], values: fit.weights))
        if let bias = linear.bias { try bias.assign(Tensor(shape: [k], values: fit.bias)) }
        return true
    }
}

extension BundleManifest {
    /// Notes every network bundle carries: recipe, probe, trainable size, epochs, time.
    public mutating func record(_ trained: NetworkRecipe.Outcome) {
        notes["recipe"] = trained.name
        if trained.training.keptStart { notes["keptWarmStart"] = "true" }   // no epoch beat the probe on validation
        if trained.adaptedBatchNorms > 0 { notes["adaBN"] = "\(trained.adaptedBatchNorms) batch norms re-estimated on the training data" }
        if let probe = trained.probe {
            notes["probeC"] = "\(probe.C)"
            if let accuracy = probe.validationAccuracy { notes["probeValidationAccuracy"] = String(format: "%.4f", accuracy) }
        }
        if let found = trained.learningRateRangeTest {
            notes["learningRate"] = "\(found.suggested) (range test: the loss breaks at \(found.breakingRate))"
        }
        if let precision = trained.frozenTrunkPrecision {
            notes["frozenTrunkPrecision"] = "\(precision.rawValue): the frozen trunk ran as at inference while the rest trained in fp32"
        }
        notes["trainableParameters"] = "\(trained.training.trainableParameters)"
        notes["epochs"] = "\(trained.training.history.count)"
        notes["trainSeconds"] = String(format: "%.1f", trained.training.seconds)
    }
}
