import Foundation
import GraftModels

/// Builds a `Backbone` from the spec a job, store or bundle names. The one
/// place that knows which implementation serves which architecture.
public enum Backbones {
    /// Loads `spec`: pretrained weights (zoo or the user's), or a seeded random network when
    /// `spec.pretrained` is false. `outputs` sizes a random network's own classifier (replaced by
    /// the task's head anyway); `weights: false` skips reading pretrained weights that a bundle's
    /// state dict will overwrite.
    public static func load(_ spec: BackboneSpec, seed: UInt64 = 0, outputs: Int = 1000, weights: Bool = true) throws -> any Backbone {
        switch spec.input {
        case .image where spec.architecture == "onnx":
            return try OnnxBackbone(spec)
        case .image where YoloBackbone.isDetector(spec):
            return try YoloBackbone(spec, seed: seed, weights: weights)
        case .image:
            let cnn: any ImageBackbone
            if spec.architecture == "small-cnn" {
                cnn = SmallCNN(inputSize: 32, classes: outputs, seed: seed)
            } else if !spec.pretrained || !weights {
                cnn = try ImageModels.make(spec.architecture, seed: seed)
            } else if let path = spec.weights {
                cnn = try ImageModels.pretrained(spec.model, weights: URL(fileURLWithPath: path), architecture: spec.architecture)
            } else {
                cnn = try ImageModels.pretrained(spec.model, architecture: spec.architecture)
            }
            return CNNBackbone(cnn, spec: spec)
        case .text:
            let embedder = try spec.weights.map { try SentenceEmbedder(directory: URL(fileURLWithPath: $0), name: spec.model) }
                ?? SentenceEmbedder.pretrained(spec.model)
            if !spec.pretrained { try TextBackbone.randomize(embedder.bert, seed: seed) }
            return TextBackbone(embedder, spec: spec)
        }
    }
}
