import Foundation
import GraftData
import GraftHeads
import GraftModels
import GraftNN

/// Fine-tuning (or training from scratch) on a data set, ending in a bundle:
/// what `graft finetune` and `graft train --from-scratch` run.
public struct NetworkTraining {
    public var data: String
    /// Zoo name of the pretrained model (fine-tuning), or the architecture (from scratch).
    public var model: String?
    /// Blocks / encoder layers to train; nil trains everything.
    public var unfreeze: Int? = 2
    public var fromScratch = false
    public var perClass: Int?
    public var validationPerClass = 10
    public var options = TrainingOptions()
    public var resume = false
    public var progress: ProgressHandler?

    public init(data: String) { self.data = data }

    public struct Outcome: Sendable {
        public var training: TrainingResult
        public var test: ClassificationReport?
        public var manifest: BundleManifest
    }

    /// Trains and writes the bundle to `out` (checkpoints in `out` + ".checkpoint").
    public func run(out: URL, isCancelled: @Sendable () -> Bool = { false }) throws -> Outcome {
        let source = try DataSource.resolve(data)
        let split = try ExperimentSplit.make(source, perClass: perClass, validationPerClass: validationPerClass, seed: options.seed)
        let classes = source.classNames.count
        let network: ClassifierNetwork
        var manifest: BundleManifest
        if source.kind == .image {
            let backbone: any ImageBackbone
            if fromScratch {
                let arch = model ?? "small-cnn"
                backbone = arch == "small-cnn" ? SmallCNN(inputSize: 32, classes: classes, seed: options.seed) : try ImageModels.make(arch, seed: options.seed)
            } else {
                backbone = try ImageModels.pretrained(model ?? "efficientnet-lite0")
            }
            network = ImageClassifierNetwork(backbone: backbone, classes: classes, seed: options.seed)
            if let k = unfreeze, !fromScratch { backbone.freezeAllButLast(k) }
            manifest = BundleManifest(task: .image, strategy: fromScratch ? .fromScratch : .fineTune, model: model ?? backbone.architecture,
                                      architecture: backbone.architecture, classNames: source.classNames)
            manifest.inputSize = backbone.preprocessing.inputSize
        } else {
            let name = model ?? "all-minilm-l6-v2"
            let embedder = try SentenceEmbedder.pretrained(name)
            let layers = embedder.bert.layers.count
            network = TextClassifierNetwork(embedder: embedder, classes: classes, unfreezeLayers: fromScratch ? layers : (unfreeze ?? layers), seed: options.seed)
            if fromScratch { throw TransferError.unsupported("text from scratch: use `graft compare --text` (random-init BERT baseline)") }
            manifest = BundleManifest(task: .text, strategy: .fineTune, model: name, architecture: "bert", classNames: source.classNames)
        }
        let trainer = Trainer(network: network, options: options, progress: progress)
        let checkpoint = out.deletingLastPathComponent().appendingPathComponent(out.lastPathComponent + ".checkpoint")
        let result = try trainer.fit(dataset: source.train, train: split.train, validation: split.validation,
                                     checkpoint: checkpoint, resume: resume, isCancelled: isCancelled)
        let testSet = source.test ?? source.train
        let report = split.test.isEmpty ? nil : try Evaluation.report(network, dataset: testSet, indices: split.test, progress: progress)
        if let report {
            manifest.notes["testAccuracy"] = String(format: "%.4f", report.accuracy)
            manifest.notes["testBalancedAccuracy"] = String(format: "%.4f", report.balancedAccuracy)
        }
        manifest.notes["trainableParameters"] = "\(result.trainableParameters)"
        manifest.notes["epochs"] = "\(result.history.count)"
        manifest.notes["trainSeconds"] = String(format: "%.1f", result.seconds)
        if isCancelled() { throw TransferError.cancelled }
        try BundleStore.save(manifest, network: network.module, to: out)
        return Outcome(training: result, test: report, manifest: manifest)
    }
}
