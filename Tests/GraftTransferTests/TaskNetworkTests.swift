import Foundation
import GraftData
import GraftHeads
import GraftNN
import GraftTensor
import XCTest
@testable import GraftTransfer

/// Regression and multi-label networks on the one job path: `Batch` carries each item's values or
/// label vector (`TargetedDataset`), the task's loss trains the head (MSE/Huber on standardised targets,
/// BCE on logits), LP-FT warm-starts it with the task's own feature head (ridge, one-vs-rest), and the
/// bundle predicts in the targets' own units with the thresholds chosen on validation items.
final class TaskNetworkTests: XCTestCase {
    var tmp: URL!
    override func setUp() {
        tmp = FileManager.default.temporaryDirectory.appendingPathComponent("graft-tasknet-\(UUID().uuidString)")
        try? FileManager.default.createDirectory(at: tmp, withIntermediateDirectories: true)
    }
    override func tearDown() { try? FileManager.default.removeItem(at: tmp) }

    /// Short reviews of two adjectives each; `score` counts the good ones (0, 1, 2) and `tags` names the
    /// kinds of adjective present and the noun.
    func writeReviews() throws -> URL {
        let good = ["wonderful", "moving", "brilliant", "delightful", "superb", "charming"]
        let bad = ["dull", "tedious", "clumsy", "boring", "awful", "lifeless"]
        var csv = "text,label,score,tags\n"
        for i in 0..<48 {
            let goods = i % 3   // 0, 1 or 2 good adjectives
            let a = goods >= 1 ? good[i % 6] : bad[i % 6], b = goods == 2 ? good[(i + 1) % 6] : bad[(i + 2) % 6]
            let noun = i % 2 == 0 ? "film" : "movie"
            var tags: [String] = []
            if goods > 0 { tags.append("praise") }
            if goods < 2 { tags.append("criticism") }
            tags.append(noun)
            csv += "\"a \(a) and \(b) \(noun), take \(i)\",\(["neg", "mixed", "pos"][goods]),\(goods),\(tags.joined(separator: "|"))\n"
        }
        let url = tmp.appendingPathComponent("reviews.csv")
        try csv.write(to: url, atomically: true, encoding: .utf8)
        return url
    }

    func textJob(_ data: DataSource, task: any TransferTask, out: String, epochs: Int = 3) -> TransferJob {
        var o = JobOptions(workDirectory: tmp.appendingPathComponent(out + ".work"))
        o.bundle = tmp.appendingPathComponent(out)
        o.validation = .perClass(3)
        o.testCount = 12
        o.training.epochs = epochs
        o.training.batchSize = 8
        o.training.patience = 0
        return TransferJob(data: data, backbone: .miniLM, task: task, strategy: .fineTune(unfreeze: 1), options: o)
    }

    func testRegressionFineTuneOfTextPredictsValuesAndResumesExactly() throws {
        let csv = try writeReviews()
        let targets = try RegressionTargets(contentsOf: csv, columns: ["score"])
        let data = try DataSource.resolve(csv.path).with(regression: targets)
        let task = RegressionTask(targets: ["score"])
        let result = try textJob(data, task: task, out: "ref").run()
        XCTAssertEqual(result.manifest.task, .regression)
        XCTAssertEqual(result.manifest.classNames, ["score"])
        XCTAssertEqual(result.manifest.notes["loss"], "mse")
        XCTAssertTrue(result.recipe?.hasPrefix("LP-FT") == true, "the ridge probe warm-starts the head")
        let probe = try XCTUnwrap(result.probe)
        XCTAssertTrue(RidgeRegression.Options().alphaGrid.contains(probe.C), "the probe's alpha comes from the grid")
        guard case let .regression(test)? = result.testMetrics else { return XCTFail("no regression metrics: \(String(describing: result.testMetrics))") }
        XCTAssertEqual(test.rows, result.split.test.count)
        XCTAssertGreaterThan(test.r2, 0.5, "the count of good adjectives is learnt: \(test)")
        XCTAssertNil(result.test, "no classification report for a regression job")

        // The bundle predicts in the targets' units, exactly what the job scored on its test items.
        let model = try TrainedModel(bundle: tmp.appendingPathComponent("ref"))
        let scored = try XCTUnwrap(result.testScores)
        let texts = try scored.indices.map { i -> String in
            guard case let .text(t) = try data.testSet.item(at: i) else { throw TransferError.unsupported("not text") }
            return t
        }
        let values = try model.values(model.batch(texts: texts))
        for (r, row) in values.enumerated() { XCTAssertEqual(row[0], scored.scores[r, 0], accuracy: 1e-4) }
        XCTAssertThrowsError(try model.probabilities(model.batch(texts: texts))) { XCTAssertTrue("\($0)".contains("values"), "\($0)") }
        // graft evaluate's path: the same metrics from the bundle on the same items.
        let evaluation = try TaskEvaluation(model, dataset: data.testSet, indices: scored.indices)
        guard case let .regression(again) = evaluation.metrics else { return XCTFail() }
        XCTAssertEqual(again.r2, test.r2, accuracy: 1e-5)
        XCTAssertEqual(again.meanAbsoluteError, test.meanAbsoluteError, accuracy: 1e-5)

        // Cancelled after the first epoch's checkpoint, then resumed: the same weights as the uninterrupted run.
        let stop = StopAfterFirstEpoch()
        XCTAssertThrowsError(try textJob(data, task: task, out: "run").run(progress: stop.progress, isCancelled: stop.isCancelled))
        // A kill (SIGKILL) while writing a checkpoint leaves the writer's temporary file: the resumed run removes
        // it; a live writer's (this process's parent) stays.
        let checkpoint = tmp.appendingPathComponent("run.work/checkpoint")
        let stale = ".last.safetensors.\(try deadProcessID()).12345.tmp", live = ".state.json.\(getppid()).7.tmp"
        for name in [stale, live] { XCTAssertTrue(FileManager.default.createFile(atPath: checkpoint.appendingPathComponent(name).path, contents: Data([1]))) }
        var resumed = textJob(data, task: task, out: "run")
        resumed.options.resume = true
        let second = try resumed.run()
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: checkpoint.path).filter { $0.hasSuffix(".tmp") }, [live])
        XCTAssertEqual(second.training?.history.count, 3)
        XCTAssertEqual(second.training?.history.map(\.trainLoss), result.training?.history.map(\.trainLoss))
        let a = try Data(contentsOf: tmp.appendingPathComponent("ref/model.safetensors"))
        let b = try Data(contentsOf: tmp.appendingPathComponent("run/model.safetensors"))
        XCTAssertTrue(a == b, "resumed weights differ from the uninterrupted run's")
    }

    /// The id of a process that has exited (spawned and waited for here).
    func deadProcessID() throws -> Int32 {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/true")
        try process.run()
        process.waitUntilExit()
        return process.processIdentifier
    }

    /// Cancels a job once the second epoch starts (the first is checkpointed by then).
    final class StopAfterFirstEpoch: @unchecked Sendable {
        private let lock = NSLock()
        private var stop = false
        var progress: ProgressHandler {
            { [self] event in if event.phase == .training, (event.epoch ?? 0) >= 1 { lock.withLock { stop = true } } }
        }
        var isCancelled: @Sendable () -> Bool { { [self] in lock.withLock { stop } } }
    }

    func testMultiLabelFineTuneChoosesThresholdsAndBundlePredictsLabelSets() throws {
        let csv = try writeReviews()
        let labels = try MultiLabelTargets(contentsOf: csv, column: "tags")
        XCTAssertEqual(labels.names, ["criticism", "film", "movie", "praise"])
        let data = try DataSource.resolve(csv.path).with(multiLabel: labels)
        let result = try textJob(data, task: MultiLabelTask(labels: labels.names), out: "tags").run()
        XCTAssertEqual(result.manifest.task, .multiLabel)
        XCTAssertEqual(result.manifest.classNames, labels.names)
        let thresholds = try XCTUnwrap(result.manifest.headThresholds)
        XCTAssertEqual(thresholds.count, 4)
        guard case let .multiLabel(test)? = result.testMetrics else { return XCTFail("no multi-label metrics") }
        // Nine test reviews and thresholds chosen on nine validation ones: the ranking is what is certain.
        XCTAssertGreaterThan(test.meanAveragePrecision, 0.9, "\(test)")
        XCTAssertGreaterThan(test.microF1, 0.6, "\(test)")
        guard case .multiLabel? = result.validationMetrics else { return XCTFail("no validation metrics") }

        let model = try TrainedModel(bundle: tmp.appendingPathComponent("tags"))
        XCTAssertEqual(model.thresholds, thresholds)
        let scored = try XCTUnwrap(result.testScores)
        let texts = try scored.indices.map { i -> String in
            guard case let .text(t) = try data.testSet.item(at: i) else { throw TransferError.unsupported("not text") }
            return t
        }
        let probabilities = try model.probabilities(model.batch(texts: texts))
        let predicted = try model.predict(model.batch(texts: texts))
        for (r, row) in probabilities.enumerated() {
            for (l, p) in row.enumerated() { XCTAssertEqual(p, scored.scores[r, l], accuracy: 1e-5) }
            let expected = Set(row.indices.filter { row[$0] >= thresholds[$0] }.map { labels.names[$0] })
            XCTAssertEqual(Set(predicted[r].map(\.label)), expected)
        }
        let evaluation = try TaskEvaluation(model, dataset: data.testSet, indices: scored.indices)
        XCTAssertEqual(evaluation.metrics, result.testMetrics)
        // A classification report (argmax over independent labels) of this bundle would be wrong: refused, naming the way.
        XCTAssertThrowsError(try BundleEvaluation(model, dataset: data.testSet, indices: scored.indices)) {
            XCTAssertTrue("\($0)".contains("multi-label bundle") && "\($0)".contains("--labels"), "\($0)")
        }
    }

    func testMultiLabelAndRegressionFromScratchOnDigits() throws {
        // Digits tagged "even", "big" (5 and up) and "loop" (0, 6, 8, 9); the regression target is the digit's value.
        let digits = try DataSource.resolve("digits")
        var tags = "id,labels,value\n"
        for i in 0..<digits.train.count {
            let d = digits.train.label(at: i)
            let set = [d % 2 == 0 ? "even" : nil, d >= 5 ? "big" : nil, [0, 6, 8, 9].contains(d) ? "loop" : nil].compactMap { $0 }
            tags += "\(digits.train.sourceID(at: i)),\(set.joined(separator: "|")),\(d)\n"
        }
        let file = tmp.appendingPathComponent("digits-tags.csv")
        try tags.write(to: file, atomically: true, encoding: .utf8)
        func job(_ data: DataSource, _ task: any TransferTask, _ out: String) -> TransferJob {
            var o = JobOptions(workDirectory: tmp.appendingPathComponent(out + ".work"))
            o.bundle = tmp.appendingPathComponent(out)
            o.perClass = 30
            o.validation = .perClass(5)
            o.testCount = 200
            o.training.epochs = 6
            o.training.augment = false
            return TransferJob(data: data, task: task, strategy: .fromScratch, options: o)
        }
        let multi = try job(digits.with(multiLabel: MultiLabelTargets(contentsOf: file)), MultiLabelTask(labels: ["big", "even", "loop"]), "multi").run()
        guard case let .multiLabel(m)? = multi.testMetrics else { return XCTFail("no multi-label metrics") }
        XCTAssertEqual(m.rows, multi.split.test.count)
        XCTAssertGreaterThan(m.microF1, 0.7, "\(m)")
        XCTAssertEqual(multi.training?.history.count, 6)

        let values = try RegressionTargets(contentsOf: file, columns: ["value"])
        let regression = try job(digits.with(regression: values), RegressionTask(targets: ["value"], loss: .huber), "value").run()
        guard case let .regression(r)? = regression.testMetrics else { return XCTFail("no regression metrics") }
        // A digit's value is no smooth function of its pixels: 6 epochs from scratch beat the mean, no more is promised.
        XCTAssertGreaterThan(r.r2, 0.2, "\(r)")
        XCTAssertEqual(regression.manifest.notes["loss"], "huber")
        // Predictions are in digit units (the standardisation is folded into the saved head).
        let model = try TrainedModel(bundle: tmp.appendingPathComponent("value"))
        let scores = try XCTUnwrap(regression.testScores).scores
        let mean = scores.values.reduce(0, +) / Float(scores.rows)
        XCTAssertEqual(mean, 4.5, accuracy: 1.5)
        XCTAssertEqual(model.task.kind, .regression)
    }

    func testRegressionScaleFoldsIntoTheHead() throws {
        // Training targets 10 and 30: mean 20, standard deviation 10.
        let data = ValuesDataset(values: [[10, 1], [30, 3]])
        let task = try XCTUnwrap(RegressionTask(targets: ["a", "b"]).prepared(for: data, indices: [0, 1]) as? RegressionTask)
        XCTAssertEqual(task.targetMean, [20, 2])
        XCTAssertEqual(task.targetScale, [10, 1])
        // The loss compares outputs with standardised targets: outputs (1, 1) for targets (30, 3) lose nothing.
        let outputs = try Tensor(shape: [1, 2], values: [1, 1])
        XCTAssertEqual(try task.loss(outputs, targets: .values([30, 3], width: 2), labelSmoothing: 0).scalarValue, 0)
        XCTAssertEqual(try task.scores(outputs).values, [30, 3])
        XCTAssertEqual(try task.metric(try Tensor(shape: [2, 2], values: [-1, -1, 1, 1]), targets: .values([10, 1, 30, 3], width: 2)), 1)
        // A class-labelled batch is refused, naming what is missing.
        XCTAssertThrowsError(try task.loss(outputs, targets: .classes([0]), labelSmoothing: 0)) {
            XCTAssertTrue("\($0)".contains("--targets"), "\($0)")
        }
        var g = SeededGenerator(seed: 3)
        let network = LinearNetwork(head: Linear(3, 2, generator: &g))
        let x = try Tensor(shape: [2, 3], values: [0.5, -1, 2, 1, 0, -0.5])
        let before = try withNoGrad { try task.scores(network.head.forward(x, training: false)).values }
        let finished = try task.finished(network)
        let after = try withNoGrad { try finished.scores(network.head.forward(x, training: false)).values }
        for (a, b) in zip(before, after) { XCTAssertEqual(a, b, accuracy: 1e-5) }
    }

    func testJobsRefuseTasksWhoseDataCarriesNoTargets() throws {
        var o = JobOptions(workDirectory: tmp.appendingPathComponent("w"))
        o.perClass = 4; o.testCount = 0; o.training.epochs = 1; o.validation = .perClass(1)
        let job = TransferJob(data: try DataSource.resolve("digits"), task: RegressionTask(targets: ["value"]), strategy: .fromScratch, options: o)
        XCTAssertThrowsError(try job.run()) { XCTAssertTrue("\($0)".contains("--targets"), "\($0)") }
        let file = tmp.appendingPathComponent("short.csv")
        try "id,value\nnothing,1\n".write(to: file, atomically: true, encoding: .utf8)
        XCTAssertThrowsError(try DataSource.resolve("digits").with(regression: RegressionTargets(contentsOf: file, columns: ["value"]))) { error in
            guard case let .missingItem(path, _, data)? = error as? TaskDataError else { return XCTFail("\(error)") }
            XCTAssertEqual(path, file.path)
            XCTAssertEqual(data, "digits")
        }
    }
}

/// Items that carry only values (for the task's own arithmetic).
private struct ValuesDataset: Dataset {
    let values: [[Float]]
    var count: Int { values.count }
    var classNames: [String] { ["x"] }
    var kind: DataKind { .text }
    func label(at index: Int) -> Int { 0 }
    func sourceID(at index: Int) -> String { "#\(index)" }
    func item(at index: Int) throws -> DataItem { .text("") }
    func target(at index: Int) -> ItemTarget { .values(values[index]) }
}

/// A bare head, to check what `finished` does to one.
private final class LinearNetwork: LinearHeadNetwork {
    let head: Linear
    init(head: Linear) { self.head = head }
    var backbone: any Backbone { fatalError("not used") }
    var module: Module { head }
    func headInput(_ batch: Batch, training: Bool) throws -> Tensor { fatalError("not used") }
}
