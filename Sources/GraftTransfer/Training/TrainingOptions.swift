import GraftData
import GraftTensor

/// Hyper-parameters of fine-tuning and of training from scratch.
public struct TrainingOptions: Codable, Sendable, Equatable {
    public enum OptimizerKind: String, Codable, Sendable { case sgd, adamw }
    public enum ScheduleKind: String, Codable, Sendable { case cosine, oneCycle = "one-cycle", constant }

    public var epochs = 5
    /// A budget of optimizer steps that replaces `epochs` when set: training runs exactly this many steps
    /// (ceil(steps / steps per epoch) epochs, the last one cut short), and the schedule spans them. One
    /// number means the same amount of training whatever the data size.
    public var steps: Int?
    public var batchSize = 32
    /// Learning rate of the head; the trunk gets `learningRate * trunkLearningRateScale`.
    public var learningRate: Float = 0.01
    /// Replace `learningRate` by what a learning-rate range test suggests on the network as training
    /// starts (after LP-FT's probe): `LearningRateRangeTest`, docs/TRANSFER.md.
    public var findsLearningRate = false
    /// `--unfreeze auto`: the job replaces a fine-tune's block count by `AutomaticDepth.blocks` for its training split.
    public var choosesDepth = false
    public var trunkLearningRateScale: Float = 0.1
    public var optimizer: OptimizerKind = .sgd
    public var momentum: Float = 0.9
    /// Applied to weights only, never to norms and biases.
    public var weightDecay: Float = 1e-4
    public var schedule: ScheduleKind = .cosine
    /// Fraction of all steps spent warming up (cosine schedule).
    public var warmupFraction: Float = 0.1
    public var labelSmoothing: Float = 0.1
    /// Global gradient-norm clip (0 disables).
    public var clipNorm: Float = 5
    /// Random resized crop, flip and colour jitter on the training split.
    public var augment = true
    /// Which of the three transforms `augment` applies (all by default).
    public var randomResizedCrop = true
    public var horizontalFlip = true
    public var colorJitter = true
    /// Small source images (a side at most a third of the network's input, such as 28x28 clothing
    /// upscaled to 224) train without random resized crop and colour jitter: a crop of a few dozen
    /// pixels blown up 8x destroys what little the image holds (docs/TRANSFER.md has the measurement).
    /// The job path applies it (`TransferJob`); false keeps the transforms whatever the input.
    public var adaptsAugmentationToInput = true
    /// AdaBN: re-estimate every batch norm's statistics on the training split before the probe and
    /// fine-tuning (`BatchNormAdaptation`); for domains far from the backbone's data.
    public var adaptsBatchNorm = false
    /// Fine-tuning's frozen trunk computed as at inference, in this precision (`FrozenTrunk`, docs/TRANSFER.md
    /// "Frozen trunk precision"): no dropout, no tape, fused kernels; the trainable layers and the head train in fp32 as
    /// always. nil (the default): frozen layers run in training mode with the rest (BERT's dropout included). int8
    /// needs a backbone that quantizes dynamically (text encoders); bf16 a CPU with bf16.
    public var frozenTrunkPrecision: Precision?
    /// Stop after this many epochs without a better validation accuracy (0 disables).
    public var patience = 3
    public var seed: UInt64 = 0

    public init() {}

    /// Epochs and optimizer steps `fit` runs over `items` training items: `steps` when set, else `epochs` full epochs.
    public func plannedSteps(items: Int) -> (epochs: Int, steps: Int, stepsPerEpoch: Int) {
        let perEpoch = max(1, (items + batchSize - 1) / batchSize)
        guard let steps else { return (epochs, perEpoch * epochs, perEpoch) }
        return (max(1, (steps + perEpoch - 1) / perEpoch), max(1, steps), perEpoch)
    }

    /// The augmentation for training images, when enabled.
    public var augmentation: Augmentation? {
        guard augment, randomResizedCrop || horizontalFlip || colorJitter else { return nil }
        return Augmentation(resizedCrop: randomResizedCrop ? .init(scale: 0.6...1.0) : nil,
                            horizontalFlipProbability: horizontalFlip ? 0.5 : 0,
                            colorJitter: colorJitter ? .init(brightness: 0.1, contrast: 0.1, saturation: 0.1) : nil)
    }
}
