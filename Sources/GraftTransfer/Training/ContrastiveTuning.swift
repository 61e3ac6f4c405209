import Foundation
import GraftData
import GraftNN
import GraftTensor

/// SetFit's first stage: the backbone learns, from pairs of a few labelled items, to place items of one
/// class close together and items of different classes apart. Pairs come from `ContrastivePairs`; each
/// step embeds both sides with what the network's head reads (`TaskNetwork.headInput`: BERT's
/// mean-pooled states), and the loss is `Tensor.cosineSimilarityLoss` against 1 / 0. Only the trunk
/// trains (the head is fitted afterwards, on the tuned embeddings: `TransferJob`).
public struct ContrastiveTuning {
    public var options: ContrastiveOptions
    public var progress: ProgressHandler?

    public init(_ options: ContrastiveOptions, progress: ProgressHandler? = nil) {
        self.options = options; self.progress = progress
    }

    public struct Outcome: Sendable {
        /// One record per epoch: the mean pair loss, the pair accuracy (cosine above 0.5 exactly for the same-class
        /// pairs, before each step), the learning rate at its end, pairs per second.
        public var history: [EpochRecord]
        public var pairs: Int
        public var steps: Int
        public var trainableParameters: Int
        public var seconds: Double
    }

    /// SetFit's schedule (sentence-transformers' WarmupLinear): linear warm-up to the full rate over
    /// `warmup` steps, then linear decay to 0 at `total`.
    static func warmupLinear(step: Int, warmup: Int, total: Int) -> Float {
        if step < warmup { return Float(step) / Float(max(1, warmup)) }
        return max(0, Float(total - step) / Float(max(1, total - warmup)))
    }

    /// Pairs whose cosine is on the side of 0.5 their similarity label says.
    static func agreeing(_ u: [Float], _ v: [Float], width d: Int, similarity: [Float]) -> Int {
        var count = 0
        for (i, s) in similarity.enumerated() {
            var dot: Float = 0, nu: Float = 0, nv: Float = 0
            for j in (i * d)..<((i + 1) * d) { dot += u[j] * v[j]; nu += u[j] * u[j]; nv += v[j] * v[j] }
            let cosine = dot / max((nu * nv).squareRoot(), 1e-8)
            if (cosine > 0.5) == (s > 0.5) { count += 1 }
        }
        return count
    }

    /// Tunes the trainable parameters of `network` outside its head on pairs of the items `indices` of `dataset`.
    public func tune(_ network: TaskNetwork, dataset: any Dataset, indices: [Int], seed: UInt64,
                     isCancelled: @Sendable () -> Bool = { false }) throws -> Outcome {
        try options.validate()
        let started = Date()
        let pairs = try ContrastivePairs.make(labels: indices.map(dataset.label(at:)), iterations: options.iterations, seed: seed)
        let trunk = network.trainableParameters().trunk
        guard !trunk.isEmpty else { throw TransferError.unsupported("contrastive tuning found no trainable backbone parameters") }
        let optimizer = AdamW([ParameterGroup(trunk.filter { $0.rank >= 2 }, weightDecay: options.weightDecay),
                               ParameterGroup(trunk.filter { $0.rank < 2 })].filter { !$0.parameters.isEmpty },
                              learningRate: options.learningRate)
        let stepsPerEpoch = (pairs.count + options.batchSize - 1) / options.batchSize
        let total = stepsPerEpoch * options.epochs
        let warmup = Int((Float(total) * options.warmupFraction).rounded(.up))
        let preprocessing = network.preprocessing ?? Preprocessing(inputSize: 1)
        var history: [EpochRecord] = [], step = 0
        for epoch in 0..<options.epochs {
            let epochStart = Date()
            let order = pairs.shuffled(seed: seed &+ 0xC0 &+ UInt64(epoch))
            // Both sides of each batch of pairs load in lockstep, in the shuffled pair order.
            func loader(_ side: [Int]) -> BatchLoader {
                BatchLoader(dataset: dataset, indices: side.map { indices[$0] }, preprocessing: preprocessing,
                            options: .init(batchSize: options.batchSize))
            }
            let left = loader(order.first), right = loader(order.second)
            let meter = ProgressMeter(phase: .training, total: order.count)
            var seen = 0, lossSum = 0.0, agreeing = 0
            while let a = try left.next(), let b = try right.next() {
                if isCancelled() { left.cancel(); right.cancel(); throw TransferError.cancelled }
                guard a.count == b.count, a.count > 0 else {
                    throw TransferError.emptyData("a batch of contrastive pairs lost items while loading (\(a.count) vs \(b.count))")
                }
                optimizer.learningRate = options.learningRate * Self.warmupLinear(step: step, warmup: warmup, total: total)
                optimizer.zeroGrad()
                let target = try Tensor(shape: [a.count], values: Array(order.similarity[seen..<(seen + a.count)]))
                let u = try network.headInput(a, training: true), v = try network.headInput(b, training: true)
                let loss = try Tensor.cosineSimilarityLoss(u, v, similarity: target)
                agreeing += Self.agreeing(u.values, v.values, width: u.shape[1], similarity: target.values)
                try loss.backward()
                if options.clipNorm > 0 { clipGradientNorm(trunk, maxNorm: options.clipNorm) }
                try optimizer.step()
                step += 1
                seen += a.count
                lossSum += Double(loss.scalarValue) * Double(a.count)
                progress?(meter.event(completed: seen, epoch: epoch, loss: lossSum / Double(seen)))
            }
            optimizer.zeroGrad()
            let seconds = Date().timeIntervalSince(epochStart)
            history.append(EpochRecord(epoch: epoch, trainLoss: lossSum / Double(max(seen, 1)), trainAccuracy: Double(agreeing) / Double(max(seen, 1)),
                                       learningRate: Double(optimizer.learningRate), seconds: seconds,
                                       imagesPerSecond: Double(seen) / max(seconds, 1e-9)))
        }
        return Outcome(history: history, pairs: pairs.count, steps: step, trainableParameters: trunk.reduce(0) { $0 + $1.count },
                       seconds: Date().timeIntervalSince(started))
    }
}
