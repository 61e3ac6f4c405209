import Foundation
import GraftData
import GraftModels

/// What names a backbone: the value feature stores and bundles record (so the
/// kind of input is read, never guessed) and `Backbones.load` rebuilds from.
public struct BackboneSpec: Codable, Hashable, Sendable, CustomStringConvertible {
    /// What the backbone reads.
    public var input: DataKind
    /// Zoo name (`efficientnet-lite0`, `all-minilm-l6-v2`), or the architecture of user weights or of a random network.
    public var model: String
    /// Network architecture (`efficientnet-lite0`, `resnet50`, `bert`, `small-cnn`, ...).
    public var architecture: String
    /// A weights file (images) or model directory (text) the user brought; nil for zoo models and random networks.
    public var weights: String?
    /// False for the randomly initialised network of `.fromScratch`.
    public var pretrained: Bool
    /// The square input side a detector runs at (nil: its cfg's); other backbones fix their own.
    public var inputSize: Int?
    /// How images become an ONNX graph's input (`OnnxPreprocessing`: a recipe name or a JSON file); nil elsewhere.
    public var preprocess: String?
    /// The first node of an ONNX graph that fine-tuning trains (`--unfreeze-from`); the nodes before it run frozen.
    /// Nil: the new head alone trains (or, with `unfreeze: nil`, every node). Bundles record it to rebuild the network.
    public var unfreezeFrom: String?

    public init(input: DataKind, model: String, architecture: String, weights: String? = nil, pretrained: Bool = true, inputSize: Int? = nil,
                preprocess: String? = nil, unfreezeFrom: String? = nil) {
        self.input = input; self.model = model; self.architecture = architecture; self.weights = weights; self.pretrained = pretrained
        self.inputSize = inputSize; self.preprocess = preprocess; self.unfreezeFrom = unfreezeFrom
    }

    /// An ONNX image graph (`architecture` "onnx"), cut at its node outputs, with the preprocessing the user names;
    /// fine-tuned from node `unfreezeFrom` on (nil: the head alone).
    public static func onnx(_ file: URL, preprocess: String?, unfreezeFrom: String? = nil) -> BackboneSpec {
        BackboneSpec(input: .image, model: file.path, architecture: "onnx", weights: file.path, preprocess: preprocess, unfreezeFrom: unfreezeFrom)
    }

    /// A zoo detector (`yolov3-tiny`) at `inputSize` (nil: the cfg's 416).
    public static func detector(_ name: String = "yolov3-tiny", inputSize: Int? = nil) throws -> BackboneSpec {
        let entry = try ModelZoo.entry(name)
        guard entry.kind == .detection else {
            throw ModelError.unknownModel(name, available: ModelZoo.entries.filter { $0.kind == .detection }.map(\.name))
        }
        return BackboneSpec(input: .image, model: name, architecture: entry.architecture, inputSize: inputSize)
    }

    /// EfficientNet-Lite0, ImageNet-1k, 224x224, 1280-d features (default image backbone).
    public static let efficientNetLite0 = BackboneSpec(input: .image, model: "efficientnet-lite0", architecture: "efficientnet-lite0")
    /// EfficientNet-Lite1, ImageNet-1k, 240x240, 1280-d features.
    public static let efficientNetLite1 = BackboneSpec(input: .image, model: "efficientnet-lite1", architecture: "efficientnet-lite1")
    /// sentence-transformers all-MiniLM-L6-v2, 384-d (default text backbone).
    public static let miniLM = BackboneSpec(input: .text, model: "all-minilm-l6-v2", architecture: "bert")

    /// Your weights: for images a state-dict file (`.pth`, `.safetensors`, ONNX, `.npz`) with torchvision
    /// keys and `architecture` one of `ImageModels.architectures` (loaded strictly); for text a
    /// Hugging Face BERT-family model directory and `architecture` `"bert"`.
    public static func custom(weights: URL, architecture: String) -> BackboneSpec {
        BackboneSpec(input: architecture == "bert" ? .text : .image, model: architecture, architecture: architecture,
                     weights: weights.path)
    }

    /// A model of the zoo by name.
    public static func zoo(_ name: String) throws -> BackboneSpec {
        let entry = try ModelZoo.entry(name)
        switch entry.kind {
        case .image: return BackboneSpec(input: .image, model: name, architecture: entry.architecture)
        case .text: return BackboneSpec(input: .text, model: name, architecture: entry.architecture)
        case .detection: return try detector(name)
        case .wordVectors:
            throw ModelError.unknownModel(name, available: ModelZoo.entries.filter { $0.kind == .image || $0.kind == .text }.map(\.name))
        }
    }

    /// What the CLI's `--model NAME [--arch A]` names: a zoo model, or a weights file/directory with its architecture.
    public static func named(_ model: String, architecture: String? = nil) throws -> BackboneSpec {
        if let r = try PretrainedReferences.describe(model, architecture: architecture) {  // hf:, torchvision:, https:// (GraftHub)
            return BackboneSpec(input: r.readsImages ? .image : .text, model: model, architecture: r.architecture)
        }
        if model.lowercased().hasSuffix(".onnx") && (architecture == nil || architecture == "onnx") {
            return onnx(URL(fileURLWithPath: model), preprocess: nil)
        }
        if architecture != nil || FileManager.default.fileExists(atPath: model) {
            guard let architecture else {
                throw ModelError.invalidConfig("\(model) is a file: name its architecture with --arch (\((ImageModels.architectures + ["bert"]).joined(separator: ", ")))")
            }
            return custom(weights: URL(fileURLWithPath: model), architecture: architecture)
        }
        return try zoo(model)
    }

    /// The default pretrained backbone for an input kind.
    public static func defaultPretrained(for input: DataKind) -> BackboneSpec {
        input == .image ? .efficientNetLite0 : .miniLM
    }

    /// The network `.fromScratch` trains for this backbone's input: a small CNN sized for small
    /// images (or `architecture`, any of `ImageModels.architectures`), or this encoder's
    /// architecture with every weight re-drawn.
    public func scratch(architecture: String? = nil) -> BackboneSpec {
        switch input {
        case .image where YoloBackbone.isDetector(self):
            var s = self   // the same detector with every weight re-drawn
            s.pretrained = false
            return s
        case .image:
            let arch = architecture ?? "small-cnn"
            return BackboneSpec(input: .image, model: arch, architecture: arch, pretrained: false)
        case .text:
            var s = self
            s.pretrained = false
            return s
        }
    }

    public var description: String {
        let base = (weights.map { "\(model) weights at \($0)" } ?? model) + (inputSize.map { " at \($0)x\($0)" } ?? "")
        return pretrained ? base : "random-init \(base)"
    }
}
