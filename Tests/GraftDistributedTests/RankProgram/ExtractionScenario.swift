import Foundation
import GraftData
import GraftDistributed
import GraftTransfer

/// Extracts a store from seeded 8x8 images with a small deterministic
/// extractor, alone or under mpirun (the store layout is what is tested, not
/// the network). `--kill-rank1-at-shard K` makes rank 1 kill itself with
/// SIGKILL while extracting shard K, as the OOM killer would.
enum ExtractionScenario {
    final class ChannelStatistics: FeatureExtractor {
        let source = FeatureSource(model: "channel-statistics", layer: "pixels", pool: .avg, dimension: 6)
        let preprocessing: Preprocessing? = Preprocessing(inputSize: 8)
        let killAt: (rank: Int, item: Int)?
        init(killAt: (rank: Int, item: Int)?) { self.killAt = killAt }

        func features(_ batch: Batch) throws -> [Float] {
            if let killAt, Communicator.world.rank == killAt.rank, batch.ids.contains("synthetic#\(killAt.item)") {
                kill(getpid(), SIGKILL)
            }
            let plane = batch.height * batch.width
            var out: [Float] = []
            for i in 0..<batch.count {
                for c in 0..<3 {
                    var sum: Float = 0, squares: Float = 0
                    for p in 0..<plane { let v = batch.pixels[(i * plane + p) * 3 + c]; sum += v; squares += v * v }
                    out += [sum / Float(plane), (squares / Float(plane)).squareRoot()]
                }
            }
            return out
        }
    }

    /// Arguments: store path, then optional `--items M --shard S --kill-rank1-at-shard K`.
    static func run(_ world: Communicator, arguments: [String]) throws {
        guard let path = arguments.first else { fail("extract needs a store path") }
        func value(_ flag: String) -> Int? { arguments.firstIndex(of: flag).flatMap { Int(arguments[$0 + 1]) } }
        let items = value("--items") ?? 150, shardSize = value("--shard") ?? 32, batch = 8
        let killAt = value("--kill-rank1-at-shard").map { (rank: 1, item: $0 * shardSize + 3) }
        let data = try DataParallelScenario.dataset(count: items, classes: 4)
        let extraction = FeatureExtraction(batchSize: batch, shardSize: shardSize)
        let store = try extraction.run(extractor: ChannelStatistics(killAt: killAt), dataset: data, to: URL(fileURLWithPath: path))
        expect(store.manifest.complete && store.count == items, "store incomplete: \(store.count) of \(items) rows")
        print("rank \(world.rank) of \(world.size): extract ok, \(store.manifest.shards.count) shards")
    }
}
