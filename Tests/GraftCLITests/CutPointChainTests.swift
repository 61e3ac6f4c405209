import Foundation
import GraftModels
import GraftWeights
import XCTest

/// `extract --layer X` at several cut points of image and text backbones, then `fit` on the store,
/// then `evaluate` and `predict` with the bundle (issue 14: "graft fit works on stores cut at any
/// layer of any backbone"; a store's kind of input is recorded, never guessed from the layer name).
final class CutPointChainTests: XCTestCase {
    func testEfficientNetPenultimate() throws {
        try imageChain(model: ["--model", "efficientnet-lite0"], layer: "penultimate", dimension: 1280, minimumAccuracy: 0.9)
    }

    func testEfficientNetBlock() throws {
        // block5 ends stage 3 of Lite0: 80 channels, average-pooled.
        try imageChain(model: ["--model", "efficientnet-lite0"], layer: "block5", dimension: 80, minimumAccuracy: 0.6)
    }

    /// A ResNet store cut at `layer4`: the name that used to be mistaken for a text layer.
    func testResNetLayer4FromAWeightsFile() throws {
        let weights = try Self.resnet18Weights()
        try imageChain(model: ["--model", weights.path, "--arch", "resnet18"], layer: "layer4", dimension: 512, minimumAccuracy: nil)
    }

    func testMiniLMLayer3() throws {
        try textChain(layer: "layer3")
    }

    func testMiniLMPooled() throws {
        try textChain(layer: "pooled")
    }

    // MARK: - the chains

    /// 100 digits (8x8, scaled up by the model's preprocessing), ten classes.
    private func imageChain(model: [String], layer: String, dimension: Int, minimumAccuracy: Double?,
                            file: StaticString = #filePath, line: UInt = #line) throws {
        let dir = CLIFixtures.temporaryDirectory("image-\(layer)")
        let store = dir.appendingPathComponent("store").path, bundle = dir.appendingPathComponent("bundle").path
        let data = ["--data", "digits", "--limit", "100"]

        let extract = try Graft.run(["extract"] + model + ["--layer", layer, "--out", store, "--quiet"] + data)
        XCTAssertExit(extract, 0, file: file, line: line)
        XCTAssertTrue(extract.stdout.contains("100 examples x \(dimension) features"), extract.transcript, file: file, line: line)
        guard extract.status == 0 else { return }

        let fit = try Graft.run(["fit", "--features", store, "--out", bundle])
        XCTAssertExit(fit, 0, file: file, line: line)
        XCTAssertTrue(FileManager.default.fileExists(atPath: bundle + "/bundle.json"), fit.transcript, file: file, line: line)
        guard fit.status == 0 else { return }

        let evaluate = try Graft.run(["evaluate", "--bundle", bundle, "--json", "--quiet"] + data)
        XCTAssertExit(evaluate, 0, file: file, line: line)
        let report = try evaluate.json()
        XCTAssertEqual(report["rows"] as? Int, 100, file: file, line: line)
        if let minimumAccuracy {
            // Training examples scored by their own fit: a cut that works separates them.
            XCTAssertGreaterThanOrEqual(report["accuracy"] as? Double ?? 0, minimumAccuracy, evaluate.stdout, file: file, line: line)
        }

        // The bundle takes images: predict on a photo answers digit labels.
        let predict = try Graft.run(["predict", "--bundle", bundle, "--top", "2", "--json", CLIFixtures.photo("coins.png")])
        XCTAssertExit(predict, 0, file: file, line: line)
        let labels = ((try predict.json()["results"] as? [[String: Any]])?.first?["labels"] as? [[String: Any]] ?? []).compactMap { $0["label"] as? String }
        XCTAssertEqual(labels.count, 2, predict.transcript, file: file, line: line)
        XCTAssertTrue(labels.allSatisfy { Int($0).map { (0...9).contains($0) } ?? false }, predict.transcript, file: file, line: line)
    }

    /// 24 short reviews, positive and negative.
    private func textChain(layer: String, file: StaticString = #filePath, line: UInt = #line) throws {
        let dir = CLIFixtures.temporaryDirectory("text-\(layer)")
        let reviews = try CLIFixtures.reviewTable().path
        let store = dir.appendingPathComponent("store").path, bundle = dir.appendingPathComponent("bundle").path

        let extract = try Graft.run(["extract", "--model", "all-minilm-l6-v2", "--layer", layer, "--data", reviews, "--out", store, "--quiet"])
        XCTAssertExit(extract, 0, file: file, line: line)
        XCTAssertTrue(extract.stdout.contains("24 examples x 384 features"), extract.transcript, file: file, line: line)
        guard extract.status == 0 else { return }

        let fit = try Graft.run(["fit", "--features", store, "--out", bundle, "--head", "svm", "--C", "1"])
        XCTAssertExit(fit, 0, file: file, line: line)
        guard fit.status == 0 else { return }

        let evaluate = try Graft.run(["evaluate", "--bundle", bundle, "--data", reviews, "--json", "--quiet"])
        XCTAssertExit(evaluate, 0, file: file, line: line)
        let report = try evaluate.json()
        XCTAssertEqual(report["rows"] as? Int, 24, file: file, line: line)
        XCTAssertGreaterThanOrEqual(report["accuracy"] as? Double ?? 0, 0.9, evaluate.stdout, file: file, line: line)

        // Two training reviews (the fit separates its own examples).
        let predict = try Graft.run(["predict", "--bundle", bundle, "--top", "1", "--json", CLIFixtures.positive[0], CLIFixtures.negative[0]])
        XCTAssertExit(predict, 0, file: file, line: line)
        let results = try XCTUnwrap(try predict.json()["results"] as? [[String: Any]], file: file, line: line)
        let top = results.map { ($0["labels"] as? [[String: Any]])?.first?["label"] as? String }
        XCTAssertEqual(top, ["positive", "negative"], predict.transcript, file: file, line: line)
    }

    /// ResNet-18 with seeded random weights, written once as safetensors (no ImageNet ResNet
    /// weights exist offline; the cut point, not the accuracy, is under test).
    static func resnet18Weights() throws -> URL { try resnet18Result.get() }
    private static let resnet18Result = Result { () throws -> URL in
        let url = CLIFixtures.temporaryDirectory("resnet18").appendingPathComponent("resnet18.safetensors")
        let model = try ImageModels.make("resnet18", seed: 3)
        let tensors = try model.stateDict().map { try StoredTensor(name: $0.0, shape: $0.1.shape, floats: $0.1.values) }
        try WeightFile(tensors: tensors).writeSafetensors(to: url)
        return url
    }
}
