import Foundation

/// A pretrained image network used as it is (strategy 1): ImageNet labels,
/// and features at any of its named cut points.
///
/// ```swift
/// let model = try ImageModel()                                        // EfficientNet-Lite0
/// try model.classify(contentsOf: catURL)                               // [LabelScore], ImageNet names
/// try model.features([image], at: "block10")                            // [[Float]], average-pooled
/// ```
public final class ImageModel: @unchecked Sendable {
    private let backbone: any ImageBackbone
    private let labels: [String]
    private var extractors: [String: ImageFeatureExtractor] = [:]
    private let lock = NSLock()

    /// A zoo model, or your weights with `.custom(weights:architecture:)` (loaded strictly).
    public init(_ model: Backbone = .efficientNetLite0) throws {
        guard model.isImageModel else { throw GraftError.wrongBackbone(task: "image model", backbone: model.description) }
        backbone = try ClassifierTraining.loadImageBackbone(model)
        // Custom weights may not be ImageNet-1k: their outputs are named by number.
        labels = (try? ModelZoo.imagenetLabels()) ?? []
    }

    public var architecture: String { backbone.architecture }
    /// Where features can be taken, in forward order (`penultimate`: the pooled
    /// vector before the classifier).
    public var cutPoints: [String] { backbone.cutPoints }
    /// Resizing, cropping and normalisation the network expects.
    public var preprocessing: Preprocessing { backbone.preprocessing }

    /// The `top` most likely ImageNet classes, best first.
    public func classify(_ image: RGBImage, top: Int = 5) throws -> [LabelScore] {
        let p = preprocessing
        let x = try Tensor(shape: [1, p.inputSize, p.inputSize, 3], values: p.apply(image))
        let probabilities = try locked { try withNoGrad { try backbone.forward(x, upTo: nil, training: false).softmax().values } }
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
        let batch = Batch(number: 0, pixels: pixels, texts: [], labels: Array(repeating: 0, count: images.count),
                          ids: images.indices.map { "#\($0)" }, indices: Array(images.indices), failures: [],
                          height: p.inputSize, width: p.inputSize)
        return try locked {
            let key = "\(cut)/\(pooling.rawValue)"
            let extractor = try extractors[key] ?? ImageFeatureExtractor(backbone: backbone, layer: cut, pool: pooling)
            extractors[key] = extractor
            let flat = try extractor.features(batch)
            let d = extractor.source.dimension
            return (0..<images.count).map { Array(flat[($0 * d)..<(($0 + 1) * d)]) }
        }
    }

    private func locked<T>(_ body: () throws -> T) rethrows -> T {
        lock.lock(); defer { lock.unlock() }
        return try body()
    }
}
