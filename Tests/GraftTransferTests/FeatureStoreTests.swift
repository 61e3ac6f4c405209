import Foundation
import GraftData
import GraftModels
import GraftTensor
import GraftTransfer
import XCTest

/// The feature store: resumable after a kill with byte-identical results,
/// never reading a half-written shard, refusing features of another model.
final class FeatureStoreTests: XCTestCase {
    var tmp: URL!
    override func setUp() {
        tmp = FileManager.default.temporaryDirectory.appendingPathComponent("graft-store-\(UUID().uuidString)")
    }
    override func tearDown() { try? FileManager.default.removeItem(at: tmp) }

    func digits() throws -> any Dataset { Subset(try BuiltinDatasets.digits(), indices: Array(0..<70)) }

    static let smallCNN = BackboneSpec(input: .image, model: "small-cnn", architecture: "small-cnn", pretrained: false)

    func extractor(cut: String = "conv2", pool: FeaturePooling = .max) throws -> FeatureExtractor {
        try FeatureExtractor(backbone: CNNBackbone(SmallCNN(inputSize: 16, classes: 10, seed: 1), spec: Self.smallCNN), cut: cut, pool: pool)
    }

    func files(_ dir: URL) throws -> [String: Data] {
        var out: [String: Data] = [:]
        for name in try FileManager.default.contentsOfDirectory(atPath: dir.path) {
            out[name] = try Data(contentsOf: dir.appendingPathComponent(name))
        }
        return out
    }

    /// A short batch is run padded to the full batch shape; its rows must be those of the unpadded run.
    func testPaddedShortBatchGivesTheSameRows() throws {
        let e = try extractor()
        var g = SeededGenerator(seed: 5)
        let pixels = Tensor.randn([3, 16, 16, 3], generator: &g).values
        let batch = Batch(number: 0, inputs: .images(pixels: pixels, height: 16, width: 16), labels: [0, 1, 2], ids: ["a", "b", "c"],
                          indices: [0, 1, 2])
        let plain = try e.features(batch)
        let padded = try e.features(batch, paddedTo: 8)
        XCTAssertEqual(plain.count, 3 * e.source.dimension)
        XCTAssertEqual(padded.count, plain.count)
        for (a, b) in zip(plain, padded) { XCTAssertEqual(a, b, accuracy: 1e-5) }
    }

    func testResumeAfterKillEqualsUninterruptedRunByteForByte() throws {
        let data = try digits()
        let job = FeatureExtraction(batchSize: 8, shardSize: 16)
        let whole = tmp.appendingPathComponent("whole"), resumed = tmp.appendingPathComponent("resumed")
        let store = try job.run(extractor: extractor(), dataset: data, to: whole)
        XCTAssertEqual(store.count, 70)
        XCTAssertEqual(store.manifest.shards.map(\.count), [16, 16, 16, 16, 6])
        XCTAssertEqual(store.source.dimension, 64)

        // "Kill" after 5 batches: two shards are complete, the third is half done.
        final class Counter: @unchecked Sendable { var calls = 0 }
        let counter = Counter()
        XCTAssertThrowsError(try job.run(extractor: extractor(), dataset: data, to: resumed, isCancelled: {
            counter.calls += 1
            return counter.calls > 8
        }))
        let partial = try FeatureStore.open(resumed)
        XCTAssertFalse(partial.manifest.complete)
        XCTAssertEqual(partial.manifest.shards.count, 2, "only finished shards are listed")
        // The same command resumes and ends with identical files.
        try job.run(extractor: extractor(), dataset: data, to: resumed)
        XCTAssertEqual(try files(whole), try files(resumed))
    }

    func testRowsRoundTripAndSourceIsChecked() throws {
        let data = try digits()
        let store = try FeatureExtraction(batchSize: 16, shardSize: 32).run(extractor: extractor(), dataset: data, to: tmp)
        let all = try store.readAll()
        XCTAssertEqual(all.labels, data.labels)
        XCTAssertEqual(all.ids, (0..<70).map { data.sourceID(at: $0) })
        // Features equal a direct forward pass of the same images.
        let ex = try extractor()
        let loader = BatchLoader(dataset: data, indices: Array(0..<5), preprocessing: ex.preprocessing!, options: .init(batchSize: 5))
        let direct = try ex.features(try XCTUnwrap(try loader.next()))
        XCTAssertEqual(Array(all.features.prefix(5 * 64)), direct)
        // A store from another model or layer is refused, naming both.
        let other = FeatureSource(model: "efficientnet-lite0", layer: "penultimate", pool: .avg, dimension: 1280)
        XCTAssertThrowsError(try store.requireSource(other)) { e in
            XCTAssertTrue("\(e)".contains("small-cnn @ conv2") && "\(e)".contains("efficientnet-lite0 @ penultimate"), "\(e)")
        }
        // A different job into the same directory is refused unless overwriting.
        let job = FeatureExtraction(batchSize: 16, shardSize: 32)
        XCTAssertThrowsError(try job.run(extractor: extractor(cut: "penultimate", pool: .avg), dataset: data, to: tmp))
    }

    func testMissingOrCorruptStoreGivesTypedErrors() throws {
        XCTAssertThrowsError(try FeatureStore.open(tmp)) { e in XCTAssertTrue("\(e)".contains("no manifest.json"), "\(e)") }
        let store = try FeatureExtraction(batchSize: 16, shardSize: 32).run(extractor: extractor(), dataset: try digits(), to: tmp)
        let shard = tmp.appendingPathComponent(store.manifest.shards[0].file)
        let bytes = try Data(contentsOf: shard)
        try bytes.prefix(bytes.count / 2).write(to: shard)
        XCTAssertThrowsError(try store.readShard(0)) { e in XCTAssertTrue("\(e)".contains(shard.path), "\(e)") }
    }
}
