import Foundation
import GraftData
import GraftModels
import GraftNN
import GraftTensor
import GraftWeights
import XCTest
@testable import GraftTransfer

/// int8 for an imported ONNX graph (docs/PRECISION.md "ONNX graphs"), against Graft's native int8 as the reference:
/// the ONNX ResNet export of Tests/Fixtures/onnx carries exactly the weights of the native fixture (as in
/// `OnnxNativeEquivalenceTests`), so calibrating the graph must record each convolution's input range as the native
/// network records it, and the quantized graph in int8 (its residual blocks as int8 chains) must compute what the
/// native network's int8 chains compute with those ranges (`ResNetBlock.keepsCodesBetweenBlocks` off: fp32 between
/// blocks, as the graph keeps it).
final class OnnxInt8Tests: XCTestCase {
    var tmp: URL!
    override func setUp() {
        tmp = FileManager.default.temporaryDirectory.appendingPathComponent("graft-onnx-int8-\(UUID().uuidString)")
        try? FileManager.default.createDirectory(at: tmp, withIntermediateDirectories: true)
    }
    override func tearDown() { try? FileManager.default.removeItem(at: tmp) }

    static let onnx = OnnxNativeEquivalenceTests.onnx
    static func spec(_ file: URL) -> BackboneSpec { .onnx(file, preprocess: "imagenet") }

    /// The native module path of a PyTorch-exported Conv node ("/layer2/layer2.0/downsample/downsample.0/Conv_output_0"
    /// -> "layer2.0.downsample.0"): each scope repeats its parent's name as a prefix.
    static func nativePath(_ convOutput: String) -> String {
        var parts: [String] = []
        for p in convOutput.split(separator: "/").dropLast().map(String.init) {
            if let last = parts.last, p.hasPrefix(last + ".") { parts[parts.count - 1] = p } else { parts.append(p) }
        }
        return parts.joined(separator: ".")
    }

    static let flatten = "/Flatten_output_0"

    /// `model`'s convolutions by module path.
    static func convolutions(of model: Module) -> [String: Conv2d] {
        Dictionary(model.namedModules().compactMap { p in (p.1 as? Conv2d).map { (p.0, $0) } }, uniquingKeysWith: { a, _ in a })
    }

    static func maxDiff(_ a: [Float], _ b: [Float]) -> Float { zip(a, b).map { abs($0 - $1) }.max() ?? .infinity }

    /// 48 Fashion-MNIST training images as one batch, as the backbones' preprocessing makes them, and their pixels.
    func images(_ preprocessing: Preprocessing) throws -> (data: any Dataset, batch: Batch, x: Tensor) {
        let data = Subset(try BuiltinDatasets.fashionMNIST(.train), indices: Array(0..<48))
        let loader = BatchLoader(dataset: data, indices: Array(0..<48), preprocessing: preprocessing, options: .init(batchSize: 48))
        let batch = try XCTUnwrap(try loader.next())
        return (data, batch, try Tensor(shape: [batch.count, batch.height, batch.width, 3], values: batch.pixels))
    }

    func testQuantizedGraphComputesWhatTheNativeNetworkComputesInInt8() throws {
        try Precision.int8.requireSupport()
        let native = try OnnxNativeEquivalenceTests.nativeBackbone()   // the export's weights
        let (data, batch, x) = try images(try XCTUnwrap(native.preprocessing))
        let out = tmp.appendingPathComponent("resnet-basic.int8.onnx")
        let summary = try PostTrainingQuantization(items: 48, batchSize: 16, weights: .fp32).run(spec: Self.spec(Self.onnx), dataset: data, to: out)
        XCTAssertEqual(summary.architecture, "onnx")
        XCTAssertEqual(summary.items, 48)
        XCTAssertEqual(summary.calibratedConvolutions, 20)
        XCTAssertEqual(summary.convolutions, 20)
        XCTAssertEqual(summary.weights, "fp32")
        XCTAssertTrue(summary.usage.contains("--precision int8") && summary.usage.contains(out.path), summary.usage)

        // The ranges, one per Conv node, are the native network's own calibration on the same images.
        let quantized = try OnnxBackbone(Self.spec(out))
        XCTAssertTrue(quantized.isInt8Calibrated)
        XCTAssertEqual(try OnnxModel(contentsOf: out).residualBlocks, 8, "ResNet-18's 8 basic blocks, 3 with a projection")
        XCTAssertFalse(try OnnxBackbone(Self.spec(Self.onnx)).isInt8Calibrated)
        let ranges = try OnnxInt8Quantization.ranges(in: quantized.graph)
        XCTAssertEqual(ranges.count, 20)
        try Calibration.recording { try withNoGrad { _ = try native.cnn.forward(x, upTo: nil, training: false) } }
        let nativeRanges = Int8Quantization.ranges(of: native.cnn)
        XCTAssertEqual(Set(ranges.keys.map(Self.nativePath)), Set(nativeRanges.keys), "every Conv node maps to a native convolution")
        for (key, r) in ranges {
            let n = try XCTUnwrap(nativeRanges[Self.nativePath(key)])
            let scale = max(abs(n.min), abs(n.max))
            XCTAssertEqual(r.min, n.min, accuracy: 1e-4 * scale, key)
            XCTAssertEqual(r.max, n.max, accuracy: 1e-4 * scale, key)
        }

        // The same ranges on both sides: int8 features equal up to float rounding of the fp32 between convolutions.
        let convs = Self.convolutions(of: native.cnn)
        for (key, r) in ranges { try XCTUnwrap(convs[Self.nativePath(key)]).calibration.range = r }
        func features(_ backbone: any Backbone, _ cut: String, _ precision: Precision) throws -> [Float] {
            try ResNetBlock.$keepsCodesBetweenBlocks.withValue(false) {
                try FeatureExtractor(backbone: backbone, cut: cut, pool: .avg, precision: precision).features(batch)
            }
        }
        let fp32 = try features(native, "penultimate", .fp32)
        let nativeInt8 = try features(native, "penultimate", .int8)
        let onnxInt8 = try features(quantized, Self.flatten, .int8)
        let onnxFP32 = try features(quantized, Self.flatten, .fp32)
        let scale = fp32.map(abs).max() ?? 0
        let int8Error = Self.maxDiff(nativeInt8, fp32), apart = Self.maxDiff(onnxInt8, nativeInt8)
        print("onnx int8 vs native int8: max |diff| \(apart); int8 vs fp32 \(int8Error); scale \(scale)")
        XCTAssertGreaterThan(scale, 0.1)
        XCTAssertGreaterThan(int8Error, 1e-3 * scale, "int8 really ran")
        XCTAssertLessThan(int8Error, 0.1 * scale, "and stays close to fp32")
        XCTAssertLessThan(apart, 0.02 * int8Error, "the graph's int8 is the native network's")
        XCTAssertLessThanOrEqual(Self.maxDiff(onnxFP32, fp32), 1e-4, "in fp32 the quantized file is the original graph")
    }

    /// MobileNetV2's inverted-residual blocks, found in the export, run at int8 as one int8 chain each, as the native
    /// blocks do (with fp32 between blocks: `FusedInvertedResidual.keepsCodesBetweenBlocks` off on the native side).
    func testImportedMobileNetV2BlocksRunAsTheNativeInt8Chains() throws {
        try Precision.int8.requireSupport()
        let dir = FixturePaths.fixtures.appendingPathComponent("onnx")
        let imported = try OnnxModel(contentsOf: dir.appendingPathComponent("mobilenet_v2-0.25.onnx"), outputs: [Self.flatten])
        XCTAssertEqual(imported.invertedResidualBlocks, 17)
        let native = try MobileNetV2(.init(widthMultiplier: 0.25, numClasses: 10))
        XCTAssertTrue(try native.load(contentsOf: FixturePaths.fixtures.appendingPathComponent("models/torchvision/mobilenet_v2-0.25.safetensors")).isComplete)
        var g = SeededGenerator(seed: 7)
        let x = Tensor.uniform([4, 64, 64, 3], low: -2, high: 2, generator: &g)   // the export takes 64x64
        try Calibration.recording { try withNoGrad {
            _ = try imported.runChannelsLast(["x": x])
            _ = try native.forward(x, upTo: nil, training: false)
        } }
        let ranges = imported.int8Ranges, nativeRanges = Int8Quantization.ranges(of: native)
        XCTAssertEqual(ranges.count, imported.convolutionCount)
        XCTAssertEqual(Set(ranges.keys.map(Self.nativePath)), Set(nativeRanges.keys), "every Conv node maps to a native convolution")
        let convs = Self.convolutions(of: native)
        for (key, r) in ranges { try XCTUnwrap(convs[Self.nativePath(key)]).calibration.range = r }
        func run(_ precision: Precision) throws -> (native: [Float], imported: [Float]) {
            try FusedInvertedResidual.$keepsCodesBetweenBlocks.withValue(false) {
                try withPrecision(precision) { try withNoGrad {
                    (try native.forward(x, upTo: "penultimate", training: false).values,
                     try XCTUnwrap(imported.runChannelsLast(["x": x])[Self.flatten]).values)
                } }
            }
        }
        let (fp32, int8) = (try run(.fp32), try run(.int8))
        let scale = fp32.native.map(abs).max() ?? 0
        let int8Error = Self.maxDiff(int8.native, fp32.native), apart = Self.maxDiff(int8.imported, int8.native)
        print("mobilenet_v2 onnx int8 vs native int8: max |diff| \(apart); int8 vs fp32 \(int8Error); scale \(scale)")
        XCTAssertLessThanOrEqual(Self.maxDiff(fp32.imported, fp32.native), 1e-4 * scale)
        XCTAssertGreaterThan(int8Error, 1e-3 * scale, "int8 really ran")
        XCTAssertLessThan(int8Error, 0.1 * scale)
        XCTAssertLessThan(apart, 0.02 * int8Error, "the graph's int8 blocks are the native chains")
    }

    func testQuantizedFileIsTheSameGraphWithItsRangesInMetadata() throws {
        try Precision.int8.requireSupport()
        let data = Subset(try BuiltinDatasets.fashionMNIST(.train), indices: Array(0..<8))
        let out = tmp.appendingPathComponent("q.onnx")
        _ = try PostTrainingQuantization(items: 8, weights: .fp32).run(spec: Self.spec(Self.onnx), dataset: data, to: out)
        let (original, written) = (try OnnxGraph.modelProto(serializedBytes: Data(contentsOf: Self.onnx), file: "a"),
                                   try OnnxGraph.modelProto(serializedBytes: Data(contentsOf: out), file: "b"))
        XCTAssertEqual(written.graph, original.graph, "nodes and fp32 weights unchanged")
        let metadata = try OnnxGraph(contentsOf: out).metadata
        XCTAssertEqual(metadata["graft.quantization"], "int8")
        XCTAssertEqual(metadata["graft.int8.weights"], "fp32")
        XCTAssertEqual(metadata["graft.int8.calibration"], "minmax")
        // Quantizing the quantized file again calibrates afresh: the same ranges, no entry twice.
        let again = tmp.appendingPathComponent("qq.onnx")
        _ = try PostTrainingQuantization(items: 8, weights: .fp32).run(spec: Self.spec(out), dataset: data, to: again)
        let twice = try OnnxGraph.modelProto(serializedBytes: Data(contentsOf: again), file: "c")
        XCTAssertEqual(twice.metadataProps.map(\.key).sorted(), written.metadataProps.map(\.key).sorted())
        XCTAssertEqual(try OnnxGraph(contentsOf: again).metadata, metadata)
        // A non-ONNX output is a typed refusal, nothing written.
        let refused = tmp.appendingPathComponent("x.safetensors")
        XCTAssertThrowsError(try PostTrainingQuantization(items: 8, weights: .fp32).run(spec: Self.spec(Self.onnx), dataset: data, to: refused))
        XCTAssertFalse(FileManager.default.fileExists(atPath: refused.path))
    }

    /// s8 weights (the default): each Conv weight initializer becomes s8 codes and per-output-channel scales, turned
    /// back by Cast and Mul nodes. Reference: the original graph with each of those weights replaced by codes x scales
    /// computed here from the original values (`Int8Quantization.s8Codes`), run in fp32: the same outputs, bit for bit.
    func testS8WeightsAreCodesTimesScalesInsideTheGraph() throws {
        try Precision.int8.requireSupport()
        let data = Subset(try BuiltinDatasets.fashionMNIST(.train), indices: Array(0..<8))
        let (s8, fp32) = (tmp.appendingPathComponent("s8.onnx"), tmp.appendingPathComponent("fp32.onnx"))
        let summary = try PostTrainingQuantization(items: 8).run(spec: Self.spec(Self.onnx), dataset: data, to: s8)
        XCTAssertEqual(summary.weights, "s8")
        _ = try PostTrainingQuantization(items: 8, weights: .fp32).run(spec: Self.spec(Self.onnx), dataset: data, to: fp32)
        XCTAssertLessThan(Double(summary.bytes), 0.3 * Double(try Data(contentsOf: fp32).count), "a quarter of the bytes and a little")
        let graph = try OnnxGraph(contentsOf: s8)
        XCTAssertEqual(graph.metadata["graft.int8.weights"], "s8")
        XCTAssertEqual(graph.nodes.filter { $0.opType == "Cast" }.count, 20, "one per convolution weight")
        XCTAssertEqual(try OnnxInt8Quantization.ranges(in: graph).count, 20)

        var expected = try OnnxGraph.modelProto(serializedBytes: Data(contentsOf: Self.onnx), file: "expected")
        let original = try OnnxGraph(contentsOf: Self.onnx)
        let convWeights = Set(original.nodes.filter { $0.opType == "Conv" }.map { $0.inputs[1] })
        for (i, t) in expected.graph.initializer.enumerated() where convWeights.contains(t.name) {
            guard case let .float(values)? = original.initializers[t.name]?.values else { return XCTFail(t.name) }
            let o = Int(t.dims[0]), per = values.count / o
            let (codes, scales) = Int8Quantization.s8Codes(values, outChannels: o)
            let rounded = codes.indices.map { Float(codes[$0]) * scales[$0 / per] }
            XCTAssertNotEqual(rounded, values)
            expected.graph.initializer[i].floatData = []
            expected.graph.initializer[i].rawData = rounded.withUnsafeBufferPointer { Data(buffer: $0) }
        }
        let expectedFile = tmp.appendingPathComponent("expected.onnx")
        try expected.encoded().write(to: expectedFile)
        var g = SeededGenerator(seed: 3)
        let x = Tensor.uniform([2, 3, 64, 64], low: -2, high: 2, generator: &g)
        let got = try XCTUnwrap(OnnxModel(contentsOf: s8).run(["x": x])["logits"]).values
        let want = try XCTUnwrap(OnnxModel(contentsOf: expectedFile).run(["x": x])["logits"]).values
        let unrounded = try XCTUnwrap(OnnxModel(contentsOf: Self.onnx).run(["x": x])["logits"]).values
        XCTAssertEqual(got, want, "codes x scales, inside the graph")
        XCTAssertNotEqual(got, unrounded)
        // Quantized again, an s8 file keeps its codes (its weights come from nodes now) and takes the new ranges.
        let again = tmp.appendingPathComponent("again.onnx")
        _ = try PostTrainingQuantization(items: 8).run(spec: Self.spec(s8), dataset: data, to: again)
        let (a, b) = (try OnnxGraph.modelProto(serializedBytes: Data(contentsOf: s8), file: "a"),
                      try OnnxGraph.modelProto(serializedBytes: Data(contentsOf: again), file: "b"))
        XCTAssertEqual(a.graph, b.graph)
        // Training needs initializers for weights: an s8 file is refused for fine-tuning (typed), an fp32-weights one is not.
        XCTAssertThrowsError(try OnnxBackbone(Self.spec(s8)).network(outputs: 3, unfreeze: nil, seed: 0)) {
            XCTAssertTrue("\($0)".contains("stores s8 weights") && "\($0)".contains("--weights fp32"), "\($0)")
        }
        XCTAssertNoThrow(try OnnxBackbone(Self.spec(fp32)).network(outputs: 3, unfreeze: nil, seed: 0))
        // int8 from the s8 file stays close to fp32 (it multiplies the codes where int8 layers keep 127 levels).
        let int8 = try XCTUnwrap(withPrecision(.int8) { try OnnxModel(contentsOf: s8).run(["x": x])["logits"] }).values
        let scale = unrounded.map(abs).max() ?? 0
        XCTAssertLessThan(Self.maxDiff(int8, unrounded), 0.1 * scale)
    }

    func testDamagedRangesAndMissingCalibrationAreTypedErrors() throws {
        try Precision.int8.requireSupport()
        // An unquantized graph refuses int8 before any work, saying how to quantize it.
        let plain = try OnnxBackbone(Self.spec(Self.onnx))
        XCTAssertThrowsError(try plain.requirePrecision(.int8)) {
            XCTAssertTrue("\($0)".contains("graft quantize --model \(Self.onnx.path) --preprocess imagenet"), "\($0)")
        }
        XCTAssertThrowsError(try FeatureExtractor(backbone: plain, precision: .int8))
        func damaged(_ ranges: String) throws -> URL {
            var model = try OnnxGraph.modelProto(serializedBytes: Data(contentsOf: Self.onnx), file: "x")
            for (k, v) in ["graft.quantization": "int8", "graft.int8.input_ranges": ranges] {
                var e = Onnx_StringStringEntryProto(); e.key = k; e.value = v
                model.metadataProps.append(e)
            }
            let url = tmp.appendingPathComponent("damaged-\(UUID().uuidString).onnx")
            try model.encoded().write(to: url)
            return url
        }
        for (ranges, expected) in [("{\"/Flatten_output_0\": [0, 1]}", "not the output of a Conv node"),
                                   ("{\"/conv1/Conv_output_0\": [2, 1]}", "is not [min, max]"),
                                   ("[1, 2]", "not a JSON object")] {
            let url = try damaged(ranges)
            XCTAssertThrowsError(try OnnxModel(contentsOf: url)) { error in
                XCTAssertTrue("\(error)".contains(url.path) && "\(error)".contains(expected), "\(error)")
            }
        }
    }
}
