import Foundation
import GraftData
import GraftHeads
import GraftModels
import GraftTransfer
import XCTest
@testable import GraftServe

/// Bundles and request bodies the serving tests share, built once per process.
enum ServeFixtures {
    static let repoRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent()
    static var packages: URL {
        let home = ProcessInfo.processInfo.environment["GRAFT_HOME"].map { URL(fileURLWithPath: $0) }
            ?? FileManager.default.homeDirectoryForCurrentUser.appendingPathComponent(".cache/graft")
        return home.appendingPathComponent("packages")
    }
    static let directory: URL = {
        let d = FileManager.default.temporaryDirectory.appendingPathComponent("graft-serve-tests-\(getpid())")
        try? FileManager.default.createDirectory(at: d, withIntermediateDirectories: true)
        return d
    }()

    static let imageClasses = ["cat", "dog", "rocket"]

    /// A from-scratch SmallCNN bundle (32x32 input, 3 classes, seeded weights): loads in milliseconds.
    static func imageBundle() throws -> URL { try imageBundleResult.get() }
    private static let imageBundleResult = Result { () throws -> URL in
        let url = directory.appendingPathComponent("small-cnn.bundle")
        let spec = BackboneSpec(input: .image, model: "small-cnn", architecture: "small-cnn", pretrained: false)
        let network = try Backbones.load(spec, seed: 7, outputs: 3).network(outputs: 3, unfreeze: nil, seed: 7)
        var manifest = BundleManifest(strategy: .fromScratch, backbone: spec, classNames: imageClasses)
        manifest.inputSize = 32
        try BundleStore.save(manifest, network: network.module, to: url)
        return url
    }

    static let textClasses = ["negative", "positive"]

    /// A feature bundle on all-minilm-l6-v2 with a seeded logistic-regression head.
    static func textBundle() throws -> URL { try textBundleResult.get() }
    private static let textBundleResult = Result { () throws -> URL in
        let url = directory.appendingPathComponent("minilm.bundle")
        let extractor = try FeatureExtractor(backbone: Backbones.load(.miniLM))
        var manifest = BundleManifest(strategy: .featureExtraction(), backbone: .miniLM, classNames: textClasses)
        manifest.source = extractor.source
        let d = extractor.source.dimension
        let weights = (0..<(2 * d)).map { i in Float(sin(Double(i) * 0.37)) * 2 }
        let head = try LinearHead(kind: .logisticRegression, classes: [0, 1], featureCount: d, weights: weights, bias: [0.05, -0.05],
                                  standardization: nil, C: 1)
        try BundleStore.save(manifest, head: head, to: url)
        return url
    }

    /// A smooth 40x30 gradient image (not square, so preprocessing resizes).
    static let gradient: RGBImage = {
        var px = [UInt8]()
        for y in 0..<30 { for x in 0..<40 { px += [UInt8(x * 6), UInt8(y * 8), UInt8((x + y) * 3)] } }
        return RGBImage(width: 40, height: 30, pixels: px)!
    }()

    static var gradientPNG: Data { PNGEncoder.encode(gradient) ?? Data() }

    /// A real photo (scikit-learn's sample, 640x427 JPEG).
    static var chinaJPEG: Data {
        get throws { try Data(contentsOf: packages.appendingPathComponent("scikit-learn/sklearn/datasets/images/china.jpg")) }
    }
}

/// The JSON bodies the server answers.
struct SingleAnswer: Decodable { var model: String; var predictions: [LabelScore] }
struct ManyAnswer: Decodable { var model: String; var predictions: [[LabelScore]] }
struct ErrorAnswer: Decodable { var error: String }

/// Top labels equal to a reference, names in the same order, probabilities to `accuracy`.
func assertSameLabels(_ got: [LabelScore], _ expected: [LabelScore], accuracy: Float = 1e-4, file: StaticString = #filePath, line: UInt = #line) {
    XCTAssertEqual(got.map(\.label), expected.map(\.label), file: file, line: line)
    for (g, e) in zip(got, expected) { XCTAssertEqual(g.probability, e.probability, accuracy: accuracy, file: file, line: line) }
}
