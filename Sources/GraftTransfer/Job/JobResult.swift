import Foundation
import GraftHeads
import GraftTensor
import GraftWeights

/// What a `TransferJob` produced: the trained model (a head or a network, and its bundle
/// manifest) and the report (split, validation and test metrics, history, time, size).
public struct JobResult {
    public var strategy: Strategy
    /// The backbone the model is built on (a random one for `.fromScratch`).
    public var backbone: BackboneSpec
    /// The bundle's manifest (written to `bundle` when the job had one).
    public var manifest: BundleManifest
    /// Wall time to train: feature extraction of the training items included, evaluation excluded.
    public var trainSeconds: Double
    /// Feature extraction: the part of `trainSeconds` spent extracting the training items' features.
    public var extractSeconds: Double?
    public var trainableParameters: Int
    public var split = ExperimentSplit(train: [], validation: [], test: [], testFromOfficialSet: false)
    /// Classification: the validation and test reports.
    public var validation: ClassificationReport?
    public var test: ClassificationReport?
    /// Regression and multi-label: the task's metrics on the validation and test items.
    public var validationMetrics: TaskMetrics?
    public var testMetrics: TaskMetrics?
    /// Regression and multi-label: the test items' scores and targets (a report's scatter plot).
    public var testScores: Evaluation.Scored?
    /// Per-item test predictions, for reports of the most confident mistakes.
    public var testPredictions: ItemPredictions?
    /// Network strategies: epochs, the LP-FT probe, the recipe's name ("LP-FT", "FT", "from scratch").
    public var training: TrainingResult?
    public var probe: NetworkRecipe.LinearProbe?
    /// The learning-rate range test that chose the rate (`--lr auto`).
    public var learningRateRangeTest: LearningRateRangeTest.Result?
    public var recipe: String?
    /// Where the bundle was written.
    public var bundle: URL?
    /// The trained model itself (one of the two).
    var head: (any ClassifierHead)?
    var network: TaskNetwork?

    init(strategy: Strategy, backbone: BackboneSpec, manifest: BundleManifest, trainSeconds: Double, trainableParameters: Int) {
        self.strategy = strategy; self.backbone = backbone; self.manifest = manifest
        self.trainSeconds = trainSeconds; self.trainableParameters = trainableParameters
    }

    /// A row for `graft compare`'s table: the strategy, what it used, its test scores.
    public var detail: String {
        switch strategy {
        case .featureExtraction:
            let features = manifest.precision == .fp32 ? "" : ", \(manifest.precision.rawValue) features"
            if let knn = head as? NearestNeighborsHead { return "k=\(knn.k)" + features }
            return (head?.regularisation.map { String(format: "C=%g", $0) } ?? "no fitting") + features
        case let .fineTune(k):
            let trained = backbone.unfreezeFrom.map { "from \($0)" } ?? "last \(k.map(String.init) ?? "all")"   // an ONNX graph names its first node
            let rate = learningRateRangeTest.map { String(format: ", lr %.2g (range test)", $0.suggested) } ?? ""
            return "\(trained) + head, \(recipe ?? "FT")\(rate)"
        case let .contrastive(o): return "\(o.iterations) pair iterations, \(o.epochs) epoch\(o.epochs == 1 ? "" : "s"), lr \(o.learningRate)"
        case .fromScratch: return backbone.input == .image ? (backbone.architecture == "small-cnn" ? "small CNN" : backbone.architecture)
                                                           : "random-init \(backbone.model)"
        }
    }

    /// Writes the bundle (old-or-new at every instant).
    public func save(to url: URL) throws {
        if let head {
            try BundleStore.save(manifest, head: head, to: url)
        } else if let network {
            try BundleStore.save(manifest, network: network.module, to: url)
        }
    }
}
