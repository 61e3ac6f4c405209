import Foundation

/// torchvision's published ImageNet-1k state dicts (the `IMAGENET1K_V1` weights
/// of `torchvision/models/*.py`). The file name carries the first hex digits of
/// the file's SHA-256, which torch.hub's `check_hash` verifies, and so does Graft.
public struct TorchvisionWeights: Equatable, Sendable {
    public let name: String
    /// Graft's architecture name (`ImageModels.make`).
    public let architecture: String
    public let file: String

    public static let all: [TorchvisionWeights] = [
        .init(name: "vgg16", architecture: "vgg16", file: "vgg16-397923af.pth"),
        .init(name: "resnet18", architecture: "resnet18", file: "resnet18-f37072fd.pth"),
        .init(name: "resnet34", architecture: "resnet34", file: "resnet34-b627a593.pth"),
        .init(name: "resnet50", architecture: "resnet50", file: "resnet50-0676ba61.pth"),
        .init(name: "mobilenet_v2", architecture: "mobilenet_v2", file: "mobilenet_v2-b0353104.pth"),
    ]

    public static func named(_ name: String) -> TorchvisionWeights? {
        let n = name.lowercased()
        return all.first { $0.name == n || ($0.name == "mobilenet_v2" && n == "mobilenetv2") }
    }

    /// The SHA-256 prefix in a torch.hub file name: the first `-HEX.` (torch.hub's `HASH_REGEX`, `-([a-f0-9]*)\.`).
    public static func hashPrefix(inFileName name: String) -> String? {
        var rest = Substring(name)
        while let dash = rest.firstIndex(of: "-") {
            let after = rest[rest.index(after: dash)...]
            let hex = after.prefix { "0123456789abcdef".contains($0) }
            if !hex.isEmpty, after.dropFirst(hex.count).first == "." { return String(hex) }
            rest = after
        }
        return nil
    }
}
