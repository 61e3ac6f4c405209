import Foundation
import GraftData
import GraftHeads
import GraftModels
import GraftNN
import GraftTensor
import GraftWeights

/// A label with its probability (or, for a linear SVM, a softmax of its margins).
public struct LabelScore: Codable, Sendable, Equatable {
    public var label: String
    public var probability: Float
    public init(label: String, probability: Float) { self.label = label; self.probability = probability }
}

/// A bundle loaded for prediction on raw inputs, end to end: its backbone and
/// either a linear head on the backbone's features or a trained network.
/// Calls are serialised by the caller (`ClassifierCore`, the server's worker).
public final class TrainedModel {
    /// How the bundle turns a batch into outputs.
    enum Scorer {
        /// Feature extraction: frozen features at the recorded cut, then the head (linear, prototype, k-NN).
        case head(FeatureExtractor, any ClassifierHead)
        /// Fine-tuned or from-scratch network.
        case network(TaskNetwork)
        /// Regression: frozen features, then the ridge head.
        case regression(FeatureExtractor, RegressionHead)
        /// Multi-label: frozen features, then a sigmoid and a threshold per label.
        case multiLabel(FeatureExtractor, MultiLabelHead)
    }

    public let manifest: BundleManifest
    public let url: URL
    public private(set) var task: any TransferTask
    let scorer: Scorer

    public var classNames: [String] { manifest.classNames }
    /// What the bundle reads (images or texts).
    public var input: DataKind { manifest.input }
    public var backbone: any Backbone {
        switch scorer {
        case let .head(extractor, _), let .regression(extractor, _), let .multiLabel(extractor, _): extractor.backbone
        case let .network(network): network.backbone
        }
    }
    /// How raw images are prepared (nil for texts).
    public var preprocessing: Preprocessing? { backbone.preprocessing }

    /// What the backbone computes in: the precision asked for, else the one the head was fitted with.
    public let precision: Precision

    /// `precision`: nil runs the backbone in the precision the bundle's head was fitted with
    /// (`manifest.precision`, fp32 for every bundle written before precisions existed); a precision this
    /// CPU cannot compute in throws `KernelError.unsupportedPrecision`.
    public init(bundle url: URL, precision: Precision? = nil) throws {
        self.url = url
        manifest = try BundleStore.readManifest(url)
        let precision = precision ?? manifest.precision
        try precision.requireSupport()
        self.precision = precision
        task = manifest.task.task(manifest: manifest)
        let outputs = task.outputCount(classNames: manifest.classNames)
        switch manifest.strategy {
        case .featureExtraction:
            guard let source = manifest.source else { throw TransferError.bundle(path: url.path, reason: "feature bundle without a feature source") }
            let extractor = try FeatureExtractor(backbone: Backbones.load(manifest.backbone), cut: source.layer, pool: source.pool,
                                                 precision: precision)
            var fitted = source
            fitted.precision = precision   // a head fitted on fp32 features may score bf16 ones (docs/PRECISION.md)
            guard extractor.source == fitted else {
                throw TransferError.storeMismatch(store: url.path, expected: extractor.source.description, found: source.description)
            }
            switch manifest.task {
            case .classification: scorer = .head(extractor, try BundleStore.loadHead(url, manifest: manifest))
            case .regression: scorer = .regression(extractor, try BundleStore.loadRegressionHead(url, manifest: manifest))
            case .multiLabel: scorer = .multiLabel(extractor, try BundleStore.loadMultiLabelHead(url, manifest: manifest))
            case .detection: throw TransferError.bundle(path: url.path, reason: "a detection bundle holds a fine-tuned network, not a feature head")
            }
        case .fineTune, .fromScratch, .contrastive:
            // The state dict replaces every weight: image networks skip reading pretrained ones.
            let backbone = try Backbones.load(manifest.backbone, outputs: outputs, weights: manifest.input == .text)
            let network = try backbone.network(outputs: outputs, unfreeze: 0, seed: 0)
            if let text = network as? TextTaskNetwork {
                guard let kind = TextTaskNetwork.HeadInput(rawValue: manifest.headInput ?? TextTaskNetwork.HeadInput.meanStates.rawValue) else {
                    throw TransferError.bundle(path: url.path, reason: "unknown headInput '\(manifest.headInput ?? "")' (known: pooled, meanStates)")
                }
                text.headInputKind = kind
            }
            let weights = try WeightFile.open(url.appendingPathComponent("model.safetensors"))
            try StateDictFile.read(into: network.module, from: weights)
            // A bundle `graft quantize --bundle` wrote carries its convolutions' calibrated ranges.
            try Int8Quantization.applyRanges(from: weights, to: network.module)
            if precision == .int8 && !backbone.quantizesDynamically && !Int8Quantization.isCalibrated(network.module) {
                throw KernelError.unsupportedPrecision(precision: .int8, reason: "the network of \(url.path) has no int8 calibration: make a "
                    + "quantized copy with `graft quantize --bundle \(url.path) --data DATA --out BUNDLE` and run that")
            }
            network.module.freeze()
            task = try task.attached(to: network)
            scorer = .network(network)
        }
    }

    /// Width of `embeddings` rows.
    public var embeddingDimension: Int {
        switch scorer {
        case let .head(extractor, _), let .regression(extractor, _), let .multiLabel(extractor, _): extractor.source.dimension
        case let .network(network): network.linearHead?.inFeatures ?? network.backbone.headDimension   // an ONNX graph's head reads its classifier's input
        }
    }

    /// Feature vectors [n * embeddingDimension], row-major: the bundle's feature source (feature
    /// bundles) or what the trained network's head reads (network bundles).
    public func embeddings(_ batch: Batch) throws -> [Float] {
        switch scorer {
        case let .head(extractor, _), let .regression(extractor, _), let .multiLabel(extractor, _): return try extractor.features(batch)
        case let .network(network):
            return try withPrecision(precision) { try withNoGrad { try network.headInput(batch, training: false).values } }
        }
    }

    /// Predicted targets [n][targets] of a regression bundle (`classNames` are the target names).
    public func values(_ batch: Batch) throws -> [[Float]] {
        switch scorer {
        case let .regression(extractor, head):
            let x = try FeatureMatrix(rows: batch.count, columns: extractor.source.dimension, values: extractor.features(batch))
            let y = try head.predict(x)
            return (0..<batch.count).map { Array(y.row($0)) }
        case let .network(network) where manifest.task == .regression:
            let k = classNames.count
            let y = try withNoGrad { try task.scores(network.outputs(batch, training: false)).values }
            return (0..<batch.count).map { Array(y[($0 * k)..<(($0 + 1) * k)]) }
        default:
            throw TransferError.unsupported("\(url.path) is a \(manifest.task.rawValue) bundle: it predicts labels, not values")
        }
    }

    /// A multi-label bundle's threshold per label (0.5 where none was chosen); nil for other tasks.
    public var thresholds: [Float]? {
        switch scorer {
        case let .multiLabel(_, head): head.thresholds
        case .network where manifest.task == .multiLabel:
            (task as? MultiLabelTask)?.thresholds ?? [Float](repeating: 0.5, count: classNames.count)
        default: nil
        }
    }

    /// A network bundle's task scores per item, whatever their width (a detector's raw head maps, which
    /// its task decodes into boxes).
    public func outputRows(_ batch: Batch) throws -> [[Float]] {
        guard case let .network(network) = scorer else { return try probabilities(batch) }
        let p = try withPrecision(precision) { try withNoGrad { try task.scores(network.outputs(batch, training: false)).values } }
        let width = batch.count > 0 ? p.count / batch.count : 0
        return (0..<batch.count).map { Array(p[($0 * width)..<(($0 + 1) * width)]) }
    }

    /// Scores [n][outputs] (class probabilities) for a batch built by a `BatchLoader` or `batch(images:)`.
    public func probabilities(_ batch: Batch) throws -> [[Float]] { try scored(batch).rows }

    /// Scores per class index, and for a feature head also its own prediction (class indices).
    private func scored(_ batch: Batch) throws -> (rows: [[Float]], predicted: [Int]?) {
        let k = classNames.count
        switch scorer {
        case .regression,
             .network where manifest.task == .regression:
            throw TransferError.unsupported("\(url.path) is a regression bundle: it predicts values (`values(_:)`), not class probabilities")
        case .network where manifest.task == .detection:
            throw TransferError.unsupported("\(url.path) is a detection bundle: it predicts boxes (graft detect --bundle, `detector()`), not class probabilities")
        case let .multiLabel(extractor, head):
            let x = try FeatureMatrix(rows: batch.count, columns: extractor.source.dimension, values: extractor.features(batch))
            let p = try head.probabilities(x)
            return ((0..<batch.count).map { Array(p.row($0)) }, nil)
        case let .network(network):
            let p = try withPrecision(precision) { try withNoGrad { try task.scores(network.outputs(batch, training: false)).values } }
            return ((0..<batch.count).map { Array(p[($0 * k)..<(($0 + 1) * k)]) }, nil)
        case let .head(extractor, head):
            let x = try FeatureMatrix(rows: batch.count, columns: extractor.source.dimension, values: extractor.features(batch))
            let scores = try head.classScores(x)
            // Columns follow head.classes; spread into class-index order.
            let rows = (0..<batch.count).map { r in
                var row = [Float](repeating: 0, count: k)
                for (c, label) in head.classes.enumerated() where label < k { row[label] = scores.row(r)[scores.row(r).startIndex + c] }
                return row
            }
            return (rows, try head.predict(x))
        }
    }

    /// Builds an unlabelled batch from decoded images with the backbone's own preprocessing.
    public func batch(images: [RGBImage]) -> Batch {
        let prep = preprocessing ?? Preprocessing(inputSize: 224)
        var pixels: [Float] = []
        pixels.reserveCapacity(images.count * prep.outputCount)
        for image in images { pixels += prep.apply(image) }
        return .images(pixels, side: prep.inputSize, count: images.count)
    }

    public func batch(texts: [String]) -> Batch { .texts(texts) }

    /// Top-k labels per example, the model's prediction first. A multi-label bundle gives every label at or above its threshold
    /// instead (`top` does not cut it), most probable first: the item's predicted label set.
    public func predict(_ batch: Batch, top: Int = 5) throws -> [[LabelScore]] {
        if let thresholds {
            return try probabilities(batch).map { row in
                row.enumerated().filter { $0.element >= thresholds[$0.offset] }
                    .sorted { $0.element != $1.element ? $0.element > $1.element : $0.offset < $1.offset }
                    .map { LabelScore(label: classNames[$0.offset], probability: $0.element) }
            }
        }
        // A feature head's own prediction comes first (k-NN breaks tied votes by distance, which its
        // vote shares cannot show); the rest follow by score, then class order.
        let (rows, chosen) = try scored(batch)
        return rows.enumerated().map { r, row in
            let first = chosen?[r]
            return row.enumerated().sorted { a, b in
                if (a.offset == first) != (b.offset == first) { return a.offset == first }
                return a.element != b.element ? a.element > b.element : a.offset < b.offset
            }.prefix(top).map { LabelScore(label: classNames[$0.offset], probability: $0.element) }
        }
    }
}

/// The name of 0.1, kept so code written against it compiles.
public typealias TrainedClassifier = TrainedModel
