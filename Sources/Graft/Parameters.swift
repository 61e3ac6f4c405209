import Foundation
import GraftData
import GraftHeads
import GraftModels
import GraftTensor
import GraftText
import GraftTransfer

/// How to train a classifier. Every field has a default; name only what you change:
///
/// ```swift
/// var p = Parameters(strategy: .fineTune(unfreeze: 2))
/// p.maxEpochs = 10
/// ```
///
/// Few-shot texts: `Parameters(strategy: .contrastive(ContrastiveOptions(iterations: 20)))` runs SetFit's recipe;
/// its epochs, learning rate and batch size are `ContrastiveOptions`' (`maxEpochs` and `learningRate` do not apply).
public struct Parameters: Sendable, Equatable {
    /// The pretrained network; nil picks `.efficientNetLite0` for images and `.miniLM` for text.
    public var backbone: BackboneSpec?
    public var strategy: Strategy
    /// Training-image transforms of network strategies.
    public var augmentation: AugmentationOptions
    public var validation: ValidationSplit
    /// Epochs of network strategies; training stops earlier when validation
    /// accuracy has not improved for `patience` epochs.
    public var maxEpochs: Int
    /// Epochs without a better validation accuracy before stopping (0: never stop early).
    public var patience: Int
    public var batchSize: Int
    /// Learning rate of the new head (the unfrozen trunk trains at a fifth of
    /// it when fine-tuning); nil picks the recipe `graft finetune` and `graft compare`
    /// share: AdamW at 5e-4 (images) or 2e-3 (text) after the linear probe of
    /// LP-FT when fine-tuning; from scratch SGD at 0.05 (images) or AdamW at 1e-3 (text).
    public var learningRate: Float?
    /// Let a learning-rate range test on the warm-started network choose the head's rate (`graft finetune --lr
    /// auto`; replaces `learningRate`). It costs up to 36 training steps.
    public var findsLearningRate = false
    /// Fine-tuning's block count from the training split's size (`graft finetune --unfreeze auto`, `AutomaticDepth`):
    /// the new head alone below 5,000 images or 1,000 texts, else the last 5 blocks of a deep image
    /// network (EfficientNet, MobileNetV2) and 2 otherwise. Replaces `fineTune(unfreeze:)`'s count.
    public var choosesDepth = false
    /// A budget of optimizer steps instead of `maxEpochs` (`graft finetune --steps`): exactly this many steps.
    public var steps: Int?
    /// Fine-tuning's frozen trunk computed as at inference in this precision while the unfrozen layers train in fp32
    /// (`graft finetune --frozen-precision`; `TrainingOptions.frozenTrunkPrecision`); nil: frozen layers train-mode.
    public var frozenTrunkPrecision: Precision?
    /// AdaBN before fine-tuning: the batch norms' statistics re-estimated on the training data
    /// (for data far from the backbone's, such as grey clothing for an ImageNet network).
    public var adaptsBatchNorm = false
    /// Seeds the split, the initial head, shuffling and augmentation.
    public var seed: UInt64
    /// Where feature stores, checkpoints and the bundle are staged while training
    /// runs; nil uses a fresh folder in the temporary directory. The job removes it
    /// when it ends, so only a finished model's bundle is ever left behind.
    public var workingDirectory: URL?

    public init(backbone: BackboneSpec? = nil, strategy: Strategy = .featureExtraction(), augmentation: AugmentationOptions = .standard,
                validation: ValidationSplit = .auto, maxEpochs: Int = 5, patience: Int = 3, batchSize: Int = 32,
                learningRate: Float? = nil, seed: UInt64 = 0, workingDirectory: URL? = nil) {
        self.backbone = backbone; self.strategy = strategy; self.augmentation = augmentation; self.validation = validation
        self.maxEpochs = maxEpochs; self.patience = patience; self.batchSize = batchSize; self.learningRate = learningRate
        self.seed = seed; self.workingDirectory = workingDirectory
    }

    /// What these parameters change in `NetworkRecipe`'s defaults (network strategies).
    var trainingOverrides: TrainingOverrides {
        var o = TrainingOverrides()
        o.epochs = maxEpochs
        o.patience = patience
        o.batchSize = max(1, batchSize)
        o.learningRate = learningRate
        o.augment = !augmentation.isEmpty
        o.randomResizedCrop = augmentation.contains(.randomResizedCrop)
        o.horizontalFlip = augmentation.contains(.horizontalFlip)
        o.colorJitter = augmentation.contains(.colorJitter)
        o.adaptsAugmentationToInput = !augmentation.contains(.evenOnSmallImages)
        o.adaptsBatchNorm = adaptsBatchNorm
        o.findsLearningRate = findsLearningRate
        o.choosesDepth = choosesDepth
        o.steps = steps
        o.seed = seed
        o.frozenTrunkPrecision = frozenTrunkPrecision
        return o
    }

    func validate() throws {
        guard maxEpochs >= 1 else { throw GraftError.invalidParameters("maxEpochs is \(maxEpochs); it must be at least 1") }
        guard (steps ?? 1) >= 1 else { throw GraftError.invalidParameters("steps is \(steps!); it must be at least 1") }
        guard batchSize >= 1 else { throw GraftError.invalidParameters("batchSize is \(batchSize); it must be at least 1") }
        if case let .fineTune(k?) = strategy, k < 0 {
            throw GraftError.invalidParameters("fineTune(unfreeze: \(k)): the number of blocks cannot be negative")
        }
        if case let .contrastive(o) = strategy {
            do { try o.validate() } catch { throw GraftError.invalidParameters("\(strategy): \(error)") }
        }
        if case let .fraction(f) = validation, !(0..<1).contains(f) {
            throw GraftError.invalidParameters("validation fraction \(f) is outside 0..<1")
        }
        if case let .perClass(n) = validation, n < 0 {
            throw GraftError.invalidParameters("validation perClass \(n) is negative")
        }
    }
}
