import GraftData
import GraftModels
import GraftNN
import GraftTensor

/// An imported ONNX graph with a new head, fine-tuned from a node on (`OnnxFineTuneModel`): the one job path
/// (LP-FT, checkpoints, resume, bundles) trains it as it trains a zoo CNN.
public final class OnnxTaskNetwork: LinearHeadNetwork {
    public let onnxBackbone: OnnxBackbone
    public let model: OnnxFineTuneModel
    public var backbone: any Backbone { onnxBackbone }
    public var module: Module { model }
    public var head: Linear { model.classifier }

    init(_ backbone: OnnxBackbone, model: OnnxFineTuneModel) {
        onnxBackbone = backbone
        self.model = model
    }

    public func headInput(_ batch: Batch, training: Bool) throws -> Tensor {
        try model.features(Tensor(shape: [batch.count, batch.height, batch.width, 3], values: batch.pixels))
    }
}
