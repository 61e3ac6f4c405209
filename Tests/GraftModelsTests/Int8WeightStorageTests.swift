import Foundation
import GraftKernels
@testable import GraftModels
import GraftNN
import GraftTensor
import GraftWeights
import XCTest

/// A quantized file's weights stored as s8 codes with a scale per output channel (`Int8WeightStorage`,
/// docs/PRECISION.md "The quantized file"): what is stored, what loads back, the codes an int8 layer derives at run
/// time, and typed errors for damaged files.
final class Int8WeightStorageTests: XCTestCase {
    var dir: URL!
    override func setUpWithError() throws {
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("graft-s8-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    }
    override func tearDown() { try? FileManager.default.removeItem(at: dir) }

    /// Codes and scales by hand: max |w| / 127 per output channel, round half to even, a channel of zeros scale 1.
    func testCodesByHand() {
        let (codes, scales) = Int8Quantization.s8Codes([1.27, -0.635, 0.005, 0.015, 0, 0, 0, 0, -2.54, 2.54, 0.01, 0.03], outChannels: 3)
        XCTAssertEqual(scales, [Float(1.27) / 127, 1, Float(2.54) / 127])
        XCTAssertEqual(codes, [127, -64, 0, 2, 0, 0, 0, 0, -127, 127, 0, 2])   // -63.5 -> -64, 0.5 -> 0, 1.5 -> 2 (half to even)
    }

    /// Batch norm folds into a convolution by one factor per output channel (negative ones too): the codes a
    /// 127-level int8 layer derives from the folded, dequantized weights are the stored codes times the factor's
    /// sign, and those it derives from the folded original weights too: the s8 file multiplies the same codes.
    func testFoldedWeightsRequantizeToTheStoredCodes() {
        var g = SeededGenerator(seed: 3)
        let outChannels = 16, perOut = 3 * 3 * 24
        let w = Tensor.uniform([outChannels, perOut], low: -0.3, high: 0.3, generator: &g).values
        let factors = Tensor.uniform([outChannels], low: -3, high: 3, generator: &g).values.map { abs($0) < 0.01 ? 0.5 : $0 }
        let (codes, scales) = Int8Quantization.s8Codes(w, outChannels: outChannels)
        func runTimeCodes(_ weights: [Float]) -> [Int8] {
            let folded = weights.indices.map { weights[$0] * factors[$0 / perOut] }
            let s = folded.withUnsafeBufferPointer {
                ConvInt8Parameters.perChannelScales(of: $0.baseAddress!, outChannels: outChannels, count: folded.count, levels: 127)
            }
            return folded.indices.map { Int8((folded[$0] * (1 / s[$0 / perOut])).rounded(.toNearestOrEven)) }
        }
        let expected = codes.indices.map { factors[$0 / perOut] < 0 ? -codes[$0] : codes[$0] }
        XCTAssertEqual(runTimeCodes(codes.indices.map { Float(codes[$0]) * scales[$0 / perOut] }), expected, "from the s8 file")
        XCTAssertEqual(runTimeCodes(w), expected, "from the fp32 weights")
    }

    /// A calibrated MobileNetV2 written with s8 weights: every convolution and the classifier stored as codes plus
    /// scales (under 30% of the fp32 file's bytes), loaded back as codes times scales (each weight within half a step
    /// of the original), strictly loadable, the same ranges; its int8 and fp32 runs equal the original network's with
    /// those weights, and stay close to the original's.
    func testS8FileLoadsAsCodesTimesScales() throws {
        try Precision.int8.requireSupport()
        let model = try ImageModels.make("mobilenet_v2", seed: 4)
        var g = SeededGenerator(seed: 5)
        let x = Tensor.uniform([2, 96, 96, 3], low: -2, high: 2, generator: &g)
        try Calibration.recording { try withNoGrad { _ = try model.forward(x, upTo: nil, training: false) } }
        let s8 = dir.appendingPathComponent("m.s8.safetensors"), fp32 = dir.appendingPathComponent("m.fp32.safetensors")
        try Int8Quantization.write(model, architecture: "mobilenet_v2", weights: .s8, to: s8)
        try Int8Quantization.write(model, architecture: "mobilenet_v2", weights: .fp32, to: fp32)
        let file = try WeightFile.open(s8)
        XCTAssertEqual(file.metadata[Int8Quantization.weightsKey], "s8")
        XCTAssertEqual(try WeightFile.open(fp32).metadata[Int8Quantization.weightsKey], "fp32")
        let state = model.stateDict()
        let coded = file.tensors.filter { $0.dtype == .i8 }.map(\.name)
        XCTAssertEqual(coded.count, Int8Quantization.convolutionCount(of: model) + 1, "every convolution and the classifier")
        XCTAssertTrue(coded.contains("classifier.1.weight"), "\(coded)")
        XCTAssertEqual(file.tensors.count, state.count + coded.count, "one scale tensor per coded weight")
        let sizes = try [s8, fp32].map { try XCTUnwrap(FileManager.default.attributesOfItem(atPath: $0.path)[.size] as? NSNumber).doubleValue }
        print("mobilenet_v2 quantized file: s8 weights \(Int(sizes[0])) bytes, fp32 weights \(Int(sizes[1])) (\(sizes[0] / sizes[1]))")
        XCTAssertLessThan(sizes[0], 0.3 * sizes[1])

        let loaded = try ImageModels.pretrained("mobilenet_v2", weights: s8, architecture: "mobilenet_v2")
        XCTAssertEqual(Int8Quantization.ranges(of: loaded).count, Int8Quantization.ranges(of: model).count)
        let loadedState = Dictionary(uniqueKeysWithValues: loaded.stateDict())
        var reference: [String: Tensor] = [:]
        for (key, t) in state {
            let after = try XCTUnwrap(loadedState[key]).values
            guard coded.contains(key) else { XCTAssertEqual(after, t.values, key); reference[key] = t; continue }
            let before = t.values   // `values` copies: once
            let (codes, scales) = Int8Quantization.s8Codes(before, outChannels: t.shape[0])
            let perOut = t.count / t.shape[0]
            let expected = codes.indices.map { Float(codes[$0]) * scales[$0 / perOut] }
            XCTAssertEqual(after, expected, key)
            let steps = before.indices.map { abs(after[$0] - before[$0]) / scales[$0 / perOut] }.max() ?? 0
            XCTAssertLessThanOrEqual(steps, 0.5001, "\(key): within half a step of the original")
            reference[key] = try Tensor(shape: t.shape, values: expected)
        }
        // Quantizing the loaded file again (a new calibration of a quantized file) writes the same codes.
        let again = dir.appendingPathComponent("m.again.safetensors")
        try Int8Quantization.write(loaded, architecture: "mobilenet_v2", weights: .s8, to: again)
        let rewritten = try WeightFile.open(again)
        for name in coded { XCTAssertEqual(rewritten[name]?.bytes.data, file[name]?.bytes.data, "\(name): the same codes") }
        // The original network with the codes-times-scales weights computes what the loaded file computes, in both precisions.
        let rounded = try ImageModels.make("mobilenet_v2", seed: 4)
        try rounded.load(reference, strict: true, source: "codes times scales")
        let ranges = Int8Quantization.ranges(of: model)
        for case let (path, conv as Conv2d) in rounded.namedModules() { conv.calibration.range = ranges[path] }
        func run(_ m: any ImageBackbone, _ p: Precision, upTo cut: String? = "penultimate") throws -> [Float] {
            try withPrecision(p) { try withNoGrad { try m.forward(x, upTo: cut, training: false).values } }
        }
        XCTAssertEqual(try run(loaded, .int8), try run(rounded, .int8))
        XCTAssertEqual(try run(loaded, .fp32, upTo: nil), try run(rounded, .fp32, upTo: nil), "the classifier's rounded weights too")
        let original = try run(model, .fp32)
        func cosine(_ a: [Float], _ b: [Float]) -> Float {
            var dot: Float = 0, na: Float = 0, nb: Float = 0
            for (u, v) in zip(a, b) { dot += u * v; na += u * u; nb += v * v }
            return dot / (na.squareRoot() * nb.squareRoot())
        }
        let withWeights = [Precision.fp32, .int8].map { p in (p, cosine(original, try! run(loaded, p)), cosine(original, try! run(model, p))) }
        print("mobilenet_v2 penultimate features against the original's fp32, cosine (s8 file / original): \(withWeights)")
        for (p, fromFile, fromOriginal) in withWeights {
            XCTAssertGreaterThan(fromFile, p == .fp32 ? 0.9999 : 0.999, "\(p)")
            XCTAssertLessThan(1 - fromFile, max(2 * (1 - fromOriginal), 1e-4), "\(p): the rounded weights add little to int8's own error")
        }
        // Where every int8 layer keeps 127 levels (VNNI, AMX) the s8 file multiplies the codes the original derives: its
        // int8 run is the original's, bit for bit through the first blocks. Its scales differ from the original's by
        // float rounding, which flips an activation code at a rounding tie now and then; this random network's deep
        // activations are a few codes each, so the flips show late (AMD Zen 4, session 24: identical through
        // features.12, then 226 of 6,912 values differ; cosine 0.999984 at the features, int8's own 0.99964).
        // Without int8 dot products (AVX2) layers reading u8 inputs round the codes again to 63 levels (docs/PRECISION.md).
        if ConvInt8Parameters.hasInt8DotProduct {
            XCTAssertEqual(try run(loaded, .int8, upTo: "features.6"), try run(model, .int8, upTo: "features.6"), "the same codes as the original's int8")
            XCTAssertGreaterThan(cosine(try run(loaded, .int8), try run(model, .int8)), 0.9999, "the same codes, ties aside")
        }
    }

    /// Damaged s8 files: a code tensor without scales, scales of the wrong count or not positive: typed errors naming
    /// the file and the tensor.
    func testDamagedS8FilesAreTypedErrors() throws {
        let model = try ImageModels.make("resnet18", seed: 1)
        var g = SeededGenerator(seed: 2)
        try Calibration.recording { try withNoGrad { _ = try model.forward(Tensor.uniform([1, 32, 32, 3], low: -1, high: 1, generator: &g), upTo: nil, training: false) } }
        let good = dir.appendingPathComponent("good.safetensors")
        try Int8Quantization.write(model, architecture: "resnet18", to: good)
        let file = try WeightFile.open(good)
        let name = "conv1.weight", scaleName = name + Int8Quantization.scaleSuffix
        XCTAssertEqual(file[name]?.dtype, .i8)
        let outChannels = try XCTUnwrap(file[name]?.shape.first)
        let cases: [(String, [StoredTensor], String)] = [
            ("no scales", file.tensors.filter { $0.name != scaleName }, "has no '\(scaleName)'"),
            ("short", try file.tensors.map { $0.name == scaleName ? try StoredTensor(name: scaleName, shape: [3], floats: [1, 1, 1]) : $0 }, "holds 3"),
            ("zero", try file.tensors.map {
                $0.name == scaleName ? try StoredTensor(name: scaleName, shape: [outChannels], floats: [Float](repeating: 0, count: outChannels)) : $0
            }, "positive finite"),
        ]
        for (what, tensors, expected) in cases {
            let url = dir.appendingPathComponent("\(what.replacingOccurrences(of: " ", with: "-")).safetensors")
            try WeightFile(tensors: tensors).writeSafetensors(to: url, metadata: file.metadata)
            XCTAssertThrowsError(try ImageModels.pretrained("resnet18", weights: url, architecture: "resnet18"), what) { error in
                guard case let .invalidConfig(message)? = error as? ModelError else { return XCTFail("\(what): \(error)") }
                XCTAssertTrue(message.contains(url.path) && message.contains(scaleName) && message.contains(expected), message)
            }
        }
    }
}
