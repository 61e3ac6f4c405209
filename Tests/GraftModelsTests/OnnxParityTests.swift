import Foundation
import GraftKernels
import GraftModels
import GraftNN
import GraftTensor
import GraftWeights
import XCTest

/// PyTorch exports (fixtures/onnx/make_onnx_fixtures.py) run by OnnxModel against ONNX Runtime's
/// outputs on the same files, at the graph output and at cut points (node outputs); and the imported
/// ResNet and MobileNetV2 against Graft's native models on the same weights.
final class OnnxParityTests: XCTestCase {
    static let dir = FixturePaths.fixtures.appendingPathComponent("onnx")

    struct Entry: Decodable { let input: String; let inputs: [String]?; let output: String; let cuts: [String] }
    struct PPOCR: Decodable { let detLogits: String }

    func manifest() throws -> [String: Entry] {
        let data = try Data(contentsOf: Self.dir.appendingPathComponent("manifest.json"))
        let all = try JSONSerialization.jsonObject(with: data) as? [String: Any] ?? [:]
        return try all.filter { $0.key != "ppocr" }.mapValues {
            try JSONDecoder().decode(Entry.self, from: JSONSerialization.data(withJSONObject: $0))
        }
    }

    /// max |a - b| <= 1e-4 * max |b| (relative to the reference's scale).
    func assertClose(_ got: Tensor, _ want: Tensor, _ what: String, tolerance: Float = 1e-4, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(got.shape, want.shape, what, file: file, line: line)
        guard got.shape == want.shape else { return }
        let scale = want.values.map(abs).max() ?? 0
        let diff = zip(got.values, want.values).map { abs($0 - $1) }.max() ?? .infinity
        XCTAssertGreaterThan(scale, 1e-3, "\(what): degenerate reference", file: file, line: line)
        XCTAssertLessThanOrEqual(diff, tolerance * scale, "\(what): max |diff| \(diff), scale \(scale)", file: file, line: line)
    }

    func checkAgainstOnnxRuntime(_ name: String) throws {
        let m = try XCTUnwrap(manifest()[name])
        let ort = try loadTensors(Self.dir.appendingPathComponent("\(name).ort.safetensors"))
        let x = try XCTUnwrap(ort["x"])
        // All values in one run (no fusion across a requested value) and the output alone (fully fused).
        let all = try OnnxModel(contentsOf: Self.dir.appendingPathComponent("\(name).onnx"), outputs: [m.output] + m.cuts)
        let out = try all.run([m.input: x])
        for v in [m.output] + m.cuts { assertClose(try XCTUnwrap(out[v]), try XCTUnwrap(ort["out.\(v)"]), "\(name) \(v)") }
        let fused = try OnnxModel(contentsOf: Self.dir.appendingPathComponent("\(name).onnx"))
        assertClose(try XCTUnwrap(fused.run([m.input: x])[m.output]), try XCTUnwrap(ort["out.\(m.output)"]), "\(name) fused output")
        for v in m.cuts {
            let cut = try OnnxModel(contentsOf: Self.dir.appendingPathComponent("\(name).onnx"), outputs: [v])
            assertClose(try XCTUnwrap(cut.run([m.input: x])[v]), try XCTUnwrap(ort["out.\(v)"]), "\(name) cut \(v) alone")
        }
    }

    func testResNetMatchesOnnxRuntime() throws { try checkAgainstOnnxRuntime("resnet-basic") }
    func testMobileNetV2MatchesOnnxRuntime() throws { try checkAgainstOnnxRuntime("mobilenet_v2-0.25") }
    func testTinyViTMatchesOnnxRuntime() throws { try checkAgainstOnnxRuntime("tiny-vit") }
    /// HardSwish, HardSigmoid squeeze-excitation gates (fixtures/onnx/make_onnx_mobilenet_v3_fixture.py).
    func testMobileNetV3SmallMatchesOnnxRuntime() throws { try checkAgainstOnnxRuntime("mobilenet_v3_small-0.25") }

    /// The reference package's EfficientNet-Lite0 code at width 0.25: "same" padding as Pad nodes, ReLU6 as Clip
    /// (fixtures/onnx/make_onnx_efficientnet_lite0_fixture.py).
    func testEfficientNetLite0MatchesOnnxRuntime() throws { try checkAgainstOnnxRuntime("efficientnet_lite0-0.25") }

    /// A BERT encoder in all-MiniLM-L6-v2's layout (reduced size) with mean pooling and L2 normalisation, fed int64
    /// token ids and an attention mask with padded rows (fixtures/onnx/make_onnx_minilm_fixture.py): the embedding
    /// and the cuts (embedding layer norm, first layer's output, the mean pool) equal ONNX Runtime's.
    func testMiniLMTextEncoderMatchesOnnxRuntime() throws {
        let name = "minilm-tiny"
        let m = try XCTUnwrap(manifest()[name])
        let ort = try loadTensors(Self.dir.appendingPathComponent("\(name).ort.safetensors"))
        var feeds: [String: OnnxTensorData] = [:]
        for input in try XCTUnwrap(m.inputs) {
            let t = try XCTUnwrap(ort["in.\(input)"])
            feeds[input] = OnnxTensorData(name: input, shape: t.shape, values: .int(t.values.map { Int64($0) }), dataType: 7)
        }
        for outputs in [[m.output] + m.cuts, [m.output]] {
            let model = try OnnxModel(contentsOf: Self.dir.appendingPathComponent("\(name).onnx"), outputs: outputs)
            let out = try model.run(feeds)
            for v in outputs {
                guard case let .float(values) = try XCTUnwrap(out[v]).values else { return XCTFail("\(v) is not float") }
                assertClose(try Tensor(shape: try XCTUnwrap(out[v]).shape, values: values), try XCTUnwrap(ort["out.\(v)"]), "\(name) \(v)")
            }
        }
        // Padded positions change nothing: the second sentence alone, unpadded, gives its row of the batch.
        let ids = try XCTUnwrap(ort["in.input_ids"]), length = 7, width = ids.shape[1]
        let single = (0..<length).map { Int64(ids.values[width + $0]) }
        let model = try OnnxModel(contentsOf: Self.dir.appendingPathComponent("\(name).onnx"))
        let alone = try model.run([
            "input_ids": OnnxTensorData(name: "input_ids", shape: [1, length], values: .int(single), dataType: 7),
            "attention_mask": OnnxTensorData(name: "attention_mask", shape: [1, length], values: .int(Array(repeating: 1, count: length)), dataType: 7),
            "token_type_ids": OnnxTensorData(name: "token_type_ids", shape: [1, length], values: .int(Array(repeating: 0, count: length)), dataType: 7),
        ])
        guard case let .float(row) = try XCTUnwrap(alone[m.output]).values else { return XCTFail("embedding is not float") }
        let want = try XCTUnwrap(ort["out.\(m.output)"]), dim = want.shape[1]
        let diff = zip(row, want.values[dim..<(2 * dim)]).map { abs($0 - $1) }.max() ?? 1
        XCTAssertLessThanOrEqual(diff, 1e-5, "unpadded sentence vs its padded row")
    }

    /// The imported ResNet's penultimate features equal Graft's native ResNet on the same weights.
    func testImportedResNetEqualsNativeResNet() throws {
        let m = try XCTUnwrap(manifest()["resnet-basic"])
        let x = try XCTUnwrap(loadTensors(Self.dir.appendingPathComponent("resnet-basic.ort.safetensors"))["x"])
        let flatten = try XCTUnwrap(m.cuts.last)
        let imported = try OnnxModel(contentsOf: Self.dir.appendingPathComponent("resnet-basic.onnx"), outputs: [flatten, m.output])
        let got = try imported.run([m.input: x])
        let native = try ResNet(.init(name: "resnet-basic", block: .basic, layers: [2, 2, 2, 2], widths: [8, 16, 32, 64], numClasses: 10))
        let report = try native.load(contentsOf: FixturePaths.fixtures.appendingPathComponent("models/torchvision/resnet-basic.safetensors"))
        XCTAssertTrue(report.isComplete)
        let nhwc = try x.permuted([0, 2, 3, 1])
        let features = try withNoGrad { try native.forward(nhwc, upTo: "penultimate", training: false) }
        let logits = try withNoGrad { try native.forward(nhwc, upTo: nil, training: false) }
        assertClose(try XCTUnwrap(got[flatten]), features, "penultimate vs native")
        assertClose(try XCTUnwrap(got[m.output]), logits, "logits vs native")
    }

    func testImportedMobileNetV2EqualsNative() throws {
        let m = try XCTUnwrap(manifest()["mobilenet_v2-0.25"])
        let x = try XCTUnwrap(loadTensors(Self.dir.appendingPathComponent("mobilenet_v2-0.25.ort.safetensors"))["x"])
        let imported = try OnnxModel(contentsOf: Self.dir.appendingPathComponent("mobilenet_v2-0.25.onnx"))
        let native = try MobileNetV2(.init(widthMultiplier: 0.25, numClasses: 10))
        _ = try native.load(contentsOf: FixturePaths.fixtures.appendingPathComponent("models/torchvision/mobilenet_v2-0.25.safetensors"))
        let logits = try withNoGrad { try native.forward(try x.permuted([0, 2, 3, 1]), upTo: nil, training: false) }
        assertClose(try XCTUnwrap(imported.run([m.input: x])[m.output]), logits, "logits vs native")
    }

    /// The imported blocks in bf16 (every block fused; on AMX their 1x1 GEMMs run on bf16 tiles, packed at load):
    /// within bf16 rounding of ONNX Runtime's fp32 output, and not equal to it. Needs a CPU with bf16.
    func testMobileNetV2BlocksInBF16() throws {
        guard Precision.bf16.isSupported else { throw XCTSkip("no AVX-512 bf16 on this CPU (\(Runtime.isa))") }
        let m = try XCTUnwrap(manifest()["mobilenet_v2-0.25"])
        let ort = try loadTensors(Self.dir.appendingPathComponent("mobilenet_v2-0.25.ort.safetensors"))
        let model = try OnnxModel(contentsOf: Self.dir.appendingPathComponent("mobilenet_v2-0.25.onnx"))
        let y = try XCTUnwrap(try FusedInvertedResidual.$minimumSide.withValue(1) {
            try withPrecision(.bf16) { try model.run([m.input: XCTUnwrap(ort["x"])])[m.output] }
        })
        let expected = try XCTUnwrap(ort["out.\(m.output)"]).values
        let scale = expected.map(abs).max() ?? 1, error = zip(y.values, expected).map { abs($0 - $1) }.max() ?? .infinity
        XCTAssertLessThanOrEqual(error, 0.03 * scale, "bf16 (AMX GEMMs: \(FusedInvertedResidual.bf16Kernel)) vs ONNX Runtime fp32")
        XCTAssertGreaterThan(error, 0, "bf16 really ran")
    }

    /// MobileNetV2's 17 inverted-residual blocks are found in the PyTorch export and run by the fused kernel (every
    /// block fused, whatever the size policy) and as separate convolutions (none fused): both equal ONNX Runtime.
    func testMobileNetV2BlocksFusedAndUnfusedMatchOnnxRuntime() throws {
        let m = try XCTUnwrap(manifest()["mobilenet_v2-0.25"])
        let ort = try loadTensors(Self.dir.appendingPathComponent("mobilenet_v2-0.25.ort.safetensors"))
        let x = try XCTUnwrap(ort["x"])
        let model = try OnnxModel(contentsOf: Self.dir.appendingPathComponent("mobilenet_v2-0.25.onnx"))
        XCTAssertEqual(model.invertedResidualBlocks, 17)
        for side in [1, Int.max] {
            let y = try FusedInvertedResidual.$minimumSide.withValue(side) { try model.run([m.input: x])[m.output] }
            assertClose(try XCTUnwrap(y), try XCTUnwrap(ort["out.\(m.output)"]), side == 1 ? "blocks fused" : "blocks unfused")
        }
        // A cut inside a block (block 3's expansion output) keeps that block's convolutions apart; the rest still fuse.
        let inside = "/features/features.3/conv/conv.0/conv.0.2/Clip_output_0"
        let cut = try OnnxModel(contentsOf: Self.dir.appendingPathComponent("mobilenet_v2-0.25.onnx"), outputs: [inside, m.output])
        XCTAssertEqual(cut.invertedResidualBlocks, 16)
        let y = try FusedInvertedResidual.$minimumSide.withValue(1) { try cut.run([m.input: x]) }
        assertClose(try XCTUnwrap(y[m.output]), try XCTUnwrap(ort["out.\(m.output)"]), "cut inside a block")
        XCTAssertEqual(try XCTUnwrap(y[inside]).shape, [2, 48, 16, 16])
    }

    /// The three PP-OCR models of rapidocr-onnxruntime (Paddle2ONNX exports, installed by `make setup`)
    /// against ONNX Runtime's outputs on seeded random inputs.
    func testPPOCRModelsMatchOnnxRuntime() throws {
        let models = FixturePaths.packages.appendingPathComponent("rapidocr-onnxruntime/rapidocr_onnxruntime/models")
        let ort = try loadTensors(Self.dir.appendingPathComponent("ppocr.ort.safetensors"))
        let data = try Data(contentsOf: Self.dir.appendingPathComponent("manifest.json"))
        let all = try JSONSerialization.jsonObject(with: data) as? [String: Any] ?? [:]
        let detLogits = try JSONDecoder().decode(PPOCR.self, from: JSONSerialization.data(withJSONObject: all["ppocr"] ?? [:])).detLogits
        for (key, file) in [("det", "ch_PP-OCRv4_det_infer.onnx"), ("cls", "ch_ppocr_mobile_v2.0_cls_infer.onnx"), ("rec", "ch_PP-OCRv4_rec_infer.onnx")] {
            let graph = try OnnxGraph(contentsOf: models.appendingPathComponent(file))
            let output = try XCTUnwrap(graph.outputs.first?.name)
            let model = try OnnxModel(graph: graph, outputs: key == "det" ? [output, detLogits] : [output])
            let out = try model.run([graph.inputs[0].name: try XCTUnwrap(ort["\(key).x"])])
            if key == "det" {
                // On noise the detector's sigmoid saturates near 0: its logits carry the comparison.
                assertClose(try XCTUnwrap(out[detLogits]), try XCTUnwrap(ort["det.logits"]), "PP-OCR det logits")
                let y = try XCTUnwrap(out[output]), want = try XCTUnwrap(ort["det.y"])
                XCTAssertLessThanOrEqual(zip(y.values, want.values).map { abs($0 - $1) }.max() ?? 1, 1e-6)
            } else {
                assertClose(try XCTUnwrap(out[output]), try XCTUnwrap(ort["\(key).y"]), "PP-OCR \(key)")
            }
        }
    }
}
