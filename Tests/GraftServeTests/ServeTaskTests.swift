import Foundation
import GraftData
import GraftTransfer
import Hummingbird
import HummingbirdTesting
import XCTest
@testable import GraftServe

/// A regression network bundle behind `/v1/predict`: each input answered with its value per target, the
/// numbers `TrainedModel.values` gives; a multi-label network bundle answered with its label set.
final class ServeTaskTests: XCTestCase {
    /// A from-scratch SmallCNN with two regression outputs (or three labels with thresholds).
    static func bundle(_ task: TaskKind, names: [String]) throws -> URL {
        let url = ServeFixtures.directory.appendingPathComponent("\(task.rawValue).bundle")
        let spec = BackboneSpec(input: .image, model: "small-cnn", architecture: "small-cnn", pretrained: false)
        let network = try Backbones.load(spec, seed: 9, outputs: names.count).network(outputs: names.count, unfreeze: nil, seed: 9)
        var manifest = BundleManifest(task: task, strategy: .fromScratch, backbone: spec, classNames: names)
        manifest.inputSize = 32
        if task == .multiLabel { manifest.headThresholds = [0.0, 0.5, 1.01] }
        try BundleStore.save(manifest, network: network.module, to: url)
        return url
    }

    struct Values: Decodable { var model: String; var values: [String: Float] }
    struct ManyValues: Decodable { var model: String; var values: [[String: Float]] }
    struct Labels: Decodable { struct L: Decodable { var label: String; var probability: Float }; var predictions: [L] }

    func testRegressionBundleAnswersValuesAndMultiLabelItsLabelSet() async throws {
        let url = try Self.bundle(.regression, names: ["angle", "count"])
        var options = ServeOptions()
        options.port = 0
        let server = try PredictionServer(bundle: url, options: options)
        let reference = try TrainedModel(bundle: url)
        let png = ServeFixtures.gradientPNG
        let expected = try reference.values(reference.batch(images: [ImageDecoder().decode(png, source: "png")]))[0]
        try await server.application().test(.live) { client in
            let one = try await client.execute(uri: "/v1/predict", method: .post, headers: [.contentType: "image/png"], body: ByteBuffer(data: png))
            XCTAssertEqual(one.status, .ok)
            let answer = try JSONDecoder().decode(Values.self, from: Data(one.body.readableBytesView))
            XCTAssertEqual(answer.model, "small-cnn")
            XCTAssertEqual(answer.values.count, 2)
            XCTAssertEqual(try XCTUnwrap(answer.values["angle"]), expected[0], accuracy: 1e-5)
            XCTAssertEqual(try XCTUnwrap(answer.values["count"]), expected[1], accuracy: 1e-5)
        }

        let tagger = try Self.bundle(.multiLabel, names: ["a", "b", "c"])
        let labelled = try PredictionServer(bundle: tagger, options: options)
        let model = try TrainedModel(bundle: tagger)
        let probabilities = try model.probabilities(model.batch(images: [ImageDecoder().decode(png, source: "png")]))[0]
        // Thresholds 0, 0.5 and above 1: "a" always, "c" never, "b" when its sigmoid reaches 0.5.
        let expectedSet = ["a"] + (probabilities[1] >= 0.5 ? ["b"] : [])
        try await labelled.application().test(.live) { client in
            let one = try await client.execute(uri: "/v1/predict?top=1", method: .post, headers: [.contentType: "image/png"], body: ByteBuffer(data: png))
            XCTAssertEqual(one.status, .ok)
            let answer = try JSONDecoder().decode(Labels.self, from: Data(one.body.readableBytesView))
            XCTAssertEqual(Set(answer.predictions.map(\.label)), Set(expectedSet), "every label at its threshold, not the top 1")
        }
    }
}
