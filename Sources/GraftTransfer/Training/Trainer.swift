import Foundation
import GraftData
import GraftNN
import GraftTensor
import GraftWeights

/// The result of `Trainer.fit`.
public struct TrainingResult: Sendable {
    public var history: [EpochRecord]
    public var bestEpoch: Int?
    public var bestValidationAccuracy: Double?
    /// No epoch beat the starting weights on validation (`fit(start:)`), so they are the result:
    /// fine-tuning never ends below the probe it started from.
    public var keptStart = false
    public var stoppedEarly: Bool
    public var trainableParameters: Int
    public var seconds: Double
}

/// Mini-batch training with validation, early stopping, the best weights
/// kept, and checkpoints that resume after a kill.
///
/// Parameters that do not require gradients are never touched: frozen
/// layers run without a tape (their conv+BN pairs fold into one oneDNN
/// convolution) and get no gradient memory.
public final class Trainer {
    public let network: TaskNetwork
    /// The loss and the running metric come from the task.
    public let task: any TransferTask
    public let options: TrainingOptions
    public var progress: ProgressHandler?
    /// Data-parallel training over MPI ranks (Distributed/DistributedTraining.swift); nil trains in this process alone.
    public var distribution: DistributedTraining?

    public init(network: TaskNetwork, task: any TransferTask = ClassificationTask(), options: TrainingOptions,
                progress: ProgressHandler? = nil) {
        self.network = network; self.task = task; self.options = options; self.progress = progress
    }

    /// Head at the full rate, the unfrozen trunk at the scaled rate; weight
    /// decay on weights (rank >= 2) only.
    public func parameterGroups() -> [ParameterGroup] {
        let (head, trunk) = network.trainableParameters()
        let o = options
        return [
            ParameterGroup(head.filter { $0.rank >= 2 }, weightDecay: o.weightDecay),
            ParameterGroup(head.filter { $0.rank < 2 }),
            ParameterGroup(trunk.filter { $0.rank >= 2 }, learningRateScale: o.trunkLearningRateScale, weightDecay: o.weightDecay),
            ParameterGroup(trunk.filter { $0.rank < 2 }, learningRateScale: o.trunkLearningRateScale),
        ].filter { !$0.parameters.isEmpty }
    }

    /// Trains on `train`, validating each epoch on `validation`; the best epoch's weights are the result.
    /// `start`: the validation score of the weights as they are now (LP-FT's warm start); with a
    /// checkpoint they are a candidate like every epoch, so an epoch must beat them to replace them.
    public func fit(dataset: any Dataset, train: [Int], validation: [Int], checkpoint: URL? = nil, resume: Bool = false,
                    start: Double? = nil, isCancelled: @Sendable () -> Bool = { false }) throws -> TrainingResult {
        guard !train.isEmpty else { throw TransferError.emptyData("empty training split") }
        try requireFrozenTrunkPrecision()
        let started = Date()
        let optimizer = makeOptimizer()
        let trainable = optimizer.groups.flatMap(\.parameters)
        try distribution?.attach(module: network.module, parameters: trainable)
        let writesCheckpoints = distribution?.isRoot ?? true
        // A run killed while writing a checkpoint left its temporary file: this run writes the same files.
        if let checkpoint, writesCheckpoints { AtomicFile.removeStaleTemporaries(in: checkpoint) }
        let (epochs, totalSteps, stepsPerEpoch) = options.plannedSteps(items: train.count)
        let schedule: LearningRateSchedule = switch options.schedule {
        case .cosine: .warmupCosine(warmup: Int(Float(totalSteps) * options.warmupFraction), total: totalSteps)
        case .oneCycle: .oneCycle(total: totalSteps)
        case .constant: .constant
        }
        let jobKey = "\(options)|\(train.count)|\(train.prefix(16))|\(validation.count)|\(network.module.parameterCount)"
        var state = TrainingState(jobKey: jobKey)
        if resume, let checkpoint, let saved = Self.loadState(checkpoint), saved.jobKey == jobKey {
            let extra = try StateDictFile.read(into: network.module, from: checkpoint.appendingPathComponent("last.safetensors"))
            optimizer.importState(Dictionary(uniqueKeysWithValues: extra.map { (String($0.key.dropFirst("optimizer.".count)), $0.value) }))
            state = saved
            restoreDropoutStreams(saved.dropoutStreams)
        }
        if state.epochsCompleted == 0, let start, !validation.isEmpty, let checkpoint {
            state.startValidationScore = start
            state.bestValidationAccuracy = start
            if writesCheckpoints { try save(checkpoint, file: "best.safetensors", optimizer: nil) }
        }
        let preprocessing = network.preprocessing ?? Preprocessing(inputSize: 1)
        var step = state.step ?? state.epochsCompleted * stepsPerEpoch
        while state.epochsCompleted < epochs && !state.stoppedEarly {
            let epoch = state.epochsCompleted
            let epochStart = Date()
            let plan = try distribution?.epochPlan(train: train, batchSize: options.batchSize, seed: options.seed, epoch: epoch)
            let loader = BatchLoader(dataset: dataset, indices: plan?.indices ?? train, preprocessing: preprocessing,
                                     options: .init(batchSize: plan?.batchSize ?? options.batchSize, shuffle: plan == nil,
                                                    seed: options.seed, epoch: epoch, augmentation: options.augmentation))
            let meter = ProgressMeter(phase: .training, total: train.count)
            var seen = 0, metricSum = 0.0, lossSum = 0.0
            while let batch = try loader.next() {
                if isCancelled() { loader.cancel(); throw TransferError.cancelled }
                if options.steps != nil, step >= totalSteps { loader.cancel(); break }   // a step budget ends inside its last epoch
                guard batch.count > 0 else { continue }
                optimizer.learningRate = options.learningRate * schedule.factor(step: step)
                let (loss, logits) = try trainStep(batch, optimizer: optimizer)
                step += 1
                metricSum += try task.metric(logits.detached(), targets: batch.requireTargets()) * Double(batch.count)
                seen += batch.count
                lossSum += Double(loss.scalarValue) * Double(batch.count)
                progress?(meter.event(completed: seen, epoch: epoch, loss: lossSum / Double(seen),
                                      metrics: [task.metricName: metricSum / Double(seen)]))
            }
            let trainSeconds = Date().timeIntervalSince(epochStart)
            var record = EpochRecord(epoch: epoch, trainLoss: lossSum / Double(max(seen, 1)), trainAccuracy: metricSum / Double(max(seen, 1)),
                                     learningRate: Double(optimizer.learningRate), seconds: 0,
                                     imagesPerSecond: Double(seen) / max(trainSeconds, 1e-9))
            if !validation.isEmpty {
                let (loss, accuracy) = try evaluate(dataset: dataset, indices: validation)
                record.validationLoss = loss; record.validationAccuracy = accuracy
                // While the start is the best, an epoch must beat it by its margin; after that, any gain counts.
                let bar = (state.bestValidationAccuracy ?? -.infinity) + (state.bestEpoch == nil ? startMargin(state, validation: validation.count) : 0)
                if accuracy > bar {   // R^2 can be below -1
                    state.bestValidationAccuracy = accuracy; state.bestEpoch = epoch; state.epochsWithoutImprovement = 0
                    if let checkpoint, writesCheckpoints { try save(checkpoint, file: "best.safetensors", optimizer: nil) }
                } else {
                    state.epochsWithoutImprovement += 1
                    if options.patience > 0 && state.epochsWithoutImprovement >= options.patience { state.stoppedEarly = true }
                }
            }
            record.seconds = Date().timeIntervalSince(epochStart)
            state.history.append(record)
            state.epochsCompleted += 1
            state.step = step
            state.dropoutStreams = Self.dropoutLayers(in: network.module).map(\.generator.state)
            if let checkpoint, writesCheckpoints {
                // One file, one rename: weights, optimizer and counters of the same epoch.
                try save(checkpoint, file: "last.safetensors", optimizer: optimizer, state: state)
                try Self.saveState(state, checkpoint)
            }
        }
        // Keep the best weights (an epoch's or the start's), not the last ones.
        let keptStart = state.startValidationScore != nil && state.bestEpoch == nil
        if let checkpoint, keptStart || (state.bestEpoch != nil && state.bestEpoch != state.epochsCompleted - 1) {
            try StateDictFile.read(into: network.module, from: checkpoint.appendingPathComponent("best.safetensors"))
        }
        return TrainingResult(history: state.history, bestEpoch: state.bestEpoch, bestValidationAccuracy: state.bestValidationAccuracy,
                              keptStart: keptStart, stoppedEarly: state.stoppedEarly,
                              trainableParameters: trainable.reduce(0) { $0 + $1.count }, seconds: Date().timeIntervalSince(started))
    }

    /// What an epoch must add to the starting weights' validation accuracy to replace them: one standard
    /// error of that accuracy, sqrt(p(1-p)/n). On 100 validation images a 4-image gain is noise (docs/RESULTS.md,
    /// issue 21's table: such wins lost 0.65-6.2 test points). Other metrics (R^2, F1) compare plainly.
    func startMargin(_ state: TrainingState, validation n: Int) -> Double {
        guard let p = state.startValidationScore, task.metricName == "acc", n > 0, (0...1).contains(p) else { return 0 }
        return (p * (1 - p) / Double(n)).squareRoot()
    }

    /// The optimizer `fit` uses (SGD with momentum or AdamW) over `parameterGroups()`.
    public func makeOptimizer() -> Optimizer {
        let groups = parameterGroups()
        return options.optimizer == .sgd
            ? SGD(groups, learningRate: options.learningRate, momentum: options.momentum)
            : AdamW(groups, learningRate: options.learningRate)
    }

    /// One step of `fit` at the optimizer's current learning rate: forward in
    /// training mode, the task's loss on the batch's targets (classification:
    /// label-smoothed cross-entropy), backward, gradient clipping, update.
    /// Returns the loss (before the update) and the logits.
    @discardableResult
    public func trainStep(_ batch: Batch, optimizer: Optimizer) throws -> (loss: Tensor, logits: Tensor) {
        optimizer.zeroGrad()
        let logits = try trainingOutputs(batch)
        let loss = try task.loss(logits, targets: batch.requireTargets(), labelSmoothing: options.labelSmoothing)
        try loss.backward()
        try distribution?.afterBackward()
        if options.clipNorm > 0 {
            let norm = clipGradientNorm(optimizer.groups.flatMap(\.parameters), maxNorm: options.clipNorm)
            // An infinite norm would clip every gradient to zero: steps that silently change nothing.
            guard norm.isFinite else { throw TransferError.diverged("the gradients' global norm is \(norm) (loss \(loss.scalarValue))") }
        }
        try optimizer.step()
        return (loss, logits)
    }

    /// The training forward; with `frozenTrunkPrecision`, the frozen trunk as at inference in that precision
    /// (`FrozenTrunk`). Validation and the trained model's predictions stay fp32 (what a bundle runs by default).
    func trainingOutputs(_ batch: Batch) throws -> Tensor {
        guard let precision = options.frozenTrunkPrecision else { return try network.outputs(batch, training: true) }
        return try withPrecision(precision) {
            try FrozenTrunk.$runsAsInference.withValue(true) { try network.outputs(batch, training: true) }
        }
    }

    /// `frozenTrunkPrecision` must run here: the CPU's support (bf16), and for int8 a backbone that quantizes
    /// dynamically (text encoders; image networks' int8 runs from a calibration file, not inside training).
    func requireFrozenTrunkPrecision() throws {
        guard let precision = options.frozenTrunkPrecision else { return }
        try precision.requireSupport()
        if precision == .int8 && !network.backbone.quantizesDynamically {
            throw TransferError.unsupported("a frozen trunk in int8 needs a backbone that quantizes dynamically (text encoders); "
                + "\(network.backbone.spec.model) does not: use fp32 or bf16")
        }
    }

    /// Mean loss and the task's metric (accuracy for classification) on `indices`, in inference mode.
    public func evaluate(dataset: any Dataset, indices: [Int]) throws -> (loss: Double, accuracy: Double) {
        let loader = BatchLoader(dataset: dataset, indices: indices, preprocessing: network.preprocessing ?? Preprocessing(inputSize: 1),
                                 options: .init(batchSize: options.batchSize))
        var seen = 0, lossSum = 0.0, outputs: [Float] = [], width = 0
        var targets = BatchTargets.classes([])
        let meter = ProgressMeter(phase: .validating, total: indices.count)
        try withNoGrad {
            while let batch = try loader.next() {
                guard batch.count > 0 else { continue }
                let logits = try network.outputs(batch, training: false)
                let batchTargets = try batch.requireTargets()
                let loss = try task.loss(logits, targets: batchTargets, labelSmoothing: 0)
                outputs += logits.values; width = logits.shape[1]
                targets = try targets.appending(batchTargets)
                seen += batch.count
                lossSum += Double(loss.scalarValue) * Double(batch.count)
                progress?(meter.event(completed: seen))
            }
        }
        // The metric of the whole split (R^2 and F1 are not means over batches).
        let metric = seen == 0 ? 0 : try task.metric(Tensor(shape: [seen, width], values: outputs), targets: targets)
        return (lossSum / Double(max(seen, 1)), metric)
    }

    /// Every random stream a step draws from continues where the checkpoint left it: the loader's
    /// order and augmentation are functions of (seed, epoch, position); dropout layers keep running
    /// generators, saved with each epoch's checkpoint and restored here (the uninterrupted run's
    /// streams are untouched, so results match runs made before checkpoints carried them).
    func restoreDropoutStreams(_ streams: [String]?) {
        let layers = Self.dropoutLayers(in: network.module)
        guard let streams, streams.count == layers.count else { return }
        for (dropout, text) in zip(layers, streams) {
            if let g = SeededGenerator(state: text) { dropout.generator = g }
        }
    }

    /// Every dropout layer, in a fixed order. Dropout has no weights, so models keep it out of
    /// `keyedChildren` (which mirrors PyTorch's keys): look at each module's stored properties too.
    static func dropoutLayers(in root: Module) -> [Dropout] {
        var seen = Set<ObjectIdentifier>(), found: [Dropout] = []
        func visit(_ value: Any) {
            if let d = value as? Dropout, seen.insert(ObjectIdentifier(d)).inserted { found.append(d) }
        }
        for (_, module) in root.namedModules() {
            visit(module)
            for child in Mirror(reflecting: module).children { visit(child.value) }
        }
        return found
    }

    private func save(_ dir: URL, file: String, optimizer: Optimizer?, state: TrainingState? = nil) throws {
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let extra = Dictionary(uniqueKeysWithValues: (optimizer?.exportState() ?? [:]).map { ("optimizer." + $0.key, $0.value) })
        let metadata = try state.map { [TrainingState.metadataKey: try $0.json()] } ?? [:]
        try StateDictFile.write(network.module, extra: extra, metadata: metadata, to: dir.appendingPathComponent(file))
    }

    static func saveState(_ s: TrainingState, _ dir: URL) throws {
        let enc = JSONEncoder(); enc.outputFormatting = [.prettyPrinted, .sortedKeys]
        try AtomicFile.write(enc.encode(s), to: dir.appendingPathComponent("state.json"))
    }

    /// The state committed with `last.safetensors`; `state.json` only for checkpoints written
    /// before the state moved into the weights file.
    static func loadState(_ dir: URL) -> TrainingState? {
        let last = dir.appendingPathComponent("last.safetensors")
        if let committed = TrainingState.committed(in: last) { return committed }
        guard let data = try? Data(contentsOf: dir.appendingPathComponent("state.json")) else { return nil }
        return try? JSONDecoder().decode(TrainingState.self, from: data)
    }
}
