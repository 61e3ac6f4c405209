import Foundation
import GraftData
import GraftHeads
import GraftTensor

/// Everything about a `TransferJob` besides its data, backbone, task and strategy. Every field has
/// a default; the CLI, the Swift API and `graft compare` change only what their caller named.
public struct JobOptions: Sendable {
    /// Training examples per class (few-shot); nil keeps every training example.
    public var perClass: Int?
    /// Held out of the training data for early stopping, the best epoch and validation metrics.
    public var validation: ValidationSplit = .auto
    /// Test items held out (or drawn from the test set); 0 for none.
    public var testCount = 2000
    /// Seeds the split, every initialisation, shuffling and augmentation.
    public var seed: UInt64 = 0
    /// Changes to the backbone's measured training defaults (network strategies).
    public var training = TrainingOverrides()
    /// LP-FT's linear probe before fine-tuning.
    public var linearProbe = true
    /// Continue a network strategy from its last checkpoint in `workDirectory`.
    public var resume = false
    /// Feature extraction: the cut point (the backbone's `headCut` when nil) and pooling.
    public var cut: String?
    public var pool: FeaturePooling = .avg
    /// Feature extraction: what the backbone computes the features in (docs/PRECISION.md; int8 needs a calibrated
    /// image network or a text encoder); the bundle records it and predicts in it by default. Network strategies
    /// train in fp32 (their frozen trunk: `TrainingOverrides.frozenTrunkPrecision`).
    public var precision: Precision = .fp32
    /// Feature extraction: items per forward and per store shard.
    public var batchSize = 32
    public var shardSize = 4096
    /// Feature extraction: class weighting of the head.
    public var classWeighting: ClassWeighting = .uniform
    /// Feature extraction with the k-NN head: neighbours that vote.
    public var neighbors = 5
    /// Feature extraction: also fit the head on the validation items (the head picks C by cross-validation;
    /// `graft compare` does this, as the Strategies article measured).
    public var headSeesValidation = false
    /// From scratch on images: the architecture (default `small-cnn`).
    public var scratchArchitecture: String?
    /// Where feature stores and checkpoints go.
    public var workDirectory: URL
    /// Where the bundle goes; nil writes none.
    public var bundle: URL?
    /// Most confident test mistakes kept for reports.
    public var mistakes = 16

    public init(workDirectory: URL) { self.workDirectory = workDirectory }
}
