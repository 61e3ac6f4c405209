import Foundation
import GraftData
import GraftHeads
import GraftModels
import GraftNN
import GraftTensor

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
    public enum Strategy: Sendable, Equatable {
        /// A new head plus the last `unfreeze` blocks (nil: every block, batch-norm statistics included).
        case fineTune(unfreeze: Int?)
        /// Random initial weights, everything trains.
        case fromScratch
    }

    public var strategy: Strategy
    public var options: TrainingOptions
    /// LP-FT's linear probe (fine-tuning only); false starts from the random head.
    public var linearProbe = true
    /// Training examples per class the probe sees at most, which bounds its cost on large data.
    public var probeExamplesPerClass = 100

    /// The recipe's defaults for `kind`, changed by `overrides`.
    public init(_ strategy: Strategy, kind: DataKind, overrides: TrainingOverrides = TrainingOverrides()) {
        self.strategy = strategy
        options = overrides.applied(to: Self.defaultOptions(strategy, kind: kind))
    }

    /// The measured defaults (`graft compare`'s tables in the Strategies article).
    public static func defaultOptions(_ strategy: Strategy, kind: DataKind) -> TrainingOptions {
        var o = TrainingOptions()
        switch (strategy, kind) {
        case (.fineTune, .image):
            o.epochs = 4; o.optimizer = .adamw; o.learningRate = 5e-4; o.trunkLearningRateScale = 0.2
            o.batchSize = 16; o.patience = 2; o.weightDecay = 0.01
        case (.fineTune, .text):
            o.epochs = 3; o.optimizer = .adamw; o.learningRate = 2e-3; o.trunkLearningRateScale = 0.2
            o.batchSize = 16; o.patience = 2; o.weightDecay = 0.01
        case (.fromScratch, .image):
            o.epochs = 15; o.learningRate = 0.05; o.patience = 5; o.augment = false
        case (.fromScratch, .text):
            o.epochs = 4; o.optimizer = .adamw; o.learningRate = 1e-3; o.patience = 5; o.augment = false
        }
        return o
    }

    public var isFineTuning: Bool { if case .fineTune = strategy { true } else { false } }

    // MARK: Networks

    /// `backbone` with a new head for `classes`, frozen as the strategy says.
    public func imageNetwork(_ backbone: any ImageBackbone, classes: Int) -> ImageClassifierNetwork {
        let network = ImageClassifierNetwork(backbone: backbone, classes: classes, seed: options.seed)
        if case let .fineTune(k?) = strategy { backbone.freezeAllButLast(k) }
        return network
    }

    /// The untrained image backbone of `.fromScratch`: a small CNN sized for
    /// small images (`small-cnn`, the default) or any architecture of the zoo.
    public func scratchImageBackbone(_ architecture: String?, classes: Int) throws -> any ImageBackbone {
        let arch = architecture ?? "small-cnn"
        return arch == "small-cnn" ? SmallCNN(inputSize: 32, classes: classes, seed: options.seed)
            : try ImageModels.make(arch, seed: options.seed)
    }

    /// BERT with a head on mean-pooled states: the last K layers unfrozen
    /// (fine-tuning), or every weight re-drawn and trained (from scratch).
    public func textNetwork(_ embedder: SentenceEmbedder, classes: Int) throws -> TextClassifierNetwork {
        let layers = embedder.bert.layers.count
        switch strategy {
        case let .fineTune(k):
            return TextClassifierNetwork(embedder: embedder, classes: classes, unfreezeLayers: k ?? layers, seed: options.seed)
        case .fromScratch:
            try Self.randomize(embedder.bert, seed: options.seed)
            let network = TextClassifierNetwork(embedder: embedder, classes: classes, unfreezeLayers: layers, seed: options.seed)
            embedder.bert.unfreeze()
            return network
        }
    }

    /// Re-draws every BERT weight as its initialiser does (N(0, 0.02); layer norms 1 and 0).
    public static func randomize(_ module: Module, seed: UInt64) throws {
        var g = SeededGenerator(seed: seed &+ 0x5C)
        for (key, p) in module.namedParameters() {
            let fresh: Tensor = key.hasSuffix("LayerNorm.weight") ? .ones(p.shape)
                : key.hasSuffix("bias") ? .zeros(p.shape)
                : .randn(p.shape, std: 0.02, generator: &g)
            try p.assign(fresh)
        }
    }

    // MARK: Training

    /// What the linear probe of LP-FT did.
    public struct LinearProbe: Codable, Sendable, Equatable {
        /// Regularisation chosen by cross-validation.
        public var C: Double
        /// Training examples it was fitted on.
        public var examples: Int
        /// Validation accuracy of the network with the warm-started head, before any gradient step.
        public var validationAccuracy: Double?
    }

    public struct Outcome: Sendable {
        public var training: TrainingResult
        /// Nil when the head started at random (from scratch, the probe off, or a resumed job).
        public var probe: LinearProbe?
        /// One word for bundles and tables: "LP-FT", "FT" or "from scratch".
        public var name: String
    }

    /// Trains `network` on `train` (early stopping and best-epoch selection on
    /// `validation`), after warm-starting its head when the recipe says so.
    public func train(_ network: ClassifierNetwork, dataset: any Dataset, train: [Int], validation: [Int], checkpoint: URL?,
                      resume: Bool = false, progress: ProgressHandler? = nil,
                      isCancelled: @escaping @Sendable () -> Bool = { false }) throws -> Outcome {
        let trainer = Trainer(network: network, options: options, progress: progress)
        var probe: LinearProbe?
        let resuming = resume && checkpoint.map { FileManager.default.fileExists(atPath: $0.appendingPathComponent("last.safetensors").path) } == true
        if isFineTuning && linearProbe && !resuming {
            probe = try warmStart(network, dataset: dataset, indices: train, progress: progress, isCancelled: isCancelled)
            if probe != nil, !validation.isEmpty {
                probe?.validationAccuracy = try trainer.evaluate(dataset: dataset, indices: validation).accuracy
            }
        }
        if isCancelled() { throw TransferError.cancelled }
        let result = try trainer.fit(dataset: dataset, train: train, validation: validation, checkpoint: checkpoint,
                                     resume: resume, isCancelled: isCancelled)
        return Outcome(training: result, probe: probe, name: isFineTuning ? (probe != nil ? "LP-FT" : "FT") : "from scratch")
    }

    /// The linear probe: logistic regression on the features the head reads
    /// (up to `probeExamplesPerClass` per class of `indices`), copied into the
    /// head. Nil when it cannot stand for the head (a class without examples).
    func warmStart(_ network: ClassifierNetwork, dataset: any Dataset, indices: [Int], progress: ProgressHandler?,
                   isCancelled: @Sendable () -> Bool) throws -> LinearProbe? {
        let picked = Splitter.sample(perClass: probeExamplesPerClass, labels: dataset.labels, from: indices, seed: options.seed &+ 0x1F)
        let loader = BatchLoader(dataset: dataset, indices: picked, preprocessing: network.preprocessing ?? Preprocessing(inputSize: 1),
                                 options: .init(batchSize: options.batchSize))
        let meter = ProgressMeter(phase: .extracting, total: picked.count)
        var rows: [Float] = [], labels: [Int] = []
        try withNoGrad {
            while let batch = try loader.next() {
                if isCancelled() { loader.cancel(); throw TransferError.cancelled }
                guard batch.count > 0 else { continue }
                rows += try Self.headInputs(network, batch).values
                labels += batch.labels
                progress?(meter.event(completed: labels.count))
            }
        }
        let d = network.head.inFeatures, k = network.head.outFeatures
        guard !labels.isEmpty, Set(labels) == Set(0..<k) else { return nil }
        progress?(ProgressEvent(phase: .fitting, completed: 0, total: 1))
        let fit = try HeadChoice.logisticRegression().fit(FeatureMatrix(rows: labels.count, columns: d, values: rows),
                                                          labels: labels, seed: options.seed)
        progress?(ProgressEvent(phase: .fitting, completed: 1, total: 1))
        guard try Self.copy(fit.head, into: network.head) else { return nil }
        return LinearProbe(C: fit.head.C, examples: labels.count)
    }

    /// The head's input for a batch, under no-grad: the backbone's pooled
    /// penultimate features, or BERT's mean-pooled (unnormalised) states.
    static func headInputs(_ network: ClassifierNetwork, _ batch: Batch) throws -> Tensor {
        switch network {
        case let n as ImageClassifierNetwork:
            let x = try Tensor(shape: [batch.count, batch.height, batch.width, 3], values: batch.pixels)
            let h = try n.backbone.forward(x, upTo: "penultimate", training: false)
            return h.rank == 4 ? try h.globalAvgPool2d() : try h.flattened(fromAxis: 1)
        case let n as TextClassifierNetwork:
            let (h, mask) = try n.embedder.states(batch.texts)
            return try poolTokens(h, mask: mask, mode: .mean, normalize: false)
        default:
            throw TransferError.unsupported("a linear probe for \(type(of: network))")
        }
    }

    /// Copies a linear head fitted on standardised features into a network's
    /// classifier: W' = W / scale, b' = b - W' mean, so it scores raw features.
    /// False when the shapes or classes do not match.
    public static func copy(_ head: LinearHead, into linear: Linear) throws -> Bool {
        let (k, d) = (linear.outFeatures, linear.inFeatures)
        guard head.featureCount == d, head.classes == Array(0..<k), head.weights.count == k * d else { return false }
        var w = head.weights, b = head.bias
        if let s = head.standardization {
            for c in 0..<k {
                for j in 0..<d { w[c * d + j] /= s.scale[j]; b[c] -= w[c * d + j] * s.mean[j] }
            }
        }
        try linear.weight.assign(Tensor(shape: [k, d], values: w))
        if let bias = linear.bias { try bias.assign(Tensor(shape: [k], values: b)) }
        return true
    }
}
