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

    func testFromScratchTrainingSavesABundleThatPredictsIdentically() throws {
        var job = NetworkTraining(data: "digits")
        job.fromScratch = true
        job.model = "small-cnn"
        job.perClass = 8
        job.validationPerClass = 2
        job.options.epochs = 2
        job.options.batchSize = 16
        job.options.augment = false
        let out = tmp.appendingPathComponent("scratch")
        let outcome = try job.run(out: out)
        XCTAssertEqual(outcome.training.history.count, 2)
        XCTAssertLessThan(outcome.training.history[1].trainLoss, outcome.training.history[0].trainLoss * 1.5)

        let loaded = try TrainedClassifier(bundle: out)
        XCTAssertEqual(loaded.manifest.strategy, .fromScratch)
        XCTAssertEqual(loaded.classNames, (0...9).map(String.init))
        let data = try BuiltinDatasets.digits()
        let images = (0..<4).map { data.image(at: $0) }
        let a = try loaded.probabilities(loaded.batch(images: images))
        let again = try TrainedClassifier(bundle: out).probabilities(loaded.batch(images: images))
        XCTAssertEqual(a, again)
        for row in a { XCTAssertEqual(row.reduce(0, +), 1, accuracy: 1e-4) }
        XCTAssertFalse(FileManager.default.fileExists(atPath: tmp.appendingPathComponent(".scratch.partial-\(getpid())").path))
    }

    func testCancelledTrainingLeavesNoBundle() throws {
        var job = NetworkTraining(data: "digits")
        job.fromScratch = true
        job.perClass = 8
        job.options.epochs = 3
        let out = tmp.appendingPathComponent("cancelled")
        XCTAssertThrowsError(try job.run(out: out, isCancelled: { true })) { e in XCTAssertEqual(e as? TransferError, .cancelled) }
        XCTAssertFalse(FileManager.default.fileExists(atPath: out.path))
    }

    func testNotABundleIsNamed() throws {
        try FileManager.default.createDirectory(at: tmp, withIntermediateDirectories: true)
        XCTAssertThrowsError(try TrainedClassifier(bundle: tmp)) { e in
            XCTAssertTrue("\(e)".contains(tmp.path) && "\(e)".contains("bundle.json"), "\(e)")
        }
    }

    func testFeatureHeadBundleRoundTrip() throws {
        // A head fitted on random-but-separable features, saved and loaded back.
        var g = SeededGenerator(seed: 3)
        var rows: [Float] = [], labels: [Int] = []
        for i in 0..<60 { let c = i % 3; labels.append(c); for j in 0..<8 { rows.append((j == c ? 3 : 0) + g.nextNormal()) } }
        let fit = try LogisticRegression(.init(C: 1)).fit(FeatureMatrix(rows: 60, columns: 8, values: rows), labels: labels)
        var m = BundleManifest(task: .image, strategy: .featureExtraction, model: "efficientnet-lite0", architecture: "efficientnet-lite0", classNames: ["a", "b", "c"])
        m.source = FeatureSource(model: "efficientnet-lite0", layer: "penultimate", pool: .avg, dimension: 8)
        try BundleStore.save(m, head: fit.head, to: tmp)
        let head = try BundleStore.loadHead(tmp, manifest: try BundleStore.readManifest(tmp))
        XCTAssertEqual(head, fit.head)
    }
}
