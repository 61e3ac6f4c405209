import Foundation
import GraftData
import GraftHeads
import GraftModels
import GraftTensor
import GraftTransfer
import XCTest

/// Bundles: training writes one atomically; loading it predicts exactly as
/// the network that was saved; bad bundles give typed errors.
final class BundleTests: XCTestCase {
    var tmp: URL!
    override func setUp() { tmp = FileManager.default.temporaryDirectory.appendingPathComponent("graft-bundle-\(UUID().uuidString)") }
    override func tearDown() { try? FileManager.default.removeItem(at: tmp) }

    /// A small from-scratch job on digits, writing its bundle to `out`.
    func scratchJob(out: URL, epochs: Int) throws -> TransferJob {
        var o = JobOptions(workDirectory: out.deletingLastPathComponent().appendingPathComponent("work"))
        o.bundle = out
        o.perClass = 8
        o.validation = .perClass(2)
        o.testCount = 0
        o.training.epochs = epochs
        o.training.batchSize = 16
        o.training.augment = false
        return TransferJob(data: try DataSource.resolve("digits"), strategy: .fromScratch, options: o)
    }

    func testFromScratchTrainingSavesABundleThatPredictsIdentically() throws {
        let out = tmp.appendingPathComponent("scratch")
        let result = try scratchJob(out: out, epochs: 2).run()
        let history = try XCTUnwrap(result.training?.history)
        XCTAssertEqual(history.count, 2)
        XCTAssertLessThan(history[1].trainLoss, history[0].trainLoss * 1.5)

        let loaded = try TrainedModel(bundle: out)
        XCTAssertEqual(loaded.manifest.strategy, .fromScratch)
        XCTAssertEqual(loaded.manifest.input, .image)
        XCTAssertEqual(loaded.classNames, (0...9).map(String.init))
        let data = try BuiltinDatasets.digits()
        let images = (0..<4).map { data.image(at: $0) }
        let a = try loaded.probabilities(loaded.batch(images: images))
        let again = try TrainedModel(bundle: out).probabilities(loaded.batch(images: images))
        XCTAssertEqual(a, again)
        for row in a { XCTAssertEqual(row.reduce(0, +), 1, accuracy: 1e-4) }
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: tmp.path).filter { $0.hasPrefix(".scratch.") }
        XCTAssertEqual(leftovers, [], "no staging folder is left beside the bundle")
    }

    func testCancelledTrainingLeavesNoBundle() throws {
        let out = tmp.appendingPathComponent("cancelled")
        XCTAssertThrowsError(try scratchJob(out: out, epochs: 3).run(isCancelled: { true })) { e in XCTAssertEqual(e as? TransferError, .cancelled) }
        XCTAssertFalse(FileManager.default.fileExists(atPath: out.path))
    }

    /// Replacing a bundle keeps the path old-or-new at every instant (#15): the exchange leaves no
    /// moment without a complete bundle, and a writer killed before the exchange leaves the old one whole.
    func testReplacingABundleIsAtomic() throws {
        let out = tmp.appendingPathComponent("b")
        try AtomicDirectory.write(out) { try Data("old".utf8).write(to: $0.appendingPathComponent("bundle.json")) }
        // A writer killed mid-write: its staging folder stays beside, the bundle is untouched.
        let staged = AtomicDirectory.stagingURL(for: out)
        try FileManager.default.createDirectory(at: staged, withIntermediateDirectories: true)
        try Data("half".utf8).write(to: staged.appendingPathComponent("bundle.json"))
        XCTAssertEqual(try String(contentsOf: out.appendingPathComponent("bundle.json"), encoding: .utf8), "old")
        // A replacement while a reader polls: every read sees a whole old or new bundle.
        final class Reads: @unchecked Sendable { var seen: [String] = [] }
        let reads = Reads()
        let done = DispatchSemaphore(value: 0)
        DispatchQueue.global().async {
            for _ in 0..<2000 { reads.seen.append((try? String(contentsOf: out.appendingPathComponent("bundle.json"), encoding: .utf8)) ?? "missing") }
            done.signal()
        }
        for i in 0..<50 {
            try AtomicDirectory.write(out) { dir in
                try Data("new\(i)".utf8).write(to: dir.appendingPathComponent("bundle.json"))
                try Data(repeating: 7, count: 4096).write(to: dir.appendingPathComponent("model.safetensors"))
            }
        }
        done.wait()
        XCTAssertFalse(reads.seen.contains("missing"), "a reader found no bundle")
        XCTAssertEqual(try String(contentsOf: out.appendingPathComponent("bundle.json"), encoding: .utf8), "new49")
        // The fallback's leftover (a kill between its two renames) is put back by the sweep.
        try FileManager.default.moveItem(at: out, to: tmp.appendingPathComponent(".b.old-test"))
        AtomicDirectory.sweep(beside: out)
        XCTAssertEqual(try String(contentsOf: out.appendingPathComponent("bundle.json"), encoding: .utf8), "new49")
    }

    func testNotABundleIsNamed() throws {
        try FileManager.default.createDirectory(at: tmp, withIntermediateDirectories: true)
        XCTAssertThrowsError(try TrainedModel(bundle: tmp)) { e in
            XCTAssertTrue("\(e)".contains(tmp.path) && "\(e)".contains("bundle.json"), "\(e)")
        }
    }

    func testFeatureHeadBundleRoundTrip() throws {
        // A head fitted on random-but-separable features, saved and loaded back.
        var g = SeededGenerator(seed: 3)
        var rows: [Float] = [], labels: [Int] = []
        for i in 0..<60 { let c = i % 3; labels.append(c); for j in 0..<8 { rows.append((j == c ? 3 : 0) + g.nextNormal()) } }
        let fit = try LogisticRegression(.init(C: 1)).fit(FeatureMatrix(rows: 60, columns: 8, values: rows), labels: labels)
        var m = BundleManifest(strategy: .featureExtraction(), backbone: .efficientNetLite0, classNames: ["a", "b", "c"])
        m.source = FeatureSource(model: "efficientnet-lite0", layer: "penultimate", pool: .avg, dimension: 8)
        try BundleStore.save(m, head: fit.head, to: tmp)
        let head = try BundleStore.loadHead(tmp, manifest: try BundleStore.readManifest(tmp))
        XCTAssertEqual(head as? LinearHead, fit.head)
    }

    func testPrototypeAndNeighborsBundlesRoundTrip() throws {
        let x = try FeatureMatrix([[1, 0, 0], [0.9, 0.2, 0], [0, 1, 0], [0, 0.8, 0.3], [0, 0, 1], [0.1, 0, 2]])
        let labels = [0, 0, 1, 1, 2, 2]
        var m = BundleManifest(strategy: .featureExtraction(head: .nearestNeighbors), backbone: .efficientNetLite0, classNames: ["a", "b", "c"])
        m.source = FeatureSource(model: "efficientnet-lite0", layer: "penultimate", pool: .avg, dimension: 3)
        let knn = try FeatureStages.fit(.nearestNeighbors, C: nil, x: x, labels: labels, classNames: m.classNames, neighbors: 3)
        try BundleStore.save(m, head: knn.head, to: tmp)
        XCTAssertEqual(try BundleStore.readManifest(tmp).headNeighbors, 3)
        let loaded = try XCTUnwrap(try BundleStore.loadHead(tmp, manifest: try BundleStore.readManifest(tmp)) as? NearestNeighborsHead)
        XCTAssertEqual(loaded, knn.head as? NearestNeighborsHead)
        XCTAssertEqual(try loaded.predict(x), labels)

        m.strategy = .featureExtraction(head: .prototype)
        let prototype = try FeatureStages.fit(.prototype, C: nil, x: x, labels: labels, classNames: m.classNames)
        let dir = tmp.appendingPathComponent("prototype")
        try BundleStore.save(m, head: prototype.head, to: dir)
        let back = try XCTUnwrap(try BundleStore.loadHead(dir, manifest: try BundleStore.readManifest(dir)) as? LinearHead)
        XCTAssertEqual(back, prototype.head as? LinearHead)
        XCTAssertEqual(back.kind, .prototype)
        XCTAssertEqual(try back.predict(x), labels)

        // A knn bundle whose manifest lost k is refused with the bundle's path.
        var broken = try BundleStore.readManifest(tmp)
        broken.headNeighbors = nil
        XCTAssertThrowsError(try BundleStore.loadHead(tmp, manifest: broken)) { error in
            XCTAssertTrue("\(error)".contains(self.tmp.path) && "\(error)".contains("headNeighbors"), "\(error)")
        }
    }
}
