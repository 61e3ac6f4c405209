import ArgumentParser
import Foundation
import Graft
import GraftModels

/// `--model NAME|FILE|DIR [--arch ARCH]`, the same wherever a command takes a pretrained model: a zoo
/// name (`graft models`), or weights the user brings: an image weights file with `--arch`, or a
/// sentence-transformers directory (config.json, model.safetensors, vocab.txt) for text.
enum ModelArguments {
    static let imageHelp: ArgumentHelp = "Pretrained image model: a zoo name, or a weights file with --arch."
    static let textHelp: ArgumentHelp = "Text model: a zoo name, or a sentence-transformers directory (config.json, model.safetensors, vocab.txt)."
    static let archHelp: ArgumentHelp = "Architecture of the weights given with --model (`graft models` lists them)."
    static let precisionHelp: ArgumentHelp = "What the network's convolutions and matmuls compute in: fp32, bf16 on CPUs with AVX-512 bf16, or int8 with a quantized model (graft quantize; docs/PRECISION.md)."
    static let bundlePrecisionHelp: ArgumentHelp = "What the backbone computes in (fp32, bf16, int8 with a quantized backbone; docs/PRECISION.md). Default: the precision the bundle's head was fitted with."

    static let preprocessHelp: ArgumentHelp = "With an ONNX --model: how images become its input (imagenet, efficientnet-lite0, efficientnet-lite1, or a .json file; docs/ONNX.md)."
    static let unfreezeFromHelp: ArgumentHelp = "With an ONNX --model: the first node to train (`graft inspect model.onnx` lists them); the nodes before it run frozen, the graph's classifier is replaced by the new head. Replaces --unfreeze."

    /// `--model NAME|FILE [--arch]` with an ONNX graph's `--preprocess` and `--unfreeze-from`, which only an ONNX
    /// model takes (a usage error elsewhere: zoo models carry their preprocessing and count blocks).
    static func backboneSpec(_ model: String?, arch: String?, preprocess: String?, unfreezeFrom: String? = nil) throws -> BackboneSpec? {
        var spec = try model.map { try BackboneSpec.named($0, architecture: arch) }
        guard preprocess != nil || unfreezeFrom != nil else { return spec }
        guard spec?.architecture == "onnx" else {
            throw ValidationError("\(unfreezeFrom == nil ? "--preprocess" : "--preprocess and --unfreeze-from") go\(unfreezeFrom == nil ? "es" : "") with an ONNX --model (model.onnx); zoo models carry their own preprocessing and count blocks with --unfreeze")
        }
        spec?.preprocess = preprocess
        spec?.unfreezeFrom = unfreezeFrom
        return spec
    }

    /// Architectures a text model directory may declare with `--arch`.
    static let textArchitectures = ["bert"]

    /// An image backbone from a zoo name, or from `file` built as `arch`.
    static func imageBackbone(_ model: String, arch: String?) throws -> any ImageBackbone {
        let isFile = FileManager.default.fileExists(atPath: model)
        if isFile {
            guard let arch else {
                throw ValidationError("--model \(model) is a weights file: name its architecture with --arch (\(ImageModels.architectures.joined(separator: ", ")))")
            }
            guard ImageModels.architectures.contains(arch) else {
                throw ValidationError("unknown --arch '\(arch)' (one of \(ImageModels.architectures.joined(separator: ", ")))")
            }
            return try ImageModels.pretrained(model, weights: URL(fileURLWithPath: model), architecture: arch)
        }
        guard arch == nil else { throw ValidationError("--arch goes with a weights file, but '\(model)' is not a file") }
        return try ImageModels.pretrained(model)
    }

    /// A sentence embedder from a zoo name or a model directory.
    static func sentenceEmbedder(_ model: String, arch: String?) throws -> SentenceEmbedder {
        if let arch, !textArchitectures.contains(arch) {
            throw ValidationError("unknown --arch '\(arch)' for a text model (one of \(textArchitectures.joined(separator: ", ")))")
        }
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: model, isDirectory: &isDirectory) {
            guard isDirectory.boolValue else {
                throw ValidationError("--model \(model) is a file: a text model is a directory (config.json, model.safetensors, vocab.txt)")
            }
            return try SentenceEmbedder(directory: URL(fileURLWithPath: model))
        }
        guard arch == nil else { throw ValidationError("--arch goes with a model directory, but '\(model)' is not one") }
        return try SentenceEmbedder.pretrained(model)
    }
}
