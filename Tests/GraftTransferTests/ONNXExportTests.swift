import Foundation
import GraftData
import GraftHeads
import GraftModels
import GraftNN
import GraftTensor
@testable import GraftTransfer
import XCTest

/// `graft export --format onnx` against ONNX Runtime: seven bundles (image and text; feature heads at several
/// cuts and poolings, fine-tuned networks; classification, multi-label, regression) are exported, and Graft's
/// own scores on real inputs (photos through the bundle's preprocessing, reviews through its tokenizer) must
/// equal what ONNX Runtime computed from the same file (Tests/Fixtures/export/expected.json, made by
/// fixtures/export/make_export_fixtures.py) within 1e-4. The file's bytes are pinned by size and FNV-1a
/// hash, so a change to the writer regenerates the fixture rather than passing silently.
///
/// Every bundle is seeded (no fitting, no data-dependent arithmetic in its weights), so the exported bytes
/// are the same on every machine.
final class ONNXExportTests: XCTestCase {
    static let expectedURL = FixturePaths.fixtures.appendingPathComponent("export/expected.json")

    func testImageFeatureHeadPenultimate() throws { try check("lite0-penultimate-logreg") }
    func testImageFeatureHeadFlattenedBlock() throws { try check("lite0-block12-flatten-prototype") }
    func testImageNetworkResNet() throws { try check("resnet18-network") }
    func testImageNetworkMultiLabel() throws { try check("mobilenetv2-network-multilabel") }
    func testTextFeatureHead() throws { try check("minilm-pooled-logreg") }
    func testTextRegressionAtLayer() throws { try check("minilm-layer3-ridge") }
    func testTextNetwork() throws { try check("minilm-network") }
    /// An imported ONNX graph (the PyTorch export `Tests/Fixtures/onnx/resnet-basic.onnx`) fine-tuned from layer4
    /// (its trained initializers written in place of the file's) and with a feature head on a flattened layer2 map.
    func testImportedOnnxNetworkFineTunedFromANode() throws { try check("onnx-resnet-network") }
    func testImportedOnnxFeatureHeadFlattenedMap() throws { try check("onnx-resnet-layer2-flatten-logreg") }

    /// The safetensors export of a penultimate-cut head bundle is the reference architecture with the bundle's
    /// classes: loaded strictly into `EfficientNetLite(numClasses: 3)`, its softmax is the bundle's scores.
    func testSafetensorsIsTheReferenceModelWithTheHeadAsItsClassifier() throws {
        let (bundle, inputs) = try Self.make("lite0-penultimate-logreg", in: directory)
        let model = try TrainedModel(bundle: bundle)
        let url = directory.appendingPathComponent("lite0-head.safetensors")
        let metadata = try SafetensorsBundleExport.write(model, to: url)
        XCTAssertEqual(metadata["graft.head"], "_fc")
        let reference = EfficientNetLite(try .lite(0, numClasses: 3))
        try StateDictFile.read(into: reference, from: url)
        guard case let .images(images) = inputs else { return XCTFail("image inputs expected") }
        let batch = model.batch(images: images)
        let x = try Tensor(shape: [batch.count, batch.height, batch.width, 3], values: batch.pixels)
        let p = try withNoGrad { try reference.forward(x, upTo: nil, training: false).softmax() }.values
        let expected = try model.probabilities(batch).flatMap { $0 }
        XCTAssertEqual(p.count, expected.count)
        for (a, b) in zip(p, expected) { XCTAssertEqual(a, b, accuracy: 1e-5) }
    }

    func testKNNHeadIsRefusedByName() throws {
        let url = directory.appendingPathComponent("knn.bundle")
        let extractor = try FeatureExtractor(backbone: Backbones.load(.miniLM))
        var manifest = BundleManifest(strategy: .featureExtraction(), backbone: .miniLM, classNames: ["a", "b"])
        manifest.source = extractor.source
        let d = extractor.source.dimension
        let head = try NearestNeighborsHead(classes: [0, 1], featureCount: d, k: 1, examples: (0..<(2 * d)).map { Float($0 % 7) }, labels: [0, 1])
        try BundleStore.save(manifest, head: head, to: url)
        XCTAssertThrowsError(try ONNXBundleExport.model(TrainedModel(bundle: url), producerVersion: "test")) { error in
            XCTAssertTrue("\(error)".contains("knn"), "\(error)")
        }
    }

    // MARK: - the check

    private func check(_ name: String, file: StaticString = #filePath, line: UInt = #line) throws {
        let (bundle, inputs) = try Self.make(name, in: directory)
        let model = try TrainedModel(bundle: bundle)
        let bytes = try ONNXBundleExport.model(model, producerVersion: "fixture").encoded()
        let graft: [[Float]]
        switch inputs {
        case let .images(images): graft = try scores(model, model.batch(images: images))
        case let .texts(texts): graft = try scores(model, model.batch(texts: texts))
        }

        if let out = ProcessInfo.processInfo.environment["GRAFT_EXPORT_FIXTURE_DIR"] {
            try write(name: name, bytes: bytes, model: model, inputs: inputs, graft: graft, to: URL(fileURLWithPath: out))
            return
        }
        let all = try JSONSerialization.jsonObject(with: Data(contentsOf: Self.expectedURL)) as? [String: Any]
        let expected = try XCTUnwrap(all?[name] as? [String: Any], "no fixture for \(name) in \(Self.expectedURL.path)", file: file, line: line)
        XCTAssertEqual(expected["bytes"] as? Int, bytes.count, "export of \(name) changed: regenerate with fixtures/export/make_export_fixtures.py", file: file, line: line)
        XCTAssertEqual(expected["fnv1a64"] as? String, Self.fnv1a64(bytes), "export of \(name) changed: regenerate the fixture", file: file, line: line)
        let ort = try XCTUnwrap(expected["onnxruntime"] as? [[Double]], file: file, line: line)
        XCTAssertEqual(ort.count, graft.count, file: file, line: line)
        var worst: Float = 0
        for (a, b) in zip(graft, ort) {
            XCTAssertEqual(a.count, b.count, file: file, line: line)
            for (x, y) in zip(a, b) { worst = max(worst, abs(x - Float(y)) / max(1, abs(Float(y)))) }
        }
        XCTAssertLessThanOrEqual(worst, 1e-4, "\(name): Graft vs ONNX Runtime on the exported file", file: file, line: line)
        // The scores depend on the input (a graph that ignored it could agree too).
        let spread = graft.dropFirst().flatMap { row in zip(row, graft[0]).map { abs($0 - $1) } }.max() ?? 0
        XCTAssertGreaterThan(spread, 1e-3, "\(name): every input scored alike", file: file, line: line)
    }

    private func scores(_ model: TrainedModel, _ batch: Batch) throws -> [[Float]] {
        model.manifest.task == .regression ? try model.values(batch) : try model.probabilities(batch)
    }

    // MARK: - the bundles

    enum Inputs {
        case images([RGBImage])
        case texts([String])
    }

    static let photos = ["astronaut.png", "coffee.png", "chelsea.png", "rocket.jpg"]
    static let reviews = ["a gorgeous, witty, seductive movie.", "the plot is nothing but boilerplate clichés from start to finish,",
                          "it's a charming and often affecting journey.", "bad."]

    static let onnxResNet = FixturePaths.fixtures.appendingPathComponent("onnx/resnet-basic.onnx")

    static func make(_ name: String, in dir: URL) throws -> (URL, Inputs) {
        let url = dir.appendingPathComponent(name + ".bundle")
        var g = SeededGenerator(seed: 0xE4907)
        func uniform(_ n: Int, _ scale: Float = 1) -> [Float] { Tensor.uniform([n], low: -scale, high: scale, generator: &g).values }
        let images = try photos.map { try ImageDecoder().decode(contentsOf: FixturePaths.packages.appendingPathComponent("scikit-image/skimage/data/\($0)")) }
        switch name {
        case "lite0-penultimate-logreg", "lite0-block12-flatten-prototype":
            let flatten = name.contains("flatten")
            let extractor = try FeatureExtractor(backbone: Backbones.load(.efficientNetLite0), cut: flatten ? "block12" : "penultimate",
                                                 pool: flatten ? .flatten : .avg)
            var manifest = BundleManifest(strategy: .featureExtraction(), backbone: .efficientNetLite0, classNames: ["cat", "cup", "person"])
            manifest.source = extractor.source
            let d = extractor.source.dimension
            let standardization = flatten ? nil : try Standardization(mean: uniform(d, 0.5), scale: uniform(d, 0.5).map { 1 + $0 })
            let head = try LinearHead(kind: flatten ? .prototype : .logisticRegression, classes: [2, 0, 1], featureCount: d,
                                      weights: uniform(3 * d, flatten ? 0.05 : 0.2), bias: uniform(3), standardization: standardization, C: 1)
            try BundleStore.save(manifest, head: head, to: url)
        case "resnet18-network", "mobilenetv2-network-multilabel":
            let architecture = name.hasPrefix("resnet") ? "resnet18" : "mobilenet_v2"
            let spec = BackboneSpec(input: .image, model: architecture, architecture: architecture, pretrained: false)
            let network = try Backbones.load(spec, seed: 3, outputs: 4).network(outputs: 4, unfreeze: nil, seed: 3)
            let task: TaskKind = architecture == "resnet18" ? .classification : .multiLabel
            // ResNet's residual sums keep a signal through unit variances; MobileNetV2's 52 layers need smaller ones.
            try perturbBatchNorm(network.module, variance: architecture == "resnet18" ? 0.5...1.5 : 0.1...0.3,
                                 meanShift: architecture == "resnet18" ? 0.5 : 0.05, &g)
            var manifest = BundleManifest(task: task, strategy: .fromScratch, backbone: spec, classNames: ["a", "b", "c", "d"])
            manifest.inputSize = 224
            try BundleStore.save(manifest, network: network.module, to: url)
        case "minilm-pooled-logreg", "minilm-layer3-ridge":
            let ridge = name.contains("ridge")
            let extractor = try FeatureExtractor(backbone: Backbones.load(.miniLM), cut: ridge ? "layer3" : "pooled")
            var manifest = BundleManifest(task: ridge ? .regression : .classification, strategy: .featureExtraction(), backbone: .miniLM,
                                          classNames: ridge ? ["score", "length"] : ["negative", "positive"])
            manifest.source = extractor.source
            let d = extractor.source.dimension
            if ridge {
                let head = try RegressionHead(featureCount: d, targetCount: 2, weights: uniform(2 * d), bias: [3, -1],
                                              standardization: nil, alpha: 1)
                try BundleStore.save(manifest, regression: head, to: url)
            } else {
                let head = try LinearHead(kind: .logisticRegression, classes: [0, 1], featureCount: d, weights: uniform(2 * d, 3),
                                          bias: uniform(2), standardization: nil, C: 1)
                try BundleStore.save(manifest, head: head, to: url)
            }
            return (url, .texts(reviews))
        case "minilm-network":
            let network = try Backbones.load(.miniLM).network(outputs: 3, unfreeze: 0, seed: 5)
            var manifest = BundleManifest(strategy: .fineTune(), backbone: .miniLM, classNames: ["neg", "mixed", "pos"])
            manifest.headInput = "pooled"
            try BundleStore.save(manifest, network: network.module, to: url)
            return (url, .texts(reviews))
        case "onnx-resnet-network":
            let spec = BackboneSpec.onnx(onnxResNet, preprocess: "imagenet", unfreezeFrom: "/layer4/layer4.0/conv1/Conv")
            let network = try Backbones.load(spec).network(outputs: 3, unfreeze: 0, seed: 3)
            // Stand in for training: move every trainable initializer, so the file's own values would be wrong.
            for p in network.trainableParameters().trunk {
                try p.assign(Tensor(shape: p.shape, values: zip(p.values, uniform(p.count, 0.5)).map { $0 * (1 + $1) }))
            }
            var manifest = BundleManifest(strategy: .fineTune(), backbone: spec, classNames: ["cat", "cup", "person"])
            manifest.inputSize = 224
            try BundleStore.save(manifest, network: network.module, to: url)
        case "onnx-resnet-layer2-flatten-logreg":
            let spec = BackboneSpec.onnx(onnxResNet, preprocess: "imagenet")
            let extractor = try FeatureExtractor(backbone: Backbones.load(spec), cut: "/layer2/layer2.1/relu_1/Relu_output_0", pool: .flatten)
            var manifest = BundleManifest(strategy: .featureExtraction(), backbone: spec, classNames: ["cat", "cup", "person"])
            manifest.source = extractor.source
            let d = extractor.source.dimension
            let head = try LinearHead(kind: .logisticRegression, classes: [1, 2, 0], featureCount: d, weights: uniform(3 * d, 0.01),
                                      bias: uniform(3), standardization: nil, C: 1)
            try BundleStore.save(manifest, head: head, to: url)
        default:
            throw TransferError.unsupported("no export fixture named \(name)")
        }
        return (url, .images(images))
    }

    /// Random networks have identity batch norms; give them real statistics so the exported
    /// BatchNormalization nodes are exercised.
    static func perturbBatchNorm(_ module: Module, variance: ClosedRange<Float>, meanShift: Float, _ g: inout SeededGenerator) throws {
        for (key, t) in module.stateDict() where key.hasSuffix("running_var") || key.hasSuffix("running_mean") {
            let v = key.hasSuffix("running_var") ? Tensor.uniform([t.count], low: variance.lowerBound, high: variance.upperBound, generator: &g)
                : Tensor.uniform([t.count], low: -meanShift, high: meanShift, generator: &g)
            try t.assign(Tensor(shape: t.shape, values: v.values))
        }
    }

    // MARK: - fixture writing (GRAFT_EXPORT_FIXTURE_DIR)

    private func write(name: String, bytes: Data, model: TrainedModel, inputs: Inputs, graft: [[Float]], to dir: URL) throws {
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        try bytes.write(to: dir.appendingPathComponent(name + ".onnx"))
        // The weights too: the script loads the Lite0 one into the PyTorch reference package.
        _ = try SafetensorsBundleExport.write(model, to: dir.appendingPathComponent(name + ".safetensors"))
        var feeds: [String: Any] = [:]
        switch inputs {
        case let .images(images):
            let batch = model.batch(images: images)
            let (n, s) = (batch.count, batch.height)
            var nchw = [Float](repeating: 0, count: n * 3 * s * s)
            for i in 0..<n { for y in 0..<s { for x in 0..<s { for c in 0..<3 {
                nchw[((i * 3 + c) * s + y) * s + x] = batch.pixels[((i * s + y) * s + x) * 3 + c]
            } } } }
            feeds["pixels"] = ["shape": [n, 3, s, s], "dtype": "float32", "data": nchw]
        case let .texts(texts):
            guard let text = model.backbone as? TextBackbone else { return }
            let t = text.embedder.tokenizer.encodeBatch(texts, maxLength: text.embedder.maxLength)
            for (key, values) in [("input_ids", t.ids), ("attention_mask", t.attentionMask), ("token_type_ids", t.tokenTypeIds)] {
                feeds[key] = ["shape": [t.batch, t.length], "dtype": "int64", "data": values.map(Int.init)]
            }
        }
        let record: [String: Any] = ["bytes": bytes.count, "fnv1a64": Self.fnv1a64(bytes), "inputs": feeds, "graft": graft.map { $0.map(Double.init) }]
        try JSONSerialization.data(withJSONObject: record).write(to: dir.appendingPathComponent(name + ".json"))
    }

    static func fnv1a64(_ data: Data) -> String {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for b in data { h = (h ^ UInt64(b)) &* 0x100_0000_01b3 }
        return String(h, radix: 16)
    }

    private lazy var directory: URL = {
        let d = FileManager.default.temporaryDirectory.appendingPathComponent("graft-export-tests-\(getpid())")
        try? FileManager.default.createDirectory(at: d, withIntermediateDirectories: true)
        return d
    }()
}
