import Foundation
import GraftData
import GraftHeads
import GraftModels
import GraftNN
import GraftTensor

/// A label with its probability (or, for a linear SVM, a softmax of its margins).
public struct LabelScore: Codable, Sendable, Equatable {
    public var label: String
    public var probability: Float
    public init(label: String, probability: Float) { self.label = label; self.probability = probability }
}

/// A bundle loaded for prediction on raw images or texts, end to end.
public final class TrainedClassifier: @unchecked Sendable {
    public let manifest: BundleManifest
    public let url: URL
    private let extractor: (any FeatureExtractor)?
    private let head: LinearHead?
    private let network: ClassifierNetwork?

    public var classNames: [String] { manifest.classNames }
    public var task: BundleManifest.Task { manifest.task }
    /// Image pipeline of the underlying network (nil for text).
    public var preprocessing: Preprocessing? { extractor?.preprocessing ?? network?.preprocessing }

    public init(bundle url: URL) throws {
        self.url = url
        manifest = try BundleStore.readManifest(url)
        let classes = manifest.classNames.count
        switch manifest.strategy {
        case .featureExtraction:
            guard let source = manifest.source else { throw TransferError.bundle(path: url.path, reason: "feature bundle without a feature source") }
            let ex: any FeatureExtractor = manifest.task == .image
                ? try ImageFeatureExtractor(backbone: Self.imageBackbone(manifest), layer: source.layer, pool: source.pool)
                : try TextFeatureExtractor(embedder: Self.embedder(manifest), layer: source.layer)
            guard ex.source == source else {
                throw TransferError.storeMismatch(store: url.path, expected: ex.source.description, found: source.description)
            }
            extractor = ex
            head = try BundleStore.loadHead(url, manifest: manifest)
            network = nil
        case .fineTune, .fromScratch:
            let net: ClassifierNetwork
            if manifest.task == .image {
                let backbone: any ImageBackbone = manifest.architecture == "small-cnn"
                    ? SmallCNN(inputSize: manifest.inputSize ?? 32, classes: classes)
                    : try ImageModels.make(manifest.architecture)
                net = ImageClassifierNetwork(backbone: backbone, classes: classes)
            } else {
                net = TextClassifierNetwork(embedder: try Self.embedder(manifest), classes: classes, unfreezeLayers: 0)
            }
            try StateDictFile.read(into: net.module, from: url.appendingPathComponent("model.safetensors"))
            net.module.freeze()
            network = net
            extractor = nil; head = nil
        }
    }

    /// The pretrained trunk a feature bundle names: a zoo model, or the user's weights file.
    static func imageBackbone(_ m: BundleManifest) throws -> any ImageBackbone {
        guard let weights = m.weights else { return try ImageModels.pretrained(m.model) }
        return try ImageModels.pretrained(m.model, weights: URL(fileURLWithPath: weights), architecture: m.architecture)
    }

    /// The sentence encoder a text bundle names: a zoo model, or the user's model directory.
    static func embedder(_ m: BundleManifest) throws -> SentenceEmbedder {
        guard let weights = m.weights else { return try SentenceEmbedder.pretrained(m.model) }
        return try SentenceEmbedder(directory: URL(fileURLWithPath: weights), name: m.model)
    }

    /// Width of `embeddings` rows.
    public var embeddingDimension: Int {
        if let extractor { return extractor.source.dimension }
        if let image = network as? ImageClassifierNetwork { return image.backbone.featureSize }
        return (network as? TextClassifierNetwork)?.embedder.dimension ?? 0
    }

    /// Feature vectors [n * embeddingDimension], row-major: the bundle's feature
    /// source (feature bundles) or the trained network's pooled features before
    /// its classifier (network bundles).
    public func embeddings(_ batch: Batch) throws -> [Float] {
        if let extractor { return try extractor.features(batch) }
        return try withNoGrad {
            if let image = network as? ImageClassifierNetwork {
                let x = try Tensor(shape: [batch.count, batch.height, batch.width, 3], values: batch.pixels)
                return try image.backbone.forward(x, upTo: "penultimate", training: false).values
            }
            guard let text = network as? TextClassifierNetwork else { return [] }
            let (h, mask) = try text.embedder.states(batch.texts)
            return try poolTokens(h, mask: mask, mode: .mean, normalize: false).values
        }
    }

    /// Class probabilities [n, classes] for a batch built by `BatchLoader` or `batch(images:)`.
    public func probabilities(_ batch: Batch) throws -> [[Float]] {
        let k = classNames.count
        if let network {
            let p = try withNoGrad { try network.logits(batch, training: false).softmax().values }
            return (0..<batch.count).map { Array(p[($0 * k)..<(($0 + 1) * k)]) }
        }
        guard let extractor, let head else { return [] }
        let f = try extractor.features(batch)
        let x = try FeatureMatrix(rows: batch.count, columns: extractor.source.dimension, values: f)
        let scores = head.kind == .logisticRegression ? try head.predictProbabilities(x) : try head.decisionFunction(x)
        // Columns follow head.classes; spread into class-index order.
        return (0..<batch.count).map { r in
            var row = [Float](repeating: 0, count: k)
            var s = Array(scores.row(r))
            if head.kind == .linearSVM {
                let m = s.max() ?? 0
                let e = s.map { Foundation.exp($0 - m) }
                let z = e.reduce(0, +)
                s = e.map { $0 / z }
            }
            for (c, label) in head.classes.enumerated() where label < k { row[label] = s[c] }
            return row
        }
    }

    /// Builds a batch from decoded images with the model's own preprocessing.
    public func batch(images: [RGBImage]) -> Batch {
        let prep = preprocessing ?? Preprocessing(inputSize: 224)
        var pixels: [Float] = []
        pixels.reserveCapacity(images.count * prep.outputCount)
        for image in images { pixels += prep.apply(image) }
        return Batch(number: 0, pixels: pixels, texts: [], labels: Array(repeating: 0, count: images.count),
                     ids: images.indices.map { "#\($0)" }, indices: Array(images.indices), failures: [],
                     height: prep.inputSize, width: prep.inputSize)
    }

    public func batch(texts: [String]) -> Batch {
        Batch(number: 0, pixels: [], texts: texts, labels: Array(repeating: 0, count: texts.count),
              ids: texts.indices.map { "#\($0)" }, indices: Array(texts.indices), failures: [], height: 0, width: 0)
    }

    /// Top-k labels per example.
    public func predict(_ batch: Batch, top: Int = 5) throws -> [[LabelScore]] {
        try probabilities(batch).map { row in
            row.enumerated().sorted { $0.element > $1.element }.prefix(top).map { LabelScore(label: classNames[$0.offset], probability: $0.element) }
        }
    }
}
