import Foundation
import GraftNN
import GraftTensor
import GraftWeights

/// Builds image networks by architecture name and loads pretrained ones by zoo name,
/// `torchvision:NAME` or weights URL (PretrainedReferences.swift).
public enum ImageModels {
    public static let architectures = ["efficientnet-lite0", "efficientnet-lite1", "efficientnet-lite2", "efficientnet-lite3",
                                       "efficientnet-lite4", "resnet18", "resnet34", "resnet50", "mobilenet_v2", "vgg16"]

    /// A randomly initialised network of `architecture` (seeded).
    public static func make(_ architecture: String, seed: UInt64 = 0) throws -> any ImageBackbone {
        switch architecture {
        case let a where a.hasPrefix("efficientnet-lite"):
            guard let n = Int(a.dropFirst("efficientnet-lite".count)) else { break }
            return EfficientNetLite(try .lite(n), seed: seed)
        case "resnet18": return try ResNet(.resnet18(), seed: seed)
        case "resnet34": return try ResNet(.resnet34(), seed: seed)
        case "resnet50": return try ResNet(.resnet50(), seed: seed)
        case "mobilenet_v2", "mobilenetv2": return try MobileNetV2(.init(), seed: seed)
        case "vgg16": return try VGG(.vgg16(), seed: seed)
        default: break
        }
        throw ModelError.unknownModel(architecture, available: architectures)
    }

    /// A zoo model with its pretrained weights (strictly loaded), or an
    /// architecture plus a weights file the user brings.
    public static func pretrained(_ name: String, weights: URL? = nil, architecture: String? = nil) throws -> any ImageBackbone {
        if let model = try fromReference(name, architecture: architecture) { return model }  // torchvision:, https://
        if let weights {
            let model = try make(architecture ?? name)
            let file = try WeightFile.open(weights)
            try model.load(loadTensors(file), strict: true, source: weights.path)
            try Int8Quantization.applyRanges(from: file, to: model)   // a quantized model (`graft quantize`)
            return model
        }
        let entry = try ModelZoo.entry(name)
        guard entry.kind == .image else { throw ModelError.unknownModel(name, available: ModelZoo.entries.filter { $0.kind == .image }.map(\.name)) }
        guard entry.isInstalled else { throw ModelError.weightsNotInstalled(model: name, path: entry.url.path) }
        let model = try make(entry.architecture)
        try model.load(contentsOf: entry.url)
        return model
    }
}
