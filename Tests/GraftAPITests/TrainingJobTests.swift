import Foundation
import Graft
import XCTest

/// Jobs: progress ends with one completion event, cancellation (by `cancel()`
/// or by cancelling the awaiting task) stops training and leaves no bundle.
final class TrainingJobTests: XCTestCase {
    var tmp: URL!
    override func setUp() { tmp = APIFixtures.temporaryDirectory() }
    override func tearDown() { try? FileManager.default.removeItem(at: tmp) }

    /// A from-scratch job long enough to be caught mid-training: 50 epochs of 90 digits.
    func longJob() throws -> TrainingJob<ImageClassifier> {
        let data = try APIFixtures.digits(Array(0...9), perClass: 10)
        try FileManager.default.createDirectory(at: tmp, withIntermediateDirectories: true)
        return ImageClassifier.train(data: .images(data.images, labels: data.labels),
                                     parameters: Parameters(strategy: .fromScratch, validation: .perClass(1), maxEpochs: 50,
                                                            patience: 0, batchSize: 4, workingDirectory: tmp))
    }

    func testCancelMidTrainingLeavesNoBundle() async throws {
        let job = try longJob()
        var events: [TrainingEvent] = []
        for await e in job.progress {
            events.append(e)
            // Cancel once an epoch's worth of batches ran, so a checkpoint exists to clean up.
            if case let .progress(p) = e, p.phase == .training, p.epoch == 1 { job.cancel() }
        }
        XCTAssertEqual(events.last, .completed(.cancelled))
        XCTAssertEqual(events.filter(\.isCompletion).count, 1)
        do {
            _ = try await job.result
            XCTFail("a cancelled job returned a model")
        } catch is CancellationError {}
        XCTAssertTrue(job.isCancelled && job.isFinished)
        // It stopped early (the reader may lag the training thread by a few epochs).
        let epochs = events.compactMap { if case let .progress(p) = $0 { p.epoch } else { nil } }
        XCTAssertLessThan(epochs.max() ?? 0, 40)
        // The staging folder (checkpoint, partial bundle) is gone; nothing else was written.
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: tmp.path), [])
    }

    func testCancellingTheAwaitingTaskCancelsTheJob() async throws {
        let job = try longJob()
        let waiter = Task { try await job.result }
        // Wait for training to start, then cancel the task, not the job.
        for await e in job.progress {
            if case let .progress(p) = e, p.phase == .training { break }
        }
        waiter.cancel()
        let outcome = await waiter.result
        XCTAssertThrowsError(try outcome.get()) { XCTAssertTrue($0 is CancellationError, "\($0)") }
        XCTAssertTrue(job.isCancelled)
        // A subscriber arriving after the end gets the completion, and only it.
        let late = await APIFixtures.events(job)
        XCTAssertEqual(late, [.completed(.cancelled)])
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: tmp.path), [])
    }

    func testFailureEndsTheSequenceWithTheError() async throws {
        let images = try APIFixtures.digits([0, 1], perClass: 2).images
        let job = TextClassifier.train(data: .images(images, labels: ["0", "0", "1", "1"]))
        let events = await APIFixtures.events(job)
        guard case let .completed(.failed(message))? = events.last else { return XCTFail("\(events)") }
        XCTAssertEqual(message, "text classifier needs texts, but the data holds images")
        do {
            _ = try await job.result
            XCTFail("expected an error")
        } catch let e as GraftError {
            XCTAssertEqual(e, .wrongKind(task: "text classifier", data: "images"))
        }
    }

    func testBadInputsAreNamed() async throws {
        let texts = TextClassifier.train(data: .texts(["a", "b", "c"], labels: ["x", "y"]))
        do { _ = try await texts.result; XCTFail() } catch let e as GraftError { XCTAssertEqual(e, .labelCount(inputs: 3, labels: 2)) }
        let oneClass = TextClassifier.train(data: .texts(["a", "b"], labels: ["x", "x"]))
        do { _ = try await oneClass.result; XCTFail() } catch { XCTAssertTrue("\(error)".contains("single class"), "\(error)") }
        let images = try APIFixtures.digits([0, 1], perClass: 1).images
        let wrongBackbone = ImageClassifier.train(data: .images(images, labels: ["0", "1"]), parameters: Parameters(backbone: .miniLM))
        do { _ = try await wrongBackbone.result; XCTFail() } catch let e as GraftError {
            XCTAssertEqual(e, .wrongBackbone(task: "image classifier", backbone: "all-minilm-l6-v2"))
        }
        let missing = ImageClassifier.train(data: .folder(tmp.appendingPathComponent("photos")))
        do { _ = try await missing.result; XCTFail() } catch { XCTAssertTrue("\(error)".contains("photos"), "\(error)") }
        let epochs = TextClassifier.train(data: .texts(["a", "b"], labels: ["x", "y"]), parameters: Parameters(maxEpochs: 0))
        do { _ = try await epochs.result; XCTFail() } catch let e as GraftError {
            XCTAssertEqual(e, .invalidParameters("maxEpochs is 0; it must be at least 1"))
        }
        var budget = Parameters(strategy: .fineTune(unfreeze: 1))
        budget.steps = 0
        let steps = TextClassifier.train(data: .texts(["a", "b"], labels: ["x", "y"]), parameters: budget)
        do { _ = try await steps.result; XCTFail() } catch let e as GraftError {
            XCTAssertEqual(e, .invalidParameters("steps is 0; it must be at least 1"))
        }
    }
}
