import Foundation
import GraftWeights

/// Appends shards to a feature store, resuming a previous run when the
/// manifest on disk describes the same job.
public final class FeatureStoreWriter {
    public let url: URL
    public private(set) var manifest: FeatureStore.Manifest

    /// Opens `url` for the job described by `source`, `classNames`, `requested`
    /// and `shardSize`. An existing store for the same job resumes (its
    /// finished shards are kept); one for a different job is an error unless
    /// `overwrite` is set.
    public init(url: URL, source: FeatureSource, backbone: BackboneSpec?, classNames: [String], requested: Int, shardSize: Int,
                overwrite: Bool = false) throws {
        self.url = url
        let fresh = FeatureStore.Manifest(source: source, backbone: backbone, classNames: classNames, shardSize: shardSize,
                                          requested: requested, shards: [], failures: [], complete: false)
        let fm = FileManager.default
        if let existing = try? FeatureStore.open(url).manifest {
            let sameJob = existing.source == source && existing.backbone == backbone && existing.classNames == classNames
                && existing.requested == requested && existing.shardSize == shardSize
            if sameJob {
                manifest = existing
                Self.sweepTemporaries(in: url, keeping: Set(existing.shards.map(\.file)).union(ShardedExtraction.finishedFiles(in: url)))
                return
            }
            guard overwrite else {
                throw TransferError.storeMismatch(store: url.path, expected: "\(source), \(requested) examples",
                                                  found: "\(existing.source), \(existing.requested) examples (use --overwrite)")
            }
            try? fm.removeItem(at: url)
        }
        try fm.createDirectory(at: url, withIntermediateDirectories: true)
        // A first run killed while writing its manifest leaves the manifest's temporary file (Foundation's
        // atomic write names it `.dat.nosync*`): it goes.
        // (Shards are left alone here: under mpirun other ranks may be writing theirs.)
        for name in (try? fm.contentsOfDirectory(atPath: url.path)) ?? [] where name != "manifest.json"
            && (name.hasPrefix("manifest.json") || name.hasPrefix(".manifest.json") || name.hasPrefix(".dat.nosync")) {
            try? fm.removeItem(at: url.appendingPathComponent(name))
        }
        manifest = fresh
        try writeManifest()
    }

    /// Index of the next shard to extract.
    public var nextShard: Int { manifest.shards.count }
    public var shardCount: Int { (manifest.requested + manifest.shardSize - 1) / manifest.shardSize }
    public var isComplete: Bool { manifest.complete }

    /// Writes shard `nextShard` atomically, then records it in the manifest.
    public func append(features: [Float], labels: [Int], ids: [String], failures: [String] = []) throws {
        let shard = try Self.writeShard(nextShard, in: url, dimension: manifest.source.dimension, features: features, labels: labels, ids: ids)
        try record(shard, failures: failures)
    }

    /// Writes shard file `index` atomically without touching the manifest
    /// (sharded extraction writes shards on several ranks, rank 0 records them).
    public static func writeShard(_ index: Int, in url: URL, dimension: Int, features: [Float], labels: [Int],
                                  ids: [String]) throws -> FeatureStore.Manifest.Shard {
        let n = labels.count
        guard features.count == n * dimension, ids.count == n else {
            throw TransferError.corruptStore(path: url.path, reason: "shard rows disagree: \(features.count) values, \(n) labels, \(ids.count) ids")
        }
        let name = String(format: "shard-%05d.safetensors", index)
        let idsJSON = String(decoding: try JSONEncoder().encode(ids), as: UTF8.self)
        let tensors = [
            try StoredTensor(name: "features", shape: [n, dimension], floats: features),
            try StoredTensor(name: "labels", dtype: .i64, shape: [n], bytes: TensorBytes(copyingValuesOf: labels.map { Int64($0) })),
        ]
        try WeightFile(tensors: tensors).writeSafetensors(to: url.appendingPathComponent(name), metadata: ["ids": idsJSON])
        return .init(file: name, count: n)
    }

    /// Records shard `nextShard`, already written by `writeShard`, in the manifest.
    public func record(_ shard: FeatureStore.Manifest.Shard, failures: [String]) throws {
        manifest.shards.append(shard)
        manifest.failures += failures
        manifest.complete = nextShard >= shardCount
        try writeManifest()
    }

    /// Removes what a kill between writing a shard and recording it leaves behind: temporary files and
    /// shards the manifest does not list (they are recomputed, identically, on resume).
    static func sweepTemporaries(in url: URL, keeping listed: Set<String>) {
        let fm = FileManager.default
        for name in (try? fm.contentsOfDirectory(atPath: url.path)) ?? [] where name != "manifest.json" && !listed.contains(name) {
            if name.hasPrefix("shard-") || name.hasPrefix(".") || name.hasSuffix(".tmp") {
                try? fm.removeItem(at: url.appendingPathComponent(name))
            }
        }
    }

    private func writeManifest() throws {
        let enc = JSONEncoder()
        enc.outputFormatting = [.prettyPrinted, .sortedKeys]
        try enc.encode(manifest).write(to: FeatureStore.manifestURL(url), options: .atomic)
    }
}
