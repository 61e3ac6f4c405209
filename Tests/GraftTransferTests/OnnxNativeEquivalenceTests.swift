import Foundation
import GraftData
import GraftHeads
import GraftModels
import GraftTensor
import XCTest
@testable import GraftTransfer

/// Issue 23, "done when": the job path (`graft extract` + `graft fit`: `FeatureStages.extract`, `.rows`, `.fit`)
/// on an ONNX ResNet-18 equals the same pipeline on Graft's native ResNet-18 with the same weights: features to
/// 1e-4, fitted and held-out accuracy exactly.
///
/// The ONNX file is PyTorch's export (fixtures/onnx/make_onnx_fixtures.py) of ResNet-18's layout at reduced width
/// (8-16-32-64 channels; a full-size file is 45 MB) carrying exactly the weights of the native fixture
/// `models/torchvision/resnet-basic.safetensors` (random, with non-trivial batch-norm statistics); its height and
/// width are dynamic, so both backbones run torchvision's 224x224 ImageNet preprocessing of the same images.
final class OnnxNativeEquivalenceTests: XCTestCase {
    var tmp: URL!
    override func setUp() { tmp = FileManager.default.temporaryDirectory.appendingPathComponent("graft-onnx-native-\(UUID().uuidString)") }
    override func tearDown() { try? FileManager.default.removeItem(at: tmp) }

    static let onnx = FixturePaths.fixtures.appendingPathComponent("onnx/resnet-basic.onnx")
    static let weights = FixturePaths.fixtures.appendingPathComponent("models/torchvision/resnet-basic.safetensors")

    static func nativeBackbone() throws -> CNNBackbone {
        let resnet = try ResNet(.init(name: "resnet-basic", block: .basic, layers: [2, 2, 2, 2], widths: [8, 16, 32, 64], numClasses: 10))
        XCTAssertTrue(try resnet.load(contentsOf: Self.weights).isComplete)
        return CNNBackbone(resnet, spec: BackboneSpec(input: .image, model: "resnet-basic", architecture: "resnet18", weights: Self.weights.path))
    }

    func onnxBackbone() throws -> any Backbone {
        try Backbones.load(BackboneSpec(input: .image, model: "resnet-basic.onnx", architecture: "onnx", weights: Self.onnx.path, preprocess: "imagenet"))
    }

    /// max |a - b| over two stores' rows, and the rows' scale.
    func difference(_ a: FeatureMatrix, _ b: FeatureMatrix) -> (diff: Float, scale: Float) {
        (zip(a.values, b.values).map { abs($0 - $1) }.max() ?? .infinity, b.values.map(abs).max() ?? 0)
    }

    func testExtractAndFitOnImportedResNetEqualNative() throws {
        // 60 training and 45 test images of Fashion-MNIST: batches of 16 end short (12 and 13 rows), so the
        // padded tail runs on both paths.
        let train = Subset(try BuiltinDatasets.fashionMNIST(.train), indices: Array(0..<60))
        let test = Subset(try BuiltinDatasets.fashionMNIST(.test), indices: Array(0..<45))
        let native = try Self.nativeBackbone(), imported = try onnxBackbone()
        XCTAssertEqual(imported.preprocessing, native.preprocessing, "both run torchvision's 224x224 ImageNet recipe")
        // The same cut on both: native `penultimate` is the ONNX graph's Flatten output (avg-pooled layer4).
        let cuts = [(native: "penultimate", imported: "/Flatten_output_0", width: 64), (native: "layer2", imported: "/layer2/layer2.1/relu_1/Relu_output_0", width: 16)]
        for cut in cuts {
            var rows: [String: (train: FeatureMatrix, trainLabels: [Int], test: FeatureMatrix, testLabels: [Int])] = [:]
            for (name, backbone, layer) in [("native", native as any Backbone, cut.native), ("onnx", imported, cut.imported)] {
                let extractor = try FeatureExtractor(backbone: backbone, cut: layer, pool: .avg)
                XCTAssertEqual(extractor.source.dimension, cut.width, "\(name) \(layer)")
                let stores = try ["train": train, "test": test].mapValues { data in
                    try FeatureStages.rows(of: FeatureStages.extract(extractor, dataset: data, indices: nil,
                                                                     to: tmp.appendingPathComponent("\(name)-\(cut.width)-\(data.count)"),
                                                                     batchSize: 16, shardSize: 32))
                }
                let (a, b) = (try XCTUnwrap(stores["train"]), try XCTUnwrap(stores["test"]))
                rows[name] = (a.x, a.labels, b.x, b.labels)
            }
            let (n, o) = (try XCTUnwrap(rows["native"]), try XCTUnwrap(rows["onnx"]))
            XCTAssertEqual(n.trainLabels, o.trainLabels)
            XCTAssertEqual(n.testLabels, o.testLabels)
            for (what, a, b) in [("train", o.train, n.train), ("test", o.test, n.test)] {
                XCTAssertEqual(a.rows, b.rows)
                let (diff, scale) = difference(a, b)
                XCTAssertGreaterThan(scale, 0.1, "\(cut.native) \(what): degenerate features")
                XCTAssertLessThanOrEqual(diff, 1e-4, "\(cut.native) \(what) features: max |diff| \(diff) (scale \(scale))")
                print("onnx-vs-native \(cut.native) \(what): \(a.rows) x \(a.columns), max |diff| \(diff), scale \(scale)")
            }
            // `graft fit`'s default head: logistic regression, C chosen by cross-validation.
            let classNames = BuiltinDatasets.fashionMNISTClassNames
            let fitNative = try FeatureStages.fit(.logisticRegression, C: nil, x: n.train, labels: n.trainLabels, classNames: classNames)
            let fitOnnx = try FeatureStages.fit(.logisticRegression, C: nil, x: o.train, labels: o.trainLabels, classNames: classNames)
            XCTAssertEqual(fitOnnx.head.regularisation, fitNative.head.regularisation, "\(cut.native): the same C chosen")
            for (what, x, xn, labels) in [("training", o.train, n.train, n.trainLabels), ("test", o.test, n.test, n.testLabels)] {
                let accOnnx = try fitOnnx.head.evaluate(x, labels: labels).accuracy
                let accNative = try fitNative.head.evaluate(xn, labels: labels).accuracy
                XCTAssertEqual(accOnnx, accNative, "\(cut.native) \(what) accuracy")
                XCTAssertEqual(try fitOnnx.head.predict(x), try fitNative.head.predict(xn), "\(cut.native) \(what) predictions")
                XCTAssertGreaterThan(accNative, 0.1, "\(cut.native) \(what): the head learned something")
                print("onnx-vs-native \(cut.native) \(what) accuracy: onnx \(accOnnx), native \(accNative)")
            }
        }
    }
}
