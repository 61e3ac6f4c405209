import Foundation
import GraftWeights

/// An on-disk table of features, labels and source ids, in fixed-size
/// shards (safetensors) with a JSON manifest. Any size: readers go shard
/// by shard; writers append shard by shard and can resume after a kill.
///
/// Layout: `manifest.json` plus `shard-00000.safetensors`, ... each holding
/// `features` [n, d] F32 and `labels` [n] I64, with the ids in its metadata.
/// A shard is written to a temporary name and renamed; the manifest lists
/// only renamed shards, so a half-written shard is never read as complete.
public struct FeatureStore: Sendable {
    public struct Manifest: Codable, Sendable, Equatable {
        public var format = "graft-features/1"
        public var source: FeatureSource
        /// The backbone that made the features (nil in stores of Graft 0.1, which did not record it).
        public var backbone: BackboneSpec?
        public var classNames: [String]
        public var shardSize: Int
        /// Examples the extraction was asked for (some may have failed).
        public var requested: Int
        public var shards: [Shard]
        public var failures: [String]
        public var complete: Bool

        public struct Shard: Codable, Sendable, Equatable {
            public var file: String
            public var count: Int
        }
    }

    public let url: URL
    public let manifest: Manifest

    public var source: FeatureSource { manifest.source }
    public var classNames: [String] { manifest.classNames }
    public var count: Int { manifest.shards.reduce(0) { $0 + $1.count } }

    public static func manifestURL(_ url: URL) -> URL { url.appendingPathComponent("manifest.json") }

    public static func open(_ url: URL) throws -> FeatureStore {
        let m = manifestURL(url)
        guard let data = try? Data(contentsOf: m) else {
            throw TransferError.corruptStore(path: url.path, reason: "no manifest.json (not a feature store, or extraction never finished a shard)")
        }
        do {
            return FeatureStore(url: url, manifest: try JSONDecoder().decode(Manifest.self, from: data))
        } catch {
            throw TransferError.corruptStore(path: url.path, reason: "unreadable manifest.json: \(error)")
        }
    }

    /// One shard's rows: features [count * dimension], labels, ids.
    public struct Chunk: Sendable {
        public var features: [Float]
        public var labels: [Int]
        public var ids: [String]
        public var count: Int { labels.count }
    }

    public func readShard(_ i: Int) throws -> Chunk {
        let shard = manifest.shards[i]
        let file = url.appendingPathComponent(shard.file)
        let tensors: [String: StoredTensor]
        let metadata: [String: String]
        do {
            let w = try WeightFile.open(file)
            tensors = Dictionary(w.tensors.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
            metadata = w.metadata
        } catch {
            throw TransferError.corruptStore(path: file.path, reason: "\(error)")
        }
        guard let f = tensors["features"], let l = tensors["labels"],
              f.shape == [shard.count, source.dimension], l.shape == [shard.count] else {
            throw TransferError.corruptStore(path: file.path, reason: "expected features [\(shard.count), \(source.dimension)] and labels [\(shard.count)]")
        }
        let ids = (metadata["ids"].flatMap { try? JSONDecoder().decode([String].self, from: Data($0.utf8)) }) ?? []
        return Chunk(features: try f.floats(), labels: try l.int64s().map { Int($0) }, ids: ids)
    }

    /// Every row in memory (for stores that fit; otherwise iterate `readShard`).
    public func readAll() throws -> Chunk {
        var all = Chunk(features: [], labels: [], ids: [])
        all.features.reserveCapacity(count * source.dimension)
        for i in manifest.shards.indices {
            let c = try readShard(i)
            all.features += c.features; all.labels += c.labels; all.ids += c.ids
        }
        return all
    }

    /// Refuses features from another model or layer than `expected`.
    public func requireSource(_ expected: FeatureSource) throws {
        guard source == expected else {
            throw TransferError.storeMismatch(store: url.path, expected: expected.description, found: source.description)
        }
    }
}
