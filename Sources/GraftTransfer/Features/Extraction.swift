import Foundation
import GraftData

/// Streams a data set through an extractor into a feature store, shard by
/// shard. Memory holds one shard of features plus the loader's bounded
/// prefetch, whatever the data set's size. Rerunning the same job after a
/// kill resumes at the first unfinished shard, and the result is identical
/// to an uninterrupted run (shards are computed from fixed item ranges in a
/// fixed order with fixed batch boundaries).
public struct FeatureExtraction {
    public var batchSize = 32
    public var shardSize = 4096
    public var strict = false
    public var overwrite = false
    public var progress: ProgressHandler?

    public init(batchSize: Int = 32, shardSize: Int = 4096, strict: Bool = false, overwrite: Bool = false, progress: ProgressHandler? = nil) {
        self.batchSize = batchSize
        // Whole batches per shard keep batch boundaries identical on resume.
        self.shardSize = max(batchSize, shardSize / max(batchSize, 1) * max(batchSize, 1))
        self.strict = strict; self.overwrite = overwrite; self.progress = progress
    }

    @discardableResult
    public func run(extractor: FeatureExtractor, dataset: any Dataset, indices: [Int]? = nil, to url: URL,
                    isCancelled: @Sendable () -> Bool = { false }) throws -> FeatureStore {
        let items = indices ?? Array(0..<dataset.count)
        guard !items.isEmpty else { throw TransferError.emptyData("nothing to extract") }
        let writer = try FeatureStoreWriter(url: url, source: extractor.source, backbone: extractor.backbone.spec,
                                            classNames: dataset.classNames, requested: items.count, shardSize: shardSize,
                                            overwrite: overwrite)
        let done = min(writer.nextShard * shardSize, items.count)
        let meter = ProgressMeter(phase: .extracting, total: items.count, alreadyDone: done)
        progress?(meter.event(completed: done))
        let preprocessing = extractor.preprocessing ?? Preprocessing(inputSize: 1)
        while !writer.isComplete {
            if isCancelled() { throw TransferError.cancelled }
            let shardStart = Date()
            let shard = writer.nextShard
            let range = (shard * shardSize)..<min((shard + 1) * shardSize, items.count)
            let loader = BatchLoader(dataset: dataset, indices: Array(items[range]), preprocessing: preprocessing,
                                     options: .init(batchSize: batchSize, strict: strict))
            var features: [Float] = [], labels: [Int] = [], ids: [String] = [], failures: [String] = []
            features.reserveCapacity(range.count * extractor.source.dimension)
            while let batch = try loader.next() {
                if isCancelled() { loader.cancel(); throw TransferError.cancelled }
                failures += batch.failures.map(\.description)
                if batch.count > 0 {
                    features += try extractor.features(batch, paddedTo: batchSize)
                    labels += try batch.requireLabels(); ids += batch.ids
                }
                progress?(meter.event(completed: range.lowerBound + min((batch.number + 1) * batchSize, range.count)))
            }
            try writer.append(features: features, labels: labels, ids: ids, failures: failures,
                              seconds: Date().timeIntervalSince(shardStart))
        }
        progress?(meter.event(completed: items.count))
        return try FeatureStore.open(url)
    }
}
