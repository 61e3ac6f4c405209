import Foundation
import GraftData
import GraftHeads
import GraftModels
import GraftNN

/// Fine-tuning (or training from scratch) on a data set, ending in a bundle:
/// what `graft finetune` and `graft train --from-scratch` run, by `NetworkRecipe`.
public struct NetworkTraining {
    public var data: String
    /// Zoo name of the pretrained model (fine-tuning), or the architecture (from scratch).
    public var model: String?
    /// Blocks / encoder layers to train; nil trains everything.
    public var unfreeze: Int? = 2
    public var fromScratch = false
    public var perClass: Int?
    public var validationPerClass = 10
    /// Changes to the recipe's defaults (`NetworkRecipe.defaultOptions`).
    public var options = TrainingOverrides()
    /// LP-FT's linear probe before fine-tuning (see `NetworkRecipe`).
    public var linearProbe = true
    public var resume = false
    /// Most confident test mistakes kept for a report.
    public var mistakeCount = 16
    public var progress: ProgressHandler?

    public init(data: String) { self.data = data }

    public struct Outcome: Sendable {
        public var training: TrainingResult
        public var probe: NetworkRecipe.LinearProbe?
        public var test: ClassificationReport?
        /// The `mistakeCount` test items the model was surest of and got wrong (thumbnails or snippets).
        public var mistakes: [MisclassifiedExample]
        public var manifest: BundleManifest
    }

    /// Trains and writes the bundle to `out` (checkpoints in `out` + ".checkpoint").
    public func run(out: URL, isCancelled: @escaping @Sendable () -> Bool = { false }) throws -> Outcome {
        let source = try DataSource.resolve(data)
        if fromScratch && source.kind == .text {
            throw TransferError.unsupported("text from scratch: use `graft compare --text` (random-init BERT baseline)")
        }
        var recipe = NetworkRecipe(fromScratch ? .fromScratch : .fineTune(unfreeze: unfreeze), kind: source.kind, overrides: options)
        recipe.linearProbe = linearProbe
        let split = try ExperimentSplit.make(source, perClass: perClass, validationPerClass: validationPerClass, seed: recipe.options.seed)
        let classes = source.classNames.count
        let network: ClassifierNetwork
        var manifest: BundleManifest
        if source.kind == .image {
            let backbone = fromScratch ? try recipe.scratchImageBackbone(model, classes: classes)
                                       : try ImageModels.pretrained(model ?? "efficientnet-lite0")
            network = recipe.imageNetwork(backbone, classes: classes)
            manifest = BundleManifest(task: .image, strategy: fromScratch ? .fromScratch : .fineTune, model: model ?? backbone.architecture,
                                      architecture: backbone.architecture, classNames: source.classNames)
            manifest.inputSize = backbone.preprocessing.inputSize
        } else {
            let name = model ?? "all-minilm-l6-v2"
            network = try recipe.textNetwork(SentenceEmbedder.pretrained(name), classes: classes)
            manifest = BundleManifest(task: .text, strategy: .fineTune, model: name, architecture: "bert", classNames: source.classNames)
        }
        let checkpoint = out.deletingLastPathComponent().appendingPathComponent(out.lastPathComponent + ".checkpoint")
        let trained = try recipe.train(network, dataset: source.train, train: split.train, validation: split.validation,
                                       checkpoint: checkpoint, resume: resume, progress: progress, isCancelled: isCancelled)
        let testSet = source.test ?? source.train
        var report: ClassificationReport?, mistakes: [MisclassifiedExample] = []
        if !split.test.isEmpty {
            let scored = try ItemPredictions.predict(network, dataset: testSet, indices: split.test, progress: progress)
            report = scored.report
            mistakes = Misclassifications.mostConfident(scored.predictions, dataset: testSet, k: mistakeCount)
            manifest.notes["testAccuracy"] = String(format: "%.4f", scored.report.accuracy)
            manifest.notes["testBalancedAccuracy"] = String(format: "%.4f", scored.report.balancedAccuracy)
        }
        manifest.record(trained)
        if isCancelled() { throw TransferError.cancelled }
        try BundleStore.save(manifest, network: network.module, to: out)
        return Outcome(training: trained.training, probe: trained.probe, test: report, mistakes: mistakes, manifest: manifest)
    }
}

extension BundleManifest {
    /// Notes every network bundle carries: recipe, probe, trainable size, epochs, time.
    public mutating func record(_ trained: NetworkRecipe.Outcome) {
        notes["recipe"] = trained.name
        if let probe = trained.probe {
            notes["probeC"] = "\(probe.C)"
            if let accuracy = probe.validationAccuracy { notes["probeValidationAccuracy"] = String(format: "%.4f", accuracy) }
        }
        notes["trainableParameters"] = "\(trained.training.trainableParameters)"
        notes["epochs"] = "\(trained.training.history.count)"
        notes["trainSeconds"] = String(format: "%.1f", trained.training.seconds)
    }
}
