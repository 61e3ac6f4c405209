import Foundation
import Synchronization
import GraftData
import GraftHeads
import GraftModels
import GraftTensor
import GraftText
import GraftTransfer

/// A pretrained image network used as it is (strategy 1): ImageNet labels,
/// and features at any of its named cut points.
///
/// ```swift
/// let model = try ImageModel()                                        // EfficientNet-Lite0
/// try model.classify(contentsOf: catURL)                               // [LabelScore], ImageNet names
/// try model.features([image], at: "block10")                            // [[Float]], average-pooled
/// ```
public final class ImageModel: Sendable {
    /// The network and the extractors made for it so far; one call at a time runs them.
    private struct Loaded { let model: CNNBackbone; var extractors: [String: FeatureExtractor] = [:] }
    private let loaded: Mutex<Loaded>
    private let labels: [String]
    public let architecture: String
    /// Where features can be taken, in forward order (`penultimate`: the pooled
    /// vector before the classifier).
    public let cutPoints: [String]
    /// Resizing, cropping and normalisation the network expects.
    public let preprocessing: Preprocessing
    /// What the network's convolutions and matmuls compute in (docs/PRECISION.md).
    public let precision: Precision

    /// A zoo model, or your weights with `.custom(weights:architecture:)` (loaded strictly). `precision`
    /// bf16 needs a CPU with AVX-512 bf16, int8 a quantized model (`.custom(weights: quantizedFile, ...)`, made by
    /// `graft quantize` or `PostTrainingQuantization`); else `KernelError.unsupportedPrecision`.
    public init(_ model: BackboneSpec = .efficientNetLite0, precision: Precision = .fp32) throws {
        try precision.requireSupport()
        self.precision = precision
        guard model.input == .image, let cnn = try Backbones.load(model) as? CNNBackbone else {
            throw GraftError.wrongBackbone(task: "image model", backbone: model.description)
        }
        try cnn.requirePrecision(precision)   // int8: a quantized model (`graft quantize`)
        architecture = cnn.cnn.architecture
        cutPoints = cnn.cnn.cutPoints
        preprocessing = cnn.cnn.preprocessing
        loaded = Mutex(Loaded(model: cnn))
        // Custom weights may not be ImageNet-1k: their outputs are named by number.
        labels = (try? ModelZoo.imagenetLabels()) ?? []
    }


    /// The `top` most likely ImageNet classes, best first.
    public func classify(_ image: RGBImage, top: Int = 5) throws -> [LabelScore] {
        let p = preprocessing
        let x = try Tensor(shape: [1, p.inputSize, p.inputSize, 3], values: p.apply(image))
        let probabilities = try loaded.withLock { l in
            try withPrecision(precision) { try withNoGrad { try l.model.cnn.forward(x, upTo: nil, training: false).softmax().values } }
        }
        return probabilities.indices.sorted { probabilities[$0] > probabilities[$1] }.prefix(max(1, top)).map {
            LabelScore(label: $0 < labels.count && probabilities.count == labels.count ? labels[$0] : "class \($0)",
                       probability: probabilities[$0])
        }
    }

    /// Decodes a JPEG or PNG file and classifies it.
    public func classify(contentsOf url: URL, top: Int = 5) throws -> [LabelScore] {
        try classify(ImageDecoder().decode(contentsOf: url), top: top)
    }

    /// One feature vector per image at `cut`; spatial maps are pooled (`avg`,
    /// `max`) or kept whole (`flatten`).
    public func features(_ images: [RGBImage], at cut: String = "penultimate", pooling: FeaturePooling = .avg) throws -> [[Float]] {
        guard !images.isEmpty else { return [] }
        let p = preprocessing
        var pixels: [Float] = []
        pixels.reserveCapacity(images.count * p.outputCount)
        for image in images { pixels += p.apply(image) }
        let batch = Batch.images(pixels, side: p.inputSize, count: images.count)
        return try loaded.withLock { l in
            let key = "\(cut)/\(pooling.rawValue)"
            let extractor = try l.extractors[key] ?? FeatureExtractor(backbone: l.model, cut: cut, pool: pooling, precision: precision)
            l.extractors[key] = extractor
            let flat = try extractor.features(batch)
            let d = extractor.source.dimension
            return (0..<images.count).map { Array(flat[($0 * d)..<(($0 + 1) * d)]) }
        }
    }
}
