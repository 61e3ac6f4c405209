import Foundation

/// The pretrained network a classifier starts from: a model of Graft's zoo
/// (installed by `make setup`) or weights you bring.
public enum Backbone: Sendable, Hashable, CustomStringConvertible {
    /// EfficientNet-Lite0, ImageNet-1k, 224x224, 1280-d features (default image backbone).
    case efficientNetLite0
    /// EfficientNet-Lite1, ImageNet-1k, 240x240, 1280-d features.
    case efficientNetLite1
    /// sentence-transformers all-MiniLM-L6-v2, 384-d (default text backbone).
    case miniLM
    /// Your weights: for images a state-dict file (`.pth`, `.safetensors`, ONNX, `.npz`)
    /// with torchvision keys and `architecture` one of `ImageModels.architectures`
    /// (loaded strictly: a missing or misshapen key is an error); for text a
    /// Hugging Face BERT-family model directory and `architecture` `"bert"`.
    case custom(weights: URL, architecture: String)

    /// Every zoo backbone.
    public static let zoo: [Backbone] = [.efficientNetLite0, .efficientNetLite1, .miniLM]

    /// The zoo name (`efficientnet-lite0`, ...), or the architecture of custom weights.
    public var name: String {
        switch self {
        case .efficientNetLite0: "efficientnet-lite0"
        case .efficientNetLite1: "efficientnet-lite1"
        case .miniLM: "all-minilm-l6-v2"
        case let .custom(_, architecture): architecture
        }
    }

    /// Whether it reads images (else texts).
    public var isImageModel: Bool {
        switch self {
        case .efficientNetLite0, .efficientNetLite1: true
        case .miniLM: false
        case let .custom(_, architecture): architecture != "bert"
        }
    }

    /// The weights file or directory a custom backbone names.
    var weights: URL? {
        if case let .custom(url, _) = self { return url }
        return nil
    }

    public var description: String {
        if let weights { return "\(name) weights at \(weights.path)" }
        return name
    }
}
