import Foundation
import GraftData
import GraftDistributed

/// Feature extraction spread over the ranks of a communicator: rank r
/// extracts shards r, r + N, r + 2N, ... of the single-process layout (same
/// item ranges, same batch boundaries, same file names), so the finished
/// store is the one a single process writes, shard files byte for byte when
/// the extractor is deterministic (same GRAFT_THREADS on both sides).
///
/// Each finished shard gets a small sidecar `shard-NNNNN.done.json` (its row
/// count and failures) next to it. At the end rank 0 gathers every rank's
/// records, writes them into the manifest in shard order, marks the store
/// complete and removes the sidecars. A rank killed mid-run leaves finished
/// shards with their sidecars; rerunning the same command (with any number
/// of ranks) skips them.
public struct ShardedExtraction {
    public var extraction: FeatureExtraction
    public let communicator: Communicator

    public init(extraction: FeatureExtraction, communicator: Communicator) {
        self.extraction = extraction; self.communicator = communicator
    }

    /// One finished shard, as rank 0 records it.
    struct Record: Codable, Equatable {
        var index: Int
        var count: Int
        var failures: [String]
        var seconds: Double
    }

    static func sidecar(_ url: URL, _ index: Int) -> URL {
        url.appendingPathComponent(String(format: "shard-%05d.done.json", index))
    }

    /// Shards an interrupted multi-rank run finished but rank 0 has not recorded yet, with their
    /// sidecars: `FeatureStoreWriter` keeps them when it resumes the store.
    public static func finishedFiles(in url: URL) -> Set<String> {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: url.path)) ?? []
        var kept = Set<String>()
        for name in names where name.hasSuffix(".done.json") {
            let shard = name.replacingOccurrences(of: ".done.json", with: ".safetensors")
            if names.contains(shard) { kept.insert(name); kept.insert(shard) }
        }
        return kept
    }

    @discardableResult
    public func run(extractor: FeatureExtractor, dataset: any Dataset, items: [Int], to url: URL,
                    isCancelled: @Sendable () -> Bool = { false }) throws -> FeatureStore {
        let shardSize = extraction.shardSize
        // Rank 0 opens (or resumes, or replaces) the store before anyone writes into it.
        var writer: FeatureStoreWriter?
        var opened: [UInt8] = []
        if communicator.isRoot {
            do {
                let w = try FeatureStoreWriter(url: url, source: extractor.source, backbone: extractor.backbone.spec,
                                               classNames: dataset.classNames, requested: items.count, shardSize: shardSize,
                                               overwrite: extraction.overwrite)
                writer = w
                opened = Array("\(w.nextShard)".utf8)
            } catch {
                opened = Array("error: \(error)".utf8)
                _ = try communicator.broadcast(bytes: opened, root: 0)
                throw error
            }
        }
        let answer = String(decoding: try communicator.broadcast(bytes: opened, root: 0), as: UTF8.self)
        guard let firstShard = Int(answer) else {
            throw TransferError.unsupported("rank 0 could not open the feature store \(url.path): \(answer.dropFirst("error: ".count))")
        }
        let shardCount = (items.count + shardSize - 1) / shardSize
        let meter = ProgressMeter(phase: .extracting, total: items.count, alreadyDone: min(firstShard * shardSize, items.count))
        var mine: [Record] = []
        for index in stride(from: firstShard + communicator.rank, to: shardCount, by: communicator.size) {
            if let done = try? JSONDecoder().decode(Record.self, from: Data(contentsOf: Self.sidecar(url, index))), done.index == index {
                mine.append(done)   // finished by an earlier, interrupted run
                continue
            }
            let started = Date()
            let rows = try extraction.extractShard(index, of: items, extractor: extractor, dataset: dataset, isCancelled: isCancelled) {
                if communicator.isRoot { extraction.progress?(meter.event(completed: $0)) }
            }
            let shard = try FeatureStoreWriter.writeShard(index, in: url, dimension: extractor.source.dimension,
                                                          features: rows.features, labels: rows.labels, ids: rows.ids)
            let record = Record(index: index, count: shard.count, failures: rows.failures, seconds: Date().timeIntervalSince(started))
            try JSONEncoder().encode(record).write(to: Self.sidecar(url, index), options: .atomic)
            mine.append(record)
        }
        // Rank 0 records every shard in order; the store is complete only then.
        let gathered = try communicator.gatherv(Array(try JSONEncoder().encode(mine)), root: 0)
        if let gathered, let writer {
            let records = try gathered.flatMap { try JSONDecoder().decode([Record].self, from: Data($0)) }.sorted { $0.index < $1.index }
            guard records.map(\.index) == Array(firstShard..<shardCount) else {
                throw TransferError.corruptStore(path: url.path, reason: "ranks returned shards \(records.map(\.index)), expected \(firstShard)..<\(shardCount)")
            }
            for record in records {
                try writer.record(.init(file: String(format: "shard-%05d.safetensors", record.index), count: record.count),
                                  failures: record.failures)
            }
            for record in records { try? FileManager.default.removeItem(at: Self.sidecar(url, record.index)) }
            extraction.progress?(meter.event(completed: items.count))
        }
        try communicator.barrier()   // no rank reads the store before rank 0 has completed it
        return try FeatureStore.open(url)
    }
}
