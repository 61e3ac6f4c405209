import GraftHeads

/// The JSON half of a bundle (`bundle.json`); tensors live beside it in safetensors.
public struct BundleManifest: Codable, Sendable, Equatable {
    public enum Task: String, Codable, Sendable { case image, text }
    public enum Strategy: String, Codable, Sendable {
        case featureExtraction = "feature-extraction"
        case fineTune = "fine-tune"
        case fromScratch = "from-scratch"
    }

    public var format = "graft-bundle/1"
    public var task: Task
    public var strategy: Strategy
    /// Zoo name of the pretrained model (feature bundles load its weights from the cache).
    public var model: String
    /// Network architecture (`efficientnet-lite0`, `bert`, `small-cnn`, ...).
    public var architecture: String
    /// A weights file (image) or model directory (text) the user brought, read
    /// instead of the zoo's when the bundle is loaded; nil for zoo models.
    public var weights: String?
    public var classNames: [String]
    /// Feature bundles: where the features come from.
    public var source: FeatureSource?
    /// Feature bundles: the head without its weights (those are in head.safetensors).
    public var headKind: HeadKind?
    public var headC: Double?
    public var headClasses: [Int]?
    /// Network bundles: the input side (images) the network was trained at.
    public var inputSize: Int?
    /// Free-form facts for people: metrics, training time, options.
    public var notes: [String: String] = [:]

    public init(task: Task, strategy: Strategy, model: String, architecture: String, classNames: [String]) {
        self.task = task; self.strategy = strategy; self.model = model; self.architecture = architecture; self.classNames = classNames
    }
}
