import GraftTensor

/// Changes to a recipe's training options: nil keeps the value of
/// `NetworkRecipe.defaultOptions`, so `graft finetune`, `graft compare` and the
/// library change only what their caller named.
public struct TrainingOverrides: Sendable, Equatable {
    public var epochs: Int?
    /// A budget of optimizer steps instead of epochs (`TrainingOptions.steps`).
    public var steps: Int?
    /// Take the head's learning rate from a range test run on the warm-started network (`LearningRateRangeTest`).
    public var findsLearningRate: Bool?
    /// Fine-tune as many blocks as `AutomaticDepth` says for the training split (`--unfreeze auto`).
    public var choosesDepth: Bool?
    public var batchSize: Int?
    /// Learning rate of the head; the trunk gets `learningRate * trunkLearningRateScale`.
    public var learningRate: Float?
    public var trunkLearningRateScale: Float?
    public var optimizer: TrainingOptions.OptimizerKind?
    public var schedule: TrainingOptions.ScheduleKind?
    public var weightDecay: Float?
    public var labelSmoothing: Float?
    public var patience: Int?
    /// All three augmentations on or off; the three flags below refine it.
    public var augment: Bool?
    public var randomResizedCrop: Bool?
    public var horizontalFlip: Bool?
    public var colorJitter: Bool?
    /// See `TrainingOptions.adaptsAugmentationToInput`.
    public var adaptsAugmentationToInput: Bool?
    /// See `TrainingOptions.adaptsBatchNorm`.
    public var adaptsBatchNorm: Bool?
    public var seed: UInt64?
    /// See `TrainingOptions.frozenTrunkPrecision`.
    public var frozenTrunkPrecision: Precision?

    public init() {}

    /// `options` with every named value replaced.
    public func applied(to options: TrainingOptions) -> TrainingOptions {
        var o = options
        func set<T>(_ value: T?, _ field: WritableKeyPath<TrainingOptions, T>) { if let value { o[keyPath: field] = value } }
        set(epochs, \.epochs); set(batchSize.map { max(1, $0) }, \.batchSize)
        set(learningRate, \.learningRate); set(trunkLearningRateScale, \.trunkLearningRateScale)
        set(optimizer, \.optimizer); set(schedule, \.schedule); set(weightDecay, \.weightDecay)
        set(labelSmoothing, \.labelSmoothing); set(patience, \.patience); set(augment, \.augment)
        set(randomResizedCrop, \.randomResizedCrop); set(horizontalFlip, \.horizontalFlip); set(colorJitter, \.colorJitter)
        set(adaptsAugmentationToInput, \.adaptsAugmentationToInput); set(adaptsBatchNorm, \.adaptsBatchNorm)
        set(seed, \.seed); set(findsLearningRate, \.findsLearningRate); set(choosesDepth, \.choosesDepth)
        if let steps { o.steps = steps }
        if let frozenTrunkPrecision { o.frozenTrunkPrecision = frozenTrunkPrecision }
        return o
    }
}
