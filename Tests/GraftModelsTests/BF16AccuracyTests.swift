import Foundation
import GraftData
import GraftKernels
import GraftModels
import GraftTensor
import XCTest

/// bf16 inference against fp32 on whole networks (docs/PRECISION.md, issue 19): the same top-1 class on
/// scikit-image's photos, probabilities within a bound, MiniLM sentence embeddings at cosine >= 0.999.
/// EfficientNet-Lite0 and MiniLM run their pretrained weights (installed by set-up); ResNet-50 and
/// MobileNetV2 have no pretrained weights on a machine without network access, so they run seeded
/// random weights at full size, which checks every layer's bf16 path but not ImageNet accuracy.
/// On a CPU without AVX-512 bf16, `withPrecision(.bf16)` must throw the typed error instead.
final class BF16AccuracyTests: XCTestCase {
    static var photos: URL { FixturePaths.packages.appendingPathComponent("scikit-image/skimage/data") }
    /// The colour photos of scikit-image's data folder.
    static let photoNames = ["astronaut.png", "chelsea.png", "coffee.png", "rocket.jpg", "motorcycle_left.png",
                             "hubble_deep_field.jpg", "retina.jpg", "ihc.png", "color.png", "logo.png"]

    func requireBF16() throws {
        if Precision.bf16.isSupported { return }
        XCTAssertThrowsError(try withPrecision(.bf16) { 0 }) { error in
            guard case .unsupportedPrecision(.bf16, _)? = error as? KernelError else { return XCTFail("\(error)") }
        }
        throw XCTSkip("no AVX-512 bf16 on this CPU (\(Runtime.isa)): bf16 is refused with KernelError.unsupportedPrecision")
    }

    /// ResNet blocks as bf16 chains (intermediate tensors bf16, `Kernels.conv2dBF16Chain`) compute what the blocks
    /// compute op by op in bf16 (each convolution rounding its fp32 input to bf16, the same rounding the chain's links
    /// apply to their outputs): bottleneck and basic blocks, identity and projection shortcuts, strided blocks.
    func testResNetBlocksAsBF16ChainsEqualOpByOp() throws {
        try requireBF16()
        for name in ["resnet50", "resnet18"] {
            let model = try ImageModels.make(name, seed: 3)
            var g = SeededGenerator(seed: 4)
            let x = Tensor.uniform([2, 64, 64, 3], low: -2, high: 2, generator: &g)
            func run(chains: Bool) throws -> [Float] {
                try ResNetBlock.$chainsAtBF16.withValue(chains) {
                    try withPrecision(.bf16) { try withNoGrad { try model.forward(x, upTo: "penultimate", training: false).values } }
                }
            }
            let (chained, opByOp) = (try run(chains: true), try run(chains: false))
            let fp32 = try withNoGrad { try model.forward(x, upTo: "penultimate", training: false).values }
            let scale = fp32.map(abs).max() ?? 1
            let diff = zip(chained, opByOp).map { abs($0 - $1) }.max() ?? .infinity
            let bf16Error = zip(opByOp, fp32).map { abs($0 - $1) }.max() ?? 0
            print("\(name) bf16 chains vs op by op: max diff \(diff / scale) of the scale (bf16's own error \(bf16Error / scale))")
            XCTAssertEqual(chained, opByOp, "\(name): the same bf16 arithmetic")
            XCTAssertGreaterThan(bf16Error, 0, "\(name): bf16 ran")
        }
    }

    /// The photos preprocessed for `model`, as one batch.
    func photoBatch(_ prep: Preprocessing) throws -> Tensor {
        let images = try Self.photoNames.map { try ImageDecoder().decode(contentsOf: Self.photos.appendingPathComponent($0)) }
        return try Tensor(shape: [images.count, prep.inputSize, prep.inputSize, 3], values: images.flatMap { prep.apply($0) })
    }

    struct Agreement { var sameTop1: Int; var maxProbabilityChange: Float; var maxLogitError: Float }

    /// Softmax outputs in fp32 and bf16 of the same batch, compared row by row.
    func compare(_ model: any ImageBackbone, _ x: Tensor) throws -> Agreement {
        let fp32 = try withNoGrad { try model.forward(x, upTo: nil, training: false) }
        let bf16 = try withPrecision(.bf16) { try withNoGrad { try model.forward(x, upTo: nil, training: false) } }
        let (p32, p16) = (try fp32.softmax().values, try bf16.softmax().values)
        let classes = fp32.shape[1], scale = fp32.values.map(abs).max() ?? 1
        var result = Agreement(sameTop1: 0, maxProbabilityChange: 0, maxLogitError: 0)
        for r in 0..<fp32.shape[0] {
            let row = (r * classes)..<((r + 1) * classes)
            let top32 = row.max { p32[$0] < p32[$1] }!, top16 = row.max { p16[$0] < p16[$1] }!
            if top32 == top16 { result.sameTop1 += 1 }
            for i in row {
                result.maxProbabilityChange = max(result.maxProbabilityChange, abs(p32[i] - p16[i]))
                result.maxLogitError = max(result.maxLogitError, abs(fp32.values[i] - bf16.values[i]) / scale)
            }
        }
        print("bf16 vs fp32 \(model.architecture): top-1 \(result.sameTop1)/\(fp32.shape[0]), max probability change "
              + "\(result.maxProbabilityChange), max logit error \(result.maxLogitError) of the largest logit")
        return result
    }

    func testEfficientNetLite0PretrainedOnPhotos() throws {
        try requireBF16()
        let model = try ImageModels.pretrained("efficientnet-lite0")
        let a = try compare(model, photoBatch(model.preprocessing))
        XCTAssertEqual(a.sameTop1, Self.photoNames.count, "every photo keeps its top-1 class")
        XCTAssertLessThan(a.maxProbabilityChange, 0.03)
        XCTAssertLessThan(a.maxLogitError, 0.03)
    }

    /// Random weights make near-uniform logits (the classifier's bias dominates), so these compare the
    /// penultimate features, which every convolution of the network feeds.
    func testResNet50AndMobileNetV2FullSizeRandomWeights() throws {
        try requireBF16()
        for architecture in ["resnet50", "mobilenet_v2"] {
            let model = try ImageModels.make(architecture, seed: 19)
            let x = try photoBatch(model.preprocessing)
            let fp32 = try withNoGrad { try model.forward(x, upTo: "penultimate", training: false) }.values
            let bf16 = try withPrecision(.bf16) { try withNoGrad { try model.forward(x, upTo: "penultimate", training: false) } }.values
            let scale = fp32.map(abs).max() ?? 0
            let error = zip(fp32, bf16).map { abs($0 - $1) }.max() ?? .infinity
            print("bf16 vs fp32 \(architecture) (random weights): penultimate features max error \(error / scale) of their scale \(scale)")
            XCTAssertGreaterThan(scale, 0, architecture)
            XCTAssertGreaterThan(error, 0, "bf16 really ran: \(architecture)")
            XCTAssertLessThan(error / scale, 0.03, architecture)
        }
    }

    func testMiniLMEmbeddingsCosineToFP32() throws {
        try requireBF16()
        let embedder = try SentenceEmbedder.pretrained("all-minilm-l6-v2")
        let sentences = Self.sentences
        let fp32 = try embedder.embed(sentences, batchSize: 4, normalize: false)
        let bf16 = try withPrecision(.bf16) { try embedder.embed(sentences, batchSize: 4, normalize: false) }
        let d = embedder.dimension
        var worst: Float = 1
        for r in 0..<sentences.count {
            let a = fp32.values[(r * d)..<((r + 1) * d)], b = bf16.values[(r * d)..<((r + 1) * d)]
            let dot = zip(a, b).reduce(0) { $0 + $1.0 * $1.1 }
            let cosine = dot / (a.reduce(0) { $0 + $1 * $1 }.squareRoot() * b.reduce(0) { $0 + $1 * $1 }.squareRoot())
            worst = min(worst, cosine)
        }
        print("bf16 vs fp32 MiniLM: lowest embedding cosine \(worst) over \(sentences.count) sentences")
        XCTAssertGreaterThanOrEqual(worst, 0.999)
        XCTAssertLessThan(worst, 1, "bf16 really changed the computation")
    }

    /// Sentences of many lengths and topics (also Int8AccuracyTests').
    static let sentences = [
        "A cat sat on the mat.", "The stock market fell sharply on Tuesday after the announcement.",
        "I loved this film: the acting, the music and the story all worked.", "Terrible service, never again.",
        "Quantum computers use qubits, which can be in superpositions of states.", "short",
        "The recipe calls for two cups of flour, one egg, and a pinch of salt, mixed until smooth and left to rest overnight.",
        "Graft extracts features from pretrained networks and fits a linear head on them.",
    ]

    /// A recorded op (training) computes in fp32 whatever precision is set: gradients are unchanged.
    func testTapeRecordingOpsStayFP32() throws {
        try requireBF16()
        var random = SeededGenerator(seed: 5)
        let x = try Tensor(shape: [1, 6, 6, 8], values: (0..<288).map { _ in Float.random(in: -1...1, using: &random) })
        let w = try Tensor(shape: [8, 8, 3, 3], values: (0..<576).map { _ in Float.random(in: -1...1, using: &random) })
        w.requiresGrad = true
        let plain = try x.conv2d(weight: w, bias: nil, options: Conv2DOptions(padding: 1)).values
        let inBF16 = try withPrecision(.bf16) { try x.conv2d(weight: w, bias: nil, options: Conv2DOptions(padding: 1)).values }
        XCTAssertEqual(plain, inBF16)
        let noGrad = try withPrecision(.bf16) { try withNoGrad { try x.conv2d(weight: w, bias: nil, options: Conv2DOptions(padding: 1)).values } }
        XCTAssertNotEqual(plain, noGrad, "without a tape the same op computes in bf16")
    }
}
