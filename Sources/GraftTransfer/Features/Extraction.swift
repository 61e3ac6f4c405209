import Foundation
import GraftData
import GraftDistributed

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
    /// Under mpirun, each rank extracts every size-th shard (Distributed/ShardedExtraction.swift).
    public var communicator: Communicator = .world

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
        if communicator.isDistributed {
            return try ShardedExtraction(extraction: self, communicator: communicator)
                .run(extractor: extractor, dataset: dataset, items: items, to: url, isCancelled: isCancelled)
        }
        let writer = try FeatureStoreWriter(url: url, source: extractor.source, backbone: extractor.backbone.spec,
                                            classNames: dataset.classNames, requested: items.count, shardSize: shardSize,
                                            overwrite: overwrite)
        let done = min(writer.nextShard * shardSize, items.count)
        let meter = ProgressMeter(phase: .extracting, total: items.count, alreadyDone: done)
        progress?(meter.event(completed: done))
        while !writer.isComplete {
            let shard = writer.nextShard
            let rows = try extractShard(shard, of: items, extractor: extractor, dataset: dataset, isCancelled: isCancelled) {
                progress?(meter.event(completed: $0))
            }
            try writer.append(features: rows.features, labels: rows.labels, ids: rows.ids, failures: rows.failures)
        }
        progress?(meter.event(completed: items.count))
        return try FeatureStore.open(url)
    }

    /// The rows of shard `shard`: a fixed range of `items` in fixed batches, so
    /// a shard's rows do not depend on which run or rank extracts it. `completed`
    /// receives the items done so far (of all shards before this one and this one's).
    public func extractShard(_ shard: Int, of items: [Int], extractor: FeatureExtractor, dataset: any Dataset,
                             isCancelled: @Sendable () -> Bool = { false },
                             completed: (Int) -> Void = { _ in }) throws -> (features: [Float], labels: [Int], ids: [String], failures: [String]) {
        if isCancelled() { throw TransferError.cancelled }
        let range = (shard * shardSize)..<min((shard + 1) * shardSize, items.count)
        let loader = BatchLoader(dataset: dataset, indices: Array(items[range]), preprocessing: extractor.preprocessing ?? Preprocessing(inputSize: 1),
                                 options: .init(batchSize: batchSize, strict: strict))
        var features: [Float] = [], labels: [Int] = [], ids: [String] = [], failures: [String] = []
        features.reserveCapacity(range.count * extractor.source.dimension)
        while let batch = try loader.next() {
            if isCancelled() { loader.cancel(); throw TransferError.cancelled }
            failures += batch.failures.map(\.description)
            if batch.count > 0 {
                features += try extractor.features(batch, paddedTo: batchSize)
                // Stores keep class labels; items that carry other targets (TargetedDataset) store their data set's label.
                labels += batch.labels ?? batch.indices.map(dataset.label(at:)); ids += batch.ids
            }
            completed(range.lowerBound + min((batch.number + 1) * batchSize, range.count))
        }
        return (features, labels, ids, failures)
    }
}
