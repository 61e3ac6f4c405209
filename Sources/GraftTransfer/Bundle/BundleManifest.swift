import GraftData
import GraftHeads
import GraftTensor

/// The JSON half of a bundle (`bundle.json`); tensors live beside it in safetensors.
public struct BundleManifest: Codable, Sendable, Equatable {
    public var format = "graft-bundle/2"
    /// What the model is trained to predict.
    public var task: TaskKind
    public var strategy: Strategy
    /// The backbone it was built on; its `input` is the kind of input the bundle reads.
    public var backbone: BackboneSpec
    public var classNames: [String]
    /// Feature bundles: where the features come from (cut point, pooling, width).
    public var source: FeatureSource?
    /// Feature bundles: the head without its weights (those are in head.safetensors).
    public var headKind: HeadKind?
    public var headC: Double?
    public var headClasses: [Int]?
    /// k-NN heads: the neighbours that vote.
    public var headNeighbors: Int?
    /// Ridge (regression) heads: the penalty.
    public var headAlpha: Double?
    /// One-vs-rest (multi-label) heads: each label's threshold, in `classNames` order.
    public var headThresholds: [Float]?
    /// Network bundles: the input side (images) the network was trained at.
    public var inputSize: Int?
    /// Network bundles whose backbone offers a choice: what the new head reads (text: `pooled`, the
    /// sentence embedding; absent in bundles written before 0.11, whose text networks read mean states).
    public var headInput: String?
    /// Free-form facts for people: metrics, training time, options.
    public var notes: [String: String] = [:]

    public init(task: TaskKind = .classification, strategy: Strategy, backbone: BackboneSpec, classNames: [String]) {
        self.task = task; self.strategy = strategy; self.backbone = backbone; self.classNames = classNames
    }

    /// The kind of input the bundle reads.
    public var input: DataKind { backbone.input }
    /// The precision the head was fitted with: its features' (feature bundles; fp32 in bundles written
    /// before precisions existed); networks are trained in fp32.
    public var precision: Precision { source?.precision ?? .fp32 }
    /// Zoo name of the backbone (or its architecture).
    public var model: String { backbone.model }
    public var architecture: String { backbone.architecture }

    private enum Keys: String, CodingKey {
        case format, task, strategy, backbone, classNames, source, headKind, headC, headClasses, headNeighbors, headAlpha, headThresholds, inputSize, headInput, notes
        // graft-bundle/1
        case model, architecture, weights
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: Keys.self)
        format = try c.decode(String.self, forKey: .format)
        strategy = try c.decode(Strategy.self, forKey: .strategy)
        classNames = try c.decode([String].self, forKey: .classNames)
        source = try c.decodeIfPresent(FeatureSource.self, forKey: .source)
        headKind = try c.decodeIfPresent(HeadKind.self, forKey: .headKind)
        headC = try c.decodeIfPresent(Double.self, forKey: .headC)
        headClasses = try c.decodeIfPresent([Int].self, forKey: .headClasses)
        headNeighbors = try c.decodeIfPresent(Int.self, forKey: .headNeighbors)
        headAlpha = try c.decodeIfPresent(Double.self, forKey: .headAlpha)
        headThresholds = try c.decodeIfPresent([Float].self, forKey: .headThresholds)
        inputSize = try c.decodeIfPresent(Int.self, forKey: .inputSize)
        headInput = try c.decodeIfPresent(String.self, forKey: .headInput)
        notes = try c.decodeIfPresent([String: String].self, forKey: .notes) ?? [:]
        if format == "graft-bundle/1" {
            // 0.1 bundles: `task` was the input kind, the backbone three loose fields.
            let input = try c.decode(DataKind.self, forKey: .task)
            let model = try c.decode(String.self, forKey: .model)
            task = .classification
            backbone = BackboneSpec(input: input, model: model, architecture: try c.decode(String.self, forKey: .architecture),
                                    weights: try c.decodeIfPresent(String.self, forKey: .weights),
                                    pretrained: strategy.kind != .fromScratch)
            format = "graft-bundle/2"
        } else {
            task = try c.decode(TaskKind.self, forKey: .task)
            backbone = try c.decode(BackboneSpec.self, forKey: .backbone)
        }
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: Keys.self)
        try c.encode(format, forKey: .format); try c.encode(task, forKey: .task); try c.encode(strategy, forKey: .strategy)
        try c.encode(backbone, forKey: .backbone); try c.encode(classNames, forKey: .classNames)
        try c.encodeIfPresent(source, forKey: .source); try c.encodeIfPresent(headKind, forKey: .headKind)
        try c.encodeIfPresent(headC, forKey: .headC); try c.encodeIfPresent(headClasses, forKey: .headClasses)
        try c.encodeIfPresent(headNeighbors, forKey: .headNeighbors); try c.encodeIfPresent(headAlpha, forKey: .headAlpha)
        try c.encodeIfPresent(headThresholds, forKey: .headThresholds)
        try c.encodeIfPresent(inputSize, forKey: .inputSize); try c.encodeIfPresent(headInput, forKey: .headInput)
        try c.encode(notes, forKey: .notes)
    }
}
