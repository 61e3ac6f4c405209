/// Hyper-parameters of contrastive few-shot tuning (`Strategy.contrastive`). The defaults are SetFit's
/// (Tunstall et al. 2022; setfit's `SetFitTrainer`): 20 pair iterations, one epoch, batches of 16 pairs,
/// AdamW at 2e-5 with a linear warm-up over 10% of the steps and linear decay, weight decay 0.01 on weights,
/// gradients clipped at norm 1 (sentence-transformers' `fit`).
public struct ContrastiveOptions: Codable, Hashable, Sendable {
    /// Rounds of pair drawing: each yields one positive and one negative pair per labelled item.
    public var iterations = 20
    public var epochs = 1
    public var learningRate: Float = 2e-5
    /// Pairs per step.
    public var batchSize = 16
    public var warmupFraction: Float = 0.1
    public var weightDecay: Float = 0.01
    public var clipNorm: Float = 1

    public init(iterations: Int = 20, epochs: Int = 1, learningRate: Float = 2e-5, batchSize: Int = 16) {
        self.iterations = iterations; self.epochs = epochs; self.learningRate = learningRate; self.batchSize = batchSize
    }

    /// Refuses values no tuning can run with.
    public func validate() throws {
        guard iterations > 0, epochs > 0, batchSize > 0, learningRate > 0, learningRate.isFinite else {
            throw TransferError.unsupported("contrastive tuning needs positive iterations, epochs, batch size and learning rate "
                + "(got \(iterations), \(epochs), \(batchSize), \(learningRate))")
        }
    }

    private enum Keys: String, CodingKey { case iterations, epochs, learningRate, batchSize, warmupFraction, weightDecay, clipNorm }

    /// Missing keys keep the defaults, so a bundle states only what it changed.
    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: Keys.self)
        let d = ContrastiveOptions()
        iterations = try c.decodeIfPresent(Int.self, forKey: .iterations) ?? d.iterations
        epochs = try c.decodeIfPresent(Int.self, forKey: .epochs) ?? d.epochs
        learningRate = try c.decodeIfPresent(Float.self, forKey: .learningRate) ?? d.learningRate
        batchSize = try c.decodeIfPresent(Int.self, forKey: .batchSize) ?? d.batchSize
        warmupFraction = try c.decodeIfPresent(Float.self, forKey: .warmupFraction) ?? d.warmupFraction
        weightDecay = try c.decodeIfPresent(Float.self, forKey: .weightDecay) ?? d.weightDecay
        clipNorm = try c.decodeIfPresent(Float.self, forKey: .clipNorm) ?? d.clipNorm
    }
}
