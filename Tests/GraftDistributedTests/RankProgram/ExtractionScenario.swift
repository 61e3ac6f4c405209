import Foundation
import GraftData
import GraftDistributed
import GraftTransfer

/// Extracts a store from seeded 8x8 images with a small deterministic
/// backbone (`DataParallelScenario.PixelsBackbone`), alone or under mpirun
/// (the store layout is what is tested, not the network).
/// `--kill-rank1-at-shard K` makes rank 1 kill itself with SIGKILL while
/// extracting shard K, as the OOM killer would.
enum ExtractionScenario {
    nonisolated(unsafe) static var killAt: (rank: Int, item: Int)?

    /// Arguments: store path, then optional `--items M --shard S --kill-rank1-at-shard K`.
    static func run(_ world: Communicator, arguments: [String]) throws {
        guard let path = arguments.first else { fail("extract needs a store path") }
        func value(_ flag: String) -> Int? { arguments.firstIndex(of: flag).flatMap { Int(arguments[$0 + 1]) } }
        let items = value("--items") ?? 150, shardSize = value("--shard") ?? 32, batch = 8
        killAt = value("--kill-rank1-at-shard").map { (rank: 1, item: $0 * shardSize + 3) }
        let data = try DataParallelScenario.dataset(count: items, classes: 4)
        let extraction = FeatureExtraction(batchSize: batch, shardSize: shardSize)
        let extractor = try FeatureExtractor(backbone: DataParallelScenario.PixelsBackbone())
        let store = try extraction.run(extractor: extractor, dataset: data, to: URL(fileURLWithPath: path))
        expect(store.manifest.complete && store.count == items, "store incomplete: \(store.count) of \(items) rows")
        print("rank \(world.rank) of \(world.size): extract ok, \(store.manifest.shards.count) shards")
    }
}
