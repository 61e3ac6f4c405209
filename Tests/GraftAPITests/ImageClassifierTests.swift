import Foundation
import Graft
import XCTest

/// The three strategies through the public API on 8x8 digits (upsampled to
/// the backbone's input): each trains, predicts, evaluates, and a saved
/// bundle predicts exactly as the model that wrote it.
final class ImageClassifierTests: XCTestCase {
    var tmp: URL!
    override func setUp() { tmp = APIFixtures.temporaryDirectory() }
    override func tearDown() { try? FileManager.default.removeItem(at: tmp) }

    func testFeatureExtractionWithLogisticRegression() async throws {
        let train = try APIFixtures.digits([0, 1, 7], perClass: 6)
        let test = try APIFixtures.digits([0, 1, 7], perClass: 4, skip: 6)
        let job = ImageClassifier.train(data: .images(train.images, labels: train.labels),
                                        parameters: Parameters(validation: .perClass(1)))
        let events = await APIFixtures.events(job)
        let classifier = try await job.result
        XCTAssertEqual(classifier.classNames, ["0", "1", "7"])
        XCTAssertEqual(classifier.manifest.strategy, .featureExtraction())
        XCTAssertEqual(classifier.manifest.headKind, .logisticRegression)
        XCTAssertEqual(classifier.embeddingDimension, 1280)
        // The job reported extraction and fitting, and ended with its validation metrics.
        let phases = Set(events.compactMap { if case let .progress(p) = $0 { p.phase } else { nil } })
        XCTAssertTrue(phases.isSuperset(of: [.preparing, .extracting, .fitting, .saving]), "\(phases)")
        XCTAssertEqual(events.last, .completed(.succeeded(validation: classifier.validationMetrics)))
        XCTAssertEqual(classifier.validationMetrics?.count, 3)

        let metrics = try classifier.evaluate(on: .images(test.images, labels: test.labels))
        XCTAssertEqual(metrics.count, 12)
        XCTAssertGreaterThanOrEqual(metrics.accuracy, 0.75, "\(metrics)")
        XCTAssertEqual(metrics.confusionMatrix.flatMap { $0 }.reduce(0, +), 12)
        let scores = try classifier.predict(images: test.images, top: 3)
        for row in scores {
            XCTAssertEqual(row.count, 3)
            XCTAssertEqual(row.map(\.probability).reduce(0, +), 1, accuracy: 1e-4)
            XCTAssertEqual(row.map(\.probability), row.map(\.probability).sorted(by: >))
        }
        // The accuracy evaluate reports is the accuracy of predict's top-1.
        let hits = zip(scores, test.labels).filter { $0.0[0].label == $0.1 }.count
        XCTAssertEqual(Double(hits) / 12, metrics.accuracy, accuracy: 1e-12)
        // Feature bundles decide on the backbone's own penultimate features.
        let direct = try ImageModel(.efficientNetLite0).features(Array(test.images.prefix(2)))
        let viaClassifier = try classifier.embeddings(images: Array(test.images.prefix(2)))
        for (a, b) in zip(direct.joined(), viaClassifier.joined()) { XCTAssertEqual(a, b, accuracy: 1e-5) }
    }

    func testLinearSVMSavedBundlePredictsIdentically() async throws {
        let train = try APIFixtures.digits([3, 4], perClass: 5)
        let probe = try APIFixtures.digits([3, 4], perClass: 3, skip: 5)
        let classifier = try await ImageClassifier.train(
            data: .images(train.images, labels: train.labels),
            parameters: Parameters(strategy: .featureExtraction(head: .linearSVM), validation: .none)).result
        XCTAssertNil(classifier.validationMetrics)
        XCTAssertEqual(classifier.manifest.headKind, .linearSVM)
        let bundle = tmp.appendingPathComponent("svm")
        try classifier.write(to: bundle)
        let loaded = try ImageClassifier(contentsOf: bundle)
        XCTAssertEqual(loaded.manifest, classifier.manifest)
        XCTAssertEqual(try loaded.predict(images: probe.images, top: 2), try classifier.predict(images: probe.images, top: 2))
        XCTAssertEqual(try loaded.embeddings(images: probe.images), try classifier.embeddings(images: probe.images))
        // Writing again replaces the bundle in one step, leaving no staging folder.
        try classifier.write(to: bundle)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: tmp.path), ["svm"])
        XCTAssertThrowsError(try TextClassifier(contentsOf: bundle)) { e in
            XCTAssertTrue("\(e)".contains("it reads images, not texts"), "\(e)")
        }
    }

    func testFineTuneLastBlockIsLPFT() async throws {
        let train = try APIFixtures.digits([0, 1, 7], perClass: 6)
        var p = Parameters(strategy: .fineTune(unfreeze: 1), augmentation: [.horizontalFlip], validation: .perClass(2),
                           maxEpochs: 1, batchSize: 8)
        p.workingDirectory = tmp
        let job = ImageClassifier.train(data: .images(train.images, labels: train.labels), parameters: p)
        let events = await APIFixtures.events(job)
        let classifier = try await job.result
        XCTAssertEqual(classifier.manifest.strategy, .fineTune(unfreeze: 1))
        XCTAssertEqual(classifier.manifest.notes["epochs"], "1")
        // Only the last block and the head trained: far fewer than EfficientNet-Lite0's 3.4M trunk weights.
        let trainable = Int(classifier.manifest.notes["trainableParameters"] ?? "") ?? 0
        XCTAssertGreaterThan(trainable, 1280 * 3)
        XCTAssertLessThan(trainable, 1_000_000)
        let progress = events.compactMap { if case let .progress(p) = $0 { p } else { nil } }
        let training = progress.filter { $0.phase == .training }
        XCTAssertEqual(training.last?.step, 12)
        XCTAssertEqual(training.last?.totalSteps, 12)
        XCTAssertEqual(training.last?.epoch, 0)
        XCTAssertNotNil(training.last?.loss)

        // LP-FT, as `graft finetune` and `graft compare`: the head's features were
        // extracted and a probe fitted before the first gradient step, and the
        // warm-started head alone already beats chance (1/3) on validation.
        XCTAssertTrue(classifier.manifest.notes["recipe"]?.hasPrefix("LP-FT") == true)  // ", probe kept" when no epoch beat it
        let firstTraining = progress.firstIndex { $0.phase == .training } ?? 0
        XCTAssertTrue(progress[..<firstTraining].contains { $0.phase == .extracting && $0.step == 12 })
        XCTAssertTrue(progress[..<firstTraining].contains { $0.phase == .fitting })
        let probeAccuracy = Double(classifier.manifest.notes["probeValidationAccuracy"] ?? "") ?? 0
        XCTAssertGreaterThan(probeAccuracy, 1.0 / 3, "\(classifier.manifest.notes)")
        XCTAssertNotNil(Double(classifier.manifest.notes["probeC"] ?? ""))
        XCTAssertEqual(events.last, .completed(.succeeded(validation: classifier.validationMetrics)))

        let bundle = tmp.appendingPathComponent("ft")
        try classifier.write(to: bundle)
        let loaded = try ImageClassifier(contentsOf: bundle)
        XCTAssertEqual(try loaded.predict(images: train.images), try classifier.predict(images: train.images))
        XCTAssertEqual(try loaded.embeddings(images: [train.images[0]])[0].count, 1280)
    }

    func testFromScratchSmallCNN() async throws {
        let train = try APIFixtures.digits(Array(0...9), perClass: 8)
        let test = try APIFixtures.digits(Array(0...9), perClass: 3, skip: 8)
        let classifier = try await ImageClassifier.train(
            data: .images(train.images, labels: train.labels),
            parameters: Parameters(strategy: .fromScratch, augmentation: [], validation: .none, maxEpochs: 3, batchSize: 16)).result
        XCTAssertEqual(classifier.manifest.architecture, "small-cnn")
        XCTAssertEqual(classifier.manifest.strategy, .fromScratch)
        XCTAssertEqual(classifier.embeddingDimension, 128)
        let metrics = try classifier.evaluate(on: .images(test.images, labels: test.labels))
        XCTAssertEqual(metrics.count, 30)
        XCTAssertNotNil(metrics.logLoss)
        let bundle = tmp.appendingPathComponent("scratch")
        try classifier.write(to: bundle)
        let loaded = try ImageClassifier(contentsOf: bundle)
        XCTAssertEqual(try loaded.predict(images: test.images, top: 10), try classifier.predict(images: test.images, top: 10))
        XCTAssertEqual(try loaded.evaluate(on: .images(test.images, labels: test.labels)), metrics)
    }

    func testEvaluationNamesClassesTheModelNeverSaw() async throws {
        let train = try APIFixtures.digits([0, 1], perClass: 4)
        let other = try APIFixtures.digits([0, 5], perClass: 2, skip: 4)
        let classifier = try await ImageClassifier.train(
            data: .images(train.images, labels: train.labels),
            parameters: Parameters(strategy: .featureExtraction(head: .logisticRegression), validation: .none)).result
        let metrics = try classifier.evaluate(on: .images(other.images, labels: other.labels))
        XCTAssertEqual(metrics.labels, ["0", "1", "5"])
        XCTAssertEqual(metrics.perClass["5"]?.support, 2)
        XCTAssertEqual(metrics.perClass["5"]?.recall, 0)
        XCTAssertLessThanOrEqual(metrics.accuracy, 0.5)
    }
}
