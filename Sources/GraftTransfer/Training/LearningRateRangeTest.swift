import Foundation
import GraftData
import GraftNN
import GraftTensor

/// Smith's learning-rate range test (fastai's `lr_find`): train for a few dozen steps while the head's rate
/// grows geometrically from `lowest` to `highest` (the trunk at its usual fraction of it), record the loss, and
/// suggest a rate from the curve. The network, its buffers and its dropout streams are put back exactly as they
/// were: the test costs time, never state, so a job with it trains from the same weights as one without.
public struct LearningRateRangeTest: Sendable, Equatable {
    public var steps = 36
    public var lowest: Float = 1e-5
    public var highest: Float = 1
    /// The loss "breaks" where its smoothed value first rises past this multiple of its lowest so far.
    public var rise = 1.25
    /// Stop once the smoothed loss passes this multiple of its lowest value: the rate has blown up.
    public var divergence = 4.0
    /// Weight of the running loss in its exponential average (fastai's 0.98 over 100 steps; 0.9 suits fewer).
    public var smoothing = 0.9

    public init() {}

    public struct Point: Codable, Sendable, Equatable {
        public var learningRate: Float
        public var loss: Double
        /// Exponential average of the losses so far, bias-corrected.
        public var smoothedLoss: Double
    }

    public struct Result: Codable, Sendable, Equatable {
        public var points: [Point]
        /// The rate at the lowest smoothed loss.
        public var minimumLossRate: Float
        /// The first rate at which the smoothed loss rose past `rise` x its lowest so far (the last rate tried
        /// when it never did): where training starts to break.
        public var breakingRate: Float
        /// What training uses: a tenth of `breakingRate`. Not fastai's tenth of `minimumLossRate`: after LP-FT's
        /// probe the loss starts at its floor and stays flat up to the breaking rate, so its minimum is noise
        /// (docs/TRANSFER.md has the curves).
        public var suggested: Float
        /// The loss blew up (past `divergence` x its lowest, or a non-finite gradient) before `highest`.
        public var stoppedEarly: Bool
    }

    /// Runs the test on `trainer`'s network over `train` (cycled, shuffled, augmented as training would be).
    public func run(_ trainer: Trainer, dataset: any Dataset, train: [Int], isCancelled: @Sendable () -> Bool = { false }) throws -> Result {
        guard !train.isEmpty else { throw TransferError.emptyData("empty training split") }
        guard steps >= 2, lowest > 0, highest > lowest, rise > 1, divergence >= rise, (0..<1).contains(smoothing) else {
            throw TransferError.unsupported("learning-rate range test: \(steps) steps from \(lowest) to \(highest), rise \(rise), divergence \(divergence), smoothing \(smoothing)")
        }
        let network = trainer.network
        let saved = try network.module.stateDict().map { try $0.1.copy() }
        let streams = Trainer.dropoutLayers(in: network.module).map(\.generator.state)
        defer {
            for ((_, tensor), copy) in zip(network.module.stateDict(), saved) { try? tensor.assign(copy) }
            trainer.restoreDropoutStreams(streams)
            network.module.zeroGrad()
        }
        let optimizer = trainer.makeOptimizer()
        let preprocessing = network.preprocessing ?? Preprocessing(inputSize: 1)
        var points: [Point] = [], average = 0.0, lowestSmoothed = Double.infinity, stoppedEarly = false
        var breaking: Float?
        var pass = 0
        testing: while points.count < steps {
            // Its own seed stream: the loader of the training that follows is not moved.
            let loader = BatchLoader(dataset: dataset, indices: train, preprocessing: preprocessing,
                                     options: .init(batchSize: trainer.options.batchSize, shuffle: true, seed: trainer.options.seed &+ 0x7E57,
                                                    epoch: pass, augmentation: trainer.options.augmentation))
            pass += 1
            while let batch = try loader.next() {
                if isCancelled() { loader.cancel(); throw TransferError.cancelled }
                guard batch.count > 0 else { continue }
                let i = points.count
                let rate = lowest * pow(highest / lowest, Float(i) / Float(steps - 1))
                optimizer.learningRate = rate
                let loss: Double
                do { loss = Double(try trainer.trainStep(batch, optimizer: optimizer).loss.scalarValue) } catch TransferError.diverged {
                    loader.cancel(); stoppedEarly = true; break testing
                }
                guard loss.isFinite else { loader.cancel(); stoppedEarly = true; break testing }
                average = smoothing * average + (1 - smoothing) * loss
                let smoothed = average / (1 - pow(smoothing, Double(i + 1)))
                points.append(Point(learningRate: rate, loss: loss, smoothedLoss: smoothed))
                lowestSmoothed = min(lowestSmoothed, smoothed)
                // The first few averages are single noisy losses: a rise counts from the fifth step on.
                if breaking == nil, i >= 4, smoothed > rise * lowestSmoothed { breaking = rate }
                if smoothed > divergence * lowestSmoothed { loader.cancel(); stoppedEarly = true; break testing }
                if points.count == steps { loader.cancel(); break testing }
            }
        }
        guard let best = points.min(by: { $0.smoothedLoss < $1.smoothedLoss }) else {
            throw TransferError.diverged("the learning-rate range test's first step at \(lowest) already diverged")
        }
        let breakingRate = breaking ?? points.last!.learningRate
        return Result(points: points, minimumLossRate: best.learningRate, breakingRate: breakingRate, suggested: breakingRate / 10,
                      stoppedEarly: stoppedEarly)
    }
}
