import Foundation
import GraftData
import GraftNN
import GraftTensor
import XCTest
@testable import GraftTransfer

/// SetFit's recipe on the job path (`Strategy.contrastive`): pairs drawn as setfit draws them, the
/// cosine-similarity loss and its gradients through all-MiniLM-L6-v2 equal sentence-transformers'
/// (fixtures/tasks/make_contrastive_fixtures.py), and a job tunes the encoder, fits the logistic head
/// on the tuned embeddings and saves both in one network bundle.
final class ContrastiveTuningTests: XCTestCase {
    var tmp: URL!
    override func setUp() {
        tmp = FileManager.default.temporaryDirectory.appendingPathComponent("graft-contrastive-\(UUID().uuidString)")
        try? FileManager.default.createDirectory(at: tmp, withIntermediateDirectories: true)
    }
    override func tearDown() { try? FileManager.default.removeItem(at: tmp) }

    func testPairsFollowSetFitsRecipe() throws {
        let labels = [0, 0, 1, 1, 1, 2]
        let pairs = try ContrastivePairs.make(labels: labels, iterations: 3, seed: 7)
        XCTAssertEqual(pairs.count, 3 * 2 * labels.count, "one positive and one negative pair per item and iteration")
        for i in 0..<pairs.count {
            // Each iteration walks the items in order: the positive pair, then the negative one.
            XCTAssertEqual(pairs.first[i], (i / 2) % labels.count)
            let same = labels[pairs.first[i]] == labels[pairs.second[i]]
            XCTAssertEqual(pairs.similarity[i], i % 2 == 0 ? 1 : 0)
            XCTAssertEqual(same, i % 2 == 0, "pair \(i): \(pairs.first[i]) with \(pairs.second[i])")
        }
        XCTAssertEqual(pairs.first.enumerated().filter { $0.offset % 2 == 0 && $0.element == 5 }.count, 3)
        XCTAssertTrue(zip(pairs.first, pairs.second).enumerated().contains { $0.offset % 2 == 0 && $0.element.0 == 5 && $0.element.1 == 5 },
                      "a class of one item pairs with itself, as setfit's np.random.choice does")
        XCTAssertEqual(pairs, try ContrastivePairs.make(labels: labels, iterations: 3, seed: 7), "seeded")
        XCTAssertNotEqual(pairs, try ContrastivePairs.make(labels: labels, iterations: 3, seed: 8))
        let shuffled = pairs.shuffled(seed: 1)
        XCTAssertEqual(shuffled.count, pairs.count)
        XCTAssertEqual(Set(zip(zip(shuffled.first, shuffled.second), shuffled.similarity).map { "\($0.0.0)-\($0.0.1)-\($0.1)" }),
                       Set(zip(zip(pairs.first, pairs.second), pairs.similarity).map { "\($0.0.0)-\($0.0.1)-\($0.1)" }))
        XCTAssertThrowsError(try ContrastivePairs.make(labels: [1, 1, 1], iterations: 2, seed: 0))
        XCTAssertThrowsError(try ContrastivePairs.make(labels: [0, 1], iterations: 0, seed: 0))
    }

    func testWarmupLinearSchedule() {
        // sentence-transformers' WarmupLinear: 0 at step 0, full rate at the end of warm-up, 0 at the last step.
        XCTAssertEqual(ContrastiveTuning.warmupLinear(step: 0, warmup: 4, total: 40), 0)
        XCTAssertEqual(ContrastiveTuning.warmupLinear(step: 2, warmup: 4, total: 40), 0.5)
        XCTAssertEqual(ContrastiveTuning.warmupLinear(step: 4, warmup: 4, total: 40), 1)
        XCTAssertEqual(ContrastiveTuning.warmupLinear(step: 22, warmup: 4, total: 40), 0.5)
        XCTAssertEqual(ContrastiveTuning.warmupLinear(step: 40, warmup: 4, total: 40), 0)
    }

    struct MiniLMCase: Decodable {
        struct Gradient: Decodable { var norm: Double; var first: [Double]; var count: Int }
        var first: [String], second: [String], similarity: [Double]
        var loss: Double
        var gradients: [String: Gradient]
    }
    struct Fixture: Decodable { var minilm: MiniLMCase }

    func testLossAndEncoderGradientsEqualSentenceTransformers() throws {
        let ref = try JSONDecoder().decode(Fixture.self, from: Data(contentsOf: FixturePaths.fixtures.appendingPathComponent("tasks/contrastive.json"))).minilm
        let network = try Backbones.load(.miniLM).network(outputs: 2, unfreeze: nil, seed: 0)
        // Inference mode (no dropout), as the reference ran in eval mode; the tape records all the same.
        let u = try network.headInput(.texts(ref.first), training: false), v = try network.headInput(.texts(ref.second), training: false)
        let loss = try Tensor.cosineSimilarityLoss(u, v, similarity: Tensor(shape: [ref.similarity.count], values: ref.similarity.map(Float.init)))
        XCTAssertEqual(Double(loss.scalarValue), ref.loss, accuracy: 2e-5)
        try loss.backward()
        let parameters = Dictionary(uniqueKeysWithValues: network.module.namedParameters())
        XCTAssertEqual(ref.gradients.count, 4)
        for (key, want) in ref.gradients {
            let p = try XCTUnwrap(parameters["bert." + key], key)
            let g = try XCTUnwrap(p.grad, "\(key) has no gradient").values
            XCTAssertEqual(g.count, want.count, key)
            let norm = g.reduce(0) { $0 + Double($1) * Double($1) }.squareRoot()
            XCTAssertEqual(norm, want.norm, accuracy: 2e-3 * want.norm, "gradient norm of \(key)")
            let scale = want.first.map(abs).max() ?? 0
            for (i, (got, w)) in zip(g, want.first).enumerated() {
                XCTAssertEqual(Double(got), w, accuracy: 2e-3 * scale + 1e-7, "\(key)[\(i)]")
            }
        }
    }

    /// Two classes of short reviews, told apart by their adjectives.
    func writeReviews() throws -> URL {
        let good = ["wonderful", "moving", "brilliant", "delightful", "superb", "charming", "gripping", "heartfelt"]
        let bad = ["dull", "tedious", "clumsy", "boring", "awful", "lifeless", "pointless", "tiresome"]
        var csv = "text,label\n"
        for i in 0..<40 {
            let noun = ["film", "movie", "story", "picture"][i % 4]
            csv += "\"a \(good[i % 8]) \(noun), take \(i)\",positive\n\"a \(bad[(i + 3) % 8]) \(noun), take \(i)\",negative\n"
        }
        let url = tmp.appendingPathComponent("reviews.csv")
        try csv.write(to: url, atomically: true, encoding: .utf8)
        return url
    }

    func testContrastiveJobTunesTheEncoderAndSavesItWithTheHead() throws {
        let data = try DataSource.resolve(writeReviews().path)
        var o = JobOptions(workDirectory: tmp.appendingPathComponent("work"))
        o.bundle = tmp.appendingPathComponent("bundle")
        o.perClass = 8
        o.validation = .perClass(2)
        o.testCount = 16
        o.seed = 3
        let options = ContrastiveOptions(iterations: 2, epochs: 1, learningRate: 2e-5, batchSize: 16)
        let job = TransferJob(data: data, backbone: .miniLM, strategy: .contrastive(options), options: o)
        let result = try job.run()
        XCTAssertEqual(result.recipe, "SetFit")
        XCTAssertEqual(result.split.train.count, 16)
        let history = try XCTUnwrap(result.training?.history)
        XCTAssertEqual(history.count, 1)
        XCTAssertTrue(history[0].trainLoss.isFinite && history[0].trainLoss > 0 && history[0].trainLoss < 1, "\(history[0])")
        // 64 pairs in 4 steps, 1 of warm-up: the last step runs at a third of the rate, on the way to 0.
        XCTAssertEqual(history[0].learningRate, 2e-5 / 3, accuracy: 1e-10)
        let probe = try XCTUnwrap(result.probe, "the logistic head is fitted on the tuned embeddings")
        XCTAssertEqual(probe.examples, 16)
        let test = try XCTUnwrap(result.test)
        XCTAssertEqual(test.rows, 16)
        XCTAssertGreaterThanOrEqual(test.accuracy, 0.875, "adjectives separate the classes")

        // The bundle is the tuned encoder plus the head: it scores the test items as the job did,
        // and its embeddings are no longer the pretrained ones.
        let model = try TrainedModel(bundle: o.bundle!)
        XCTAssertEqual(model.manifest.strategy, .contrastive(options))
        XCTAssertEqual(model.manifest.notes["recipe"], "SetFit")
        let predictions = try XCTUnwrap(result.testPredictions)
        let texts = try predictions.indices.map { index -> String in
            guard case let .text(t) = try data.testSet.item(at: index) else { throw TransferError.emptyData("not a text") }
            return t
        }
        XCTAssertEqual(texts.count, 16)
        let probabilities = try model.probabilities(.texts(texts))
        for (row, predicted) in zip(probabilities, predictions.predicted) {
            XCTAssertEqual(row.firstIndex(of: row.max()!), predicted)
        }
        let pretrained = try Backbones.load(.miniLM).network(outputs: 2, unfreeze: 0, seed: 0)
        let before = try withNoGrad { try pretrained.headInput(.texts(Array(texts.prefix(2))), training: false).values }
        let after = try model.embeddings(.texts(Array(texts.prefix(2))))
        XCTAssertGreaterThan(zip(before, after).map { abs($0 - $1) }.max() ?? 0, 1e-4, "the encoder was tuned")

        // Pairs need classes: the other tasks are refused before any training.
        let regression = TransferJob(data: data, backbone: .miniLM, task: RegressionTask(targets: ["score"]), strategy: .contrastive(options), options: o)
        XCTAssertThrowsError(try regression.run()) { XCTAssertTrue("\($0)".contains("contrastive"), "\($0)") }
    }

    func testStrategyRoundTripsThroughJSON() throws {
        let s = Strategy.contrastive(ContrastiveOptions(iterations: 5, epochs: 2, learningRate: 1e-5, batchSize: 8))
        let data = try JSONEncoder().encode(s)
        let object = try XCTUnwrap(JSONSerialization.jsonObject(with: data) as? [String: Any])
        XCTAssertEqual(object["kind"] as? String, "contrastive")
        XCTAssertEqual(object["iterations"] as? Int, 5)
        XCTAssertEqual(try JSONDecoder().decode(Strategy.self, from: data), s)
        XCTAssertEqual(try JSONDecoder().decode(Strategy.self, from: Data(#"{"kind": "contrastive"}"#.utf8)), .contrastive())
        XCTAssertEqual(Strategy(shortName: "contrastive"), .contrastive())
        XCTAssertEqual(Strategy.contrastive().shortName, "contrastive")
        XCTAssertTrue(Strategy.contrastive().trainsNetwork)
    }
}
