import Foundation
import GraftModels
import GraftNN
import GraftTensor
import XCTest

/// ResNet, MobileNetV2 and VGG against PyTorch re-statements of torchvision's
/// modules (fixtures/models/make_torchvision.py; torchvision itself is not
/// installable here).
///
/// Strategy, to keep fixtures under 3 MB while testing the real code paths:
/// - Parity: the same Swift classes at reduced widths (ResNet basic and
///   bottleneck [2,2,2,2] x widths [8,16,32,64]; MobileNetV2 width 0.25;
///   VGG16 and VGG16-BN at 1/16 width with hidden 32), 10 classes, random
///   weights with random batch-norm statistics stored as F16 safetensors under
///   torchvision keys, a 2x64x64 input. Strict loading, then logits and
///   intermediate cut points must agree to 1e-3 of the reference's scale,
///   both on the fused inference path (no grad) and the tape path.
///   At 64x64 VGG's last block is 2x2, so the adaptive pool to 7x7 runs its
///   overlapping-bin path, and the C,H,W flatten order is exercised.
/// - Full size: the real ResNet-18/34/50, MobileNetV2, VGG16(-BN) configs must
///   produce torchvision's state-dict key list, shapes and parameter count
///   (keys.json, generated from the full-size Python definitions, which the
///   script checks against torchvision's published parameter counts).
final class TorchvisionParityTests: XCTestCase {
    static let dir = FixturePaths.fixtures.appendingPathComponent("models/torchvision")

    func url(_ name: String) -> URL { Self.dir.appendingPathComponent(name) }

    /// Loads `<name>.safetensors` strictly and compares every stored output.
    func checkParity(_ model: some ImageBackbone, _ name: String, file: StaticString = #filePath, line: UInt = #line) throws {
        let report = try model.load(contentsOf: url("\(name).safetensors"))
        XCTAssertTrue(report.isComplete, "\(report)", file: file, line: line)
        let x = try XCTUnwrap(loadTensors(url("input.safetensors"))["x"])
        let expected = try loadTensors(url("\(name).io.safetensors"))
        XCTAssertGreaterThan(expected.count, 2, file: file, line: line)
        for (key, reference) in expected.sorted(by: { $0.key < $1.key }) {
            let cut = key == "logits" ? nil : String(key.dropFirst("cut.".count))
            // Fused conv+BN+activation (no tape) and the separate ops (parameters want gradients).
            let fused = try withNoGrad { try model.forward(x, upTo: cut, training: false) }
            let taped = try model.forward(x, upTo: cut, training: false)
            for (path, out) in [("fused", fused), ("tape", taped)] {
                XCTAssertEqual(out.shape, reference.shape, "\(name) \(key) \(path)", file: file, line: line)
                guard out.shape == reference.shape else { continue }
                let scale = reference.values.map(abs).max() ?? 0
                let diff = zip(out.values, reference.values).map { abs($0 - $1) }.max() ?? .infinity
                XCTAssertGreaterThan(scale, 1e-3, "\(name) \(key): degenerate reference", file: file, line: line)
                XCTAssertLessThanOrEqual(diff, 1e-3 * scale, "\(name) \(key) \(path): max abs diff \(diff), scale \(scale)", file: file, line: line)
            }
        }
    }

    static let smallWidths = [8, 16, 32, 64]

    func testResNetBasicBlockMatchesPyTorch() throws {
        let config = ResNet.Config(name: "resnet-basic", block: .basic, layers: [2, 2, 2, 2], widths: Self.smallWidths, numClasses: 10)
        try checkParity(try ResNet(config), "resnet-basic")
    }

    func testResNetBottleneckMatchesPyTorch() throws {
        let config = ResNet.Config(name: "resnet-bottleneck", block: .bottleneck, layers: [2, 2, 2, 2], widths: Self.smallWidths, numClasses: 10)
        try checkParity(try ResNet(config), "resnet-bottleneck")
    }

    func testMobileNetV2MatchesPyTorch() throws {
        try checkParity(try MobileNetV2(.init(widthMultiplier: 0.25, numClasses: 10)), "mobilenet_v2-0.25")
    }

    /// Every block through the fused inverted-residual kernel, whatever the default policy.
    func testMobileNetV2WithEveryBlockFusedMatchesPyTorch() throws {
        try FusedInvertedResidual.$minimumSide.withValue(1) {
            try checkParity(try MobileNetV2(.init(widthMultiplier: 0.25, numClasses: 10)), "mobilenet_v2-0.25")
        }
    }

    func smallVGG16(batchNorm: Bool) throws -> VGG {
        let layers = try VGG.Config.layers(depth: 16).map { layer -> VGG.Config.Layer in
            if case .conv(let w) = layer { return .conv(w / 16) }
            return layer
        }
        return try VGG(.init(name: "vgg16-w16", layers: layers, batchNorm: batchNorm, hidden: 32, numClasses: 10))
    }

    func testVGG16MatchesPyTorch() throws {
        try checkParity(try smallVGG16(batchNorm: false), "vgg16-w16")
    }

    func testVGG16BatchNormMatchesPyTorch() throws {
        try checkParity(try smallVGG16(batchNorm: true), "vgg16_bn-w16")
    }

    struct KeyList: Decodable {
        let parameters: Int
        let state_dict: [[Entry]]
        enum Entry: Decodable {
            case key(String), shape([Int])
            init(from decoder: Decoder) throws {
                let c = try decoder.singleValueContainer()
                if let s = try? c.decode(String.self) { self = .key(s) } else { self = .shape(try c.decode([Int].self)) }
            }
        }
        var pairs: [String] {
            state_dict.map { $0.map { if case .key(let k) = $0 { return k } else if case .shape(let s) = $0 { return "\(s)" }; return "" }.joined(separator: " ") }
        }
    }

    func testFullSizeConfigsHaveTorchvisionKeysAndShapes() throws {
        let lists = try JSONDecoder().decode([String: KeyList].self, from: Data(contentsOf: url("keys.json")))
        let models: [(String, () throws -> Module)] = [
            ("resnet18", { try ResNet(.resnet18()) }),
            ("resnet34", { try ResNet(.resnet34()) }),
            ("resnet50", { try ResNet(.resnet50()) }),
            ("mobilenet_v2", { try MobileNetV2() }),
            ("vgg16", { try VGG(.vgg16()) }),
            ("vgg16_bn", { try VGG(.vgg(depth: 16, batchNorm: true)) }),
        ]
        for (name, make) in models {
            let expected = try XCTUnwrap(lists[name], name)
            let model = try make()
            let ours = model.stateDict().map { "\($0.0) \($0.1.shape)" }
            XCTAssertEqual(ours, expected.pairs, name)
            XCTAssertEqual(model.parameterCount, expected.parameters, name)
        }
    }

    func testVGG16FeaturesCutIs7x7At224() throws {
        // VGG16's five pools at 1/16 width (the full-size channels are checked by the key list test).
        let vgg = try smallVGG16(batchNorm: false)
        XCTAssertTrue(vgg.cutPoints.contains("features"))
        var g = SeededGenerator(seed: 3)
        let x = Tensor.uniform([1, 224, 224, 3], low: -2, high: 2, generator: &g)
        let (features, pooled) = try withNoGrad {
            (try vgg.forward(x, upTo: "features", training: false), try vgg.forward(x, upTo: "pool", training: false))
        }
        XCTAssertEqual(features.shape, [1, 7, 7, 32])
        XCTAssertEqual(pooled.values, features.values, "adaptive pool of a 7x7 map is the identity")
        XCTAssertEqual(try vgg.forward(x, upTo: "penultimate", training: false).shape, [1, 32])
        XCTAssertEqual(vgg.featureSize, 32)
        XCTAssertEqual(VGG.Config.vgg16().hidden, 4096)
        XCTAssertEqual(vgg.classifierKey, "classifier.6")
    }

    func testUnknownCutPointNamesTheAvailableOnes() throws {
        let model = try MobileNetV2(.init(widthMultiplier: 0.25, numClasses: 10))
        let x = Tensor.zeros([1, 32, 32, 3])
        XCTAssertThrowsError(try model.forward(x, upTo: "layer4", training: false)) { error in
            XCTAssertTrue("\(error)".contains("features.18"), "\(error)")
        }
        XCTAssertThrowsError(try ResNet(.init(name: "bad", block: .basic, layers: [2, 2], numClasses: 10)))
    }

    func testCutPointsAndStages() throws {
        let resnet = try ResNet(.resnet18(numClasses: 10))
        XCTAssertEqual(resnet.cutPoints.prefix(4), ["stem", "layer1.0", "layer1.1", "layer1"])
        XCTAssertEqual(resnet.cutPoints.suffix(2), ["penultimate", "logits"])
        XCTAssertEqual(resnet.stages.count, 5)
        XCTAssertEqual(resnet.featureSize, 512)
        XCTAssertEqual(try ResNet(.resnet50()).featureSize, 2048)
        let mobilenet = try MobileNetV2()
        XCTAssertEqual(mobilenet.cutPoints.count, 21)
        XCTAssertEqual(mobilenet.stages.count, 19)
        XCTAssertEqual(mobilenet.featureSize, 1280)
        XCTAssertEqual(mobilenet.preprocessing, .imageNet())
    }

    /// Names of the trainable parameters after `freezeAllButLast(k)`, by prefix.
    func trainablePrefixes(_ model: some ImageBackbone, _ k: Int, depth: Int) -> Set<String> {
        model.freezeAllButLast(k)
        return Set(model.trainableParameters.map { $0.0.split(separator: ".").prefix(depth).joined(separator: ".") })
    }

    func testFreezeAllButLastLeavesExactlyTheLastStagesTrainable() throws {
        let resnet = try ResNet(.init(name: "r", block: .basic, layers: [2, 2, 2, 2], widths: Self.smallWidths, numClasses: 10))
        XCTAssertEqual(trainablePrefixes(resnet, 0, depth: 1), ["fc"])
        XCTAssertEqual(trainablePrefixes(resnet, 2, depth: 1), ["layer3", "layer4", "fc"])
        XCTAssertEqual(trainablePrefixes(resnet, 5, depth: 1), ["conv1", "bn1", "layer1", "layer2", "layer3", "layer4", "fc"])
        XCTAssertEqual(resnet.trainableParameters.count, resnet.namedParameters().count)
        // Batch-norm statistics stay frozen (running statistics even when training) unless asked for.
        resnet.freezeAllButLast(1)
        XCTAssertTrue(try XCTUnwrap(resnet.module(at: "layer3.0.bn1")).isFrozen)
        XCTAssertTrue(try XCTUnwrap(resnet.module(at: "layer4.0.bn1")).isFrozen)
        resnet.freezeAllButLast(1, trainBatchNormStatistics: true)
        XCTAssertTrue(try XCTUnwrap(resnet.module(at: "layer3.0.bn1")).isFrozen)
        XCTAssertFalse(try XCTUnwrap(resnet.module(at: "layer4.0.downsample.1")).isFrozen)

        let mobilenet = try MobileNetV2(.init(widthMultiplier: 0.25, numClasses: 10))
        XCTAssertEqual(trainablePrefixes(mobilenet, 2, depth: 2), ["features.17", "features.18", "classifier.1"])

        let vgg = try smallVGG16(batchNorm: false)
        XCTAssertEqual(trainablePrefixes(vgg, 1, depth: 2), ["classifier.3", "classifier.6"])
        XCTAssertEqual(trainablePrefixes(vgg, 3, depth: 2), ["features.24", "features.26", "features.28", "classifier.0", "classifier.3", "classifier.6"])
        let vggBN = try smallVGG16(batchNorm: true)
        // vgg16_bn numbering: conv, bn, relu per conv; block5 starts at 34.
        XCTAssertEqual(trainablePrefixes(vggBN, 3, depth: 2),
                       ["features.34", "features.35", "features.37", "features.38", "features.40", "features.41",
                        "classifier.0", "classifier.3", "classifier.6"])
    }

    func testTrainingStepThroughUnfrozenStagesReachesOnlyThem() throws {
        let resnet = try ResNet(.init(name: "r", block: .bottleneck, layers: [1, 1, 1, 1], widths: Self.smallWidths, numClasses: 3))
        resnet.freezeAllButLast(1)
        var g = SeededGenerator(seed: 5)
        let x = Tensor.uniform([2, 32, 32, 3], low: -1, high: 1, generator: &g)
        let loss = try resnet.forward(x, training: true).crossEntropy(labels: IndexTensor([0, 2]))
        try loss.backward()
        for (key, p) in resnet.namedParameters() {
            let trainable = key.hasPrefix("layer4.") || key.hasPrefix("fc.")
            XCTAssertEqual(p.grad != nil, trainable, key)
        }
    }
}
