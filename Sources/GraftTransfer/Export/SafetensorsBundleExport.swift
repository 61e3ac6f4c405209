import Foundation
import GraftHeads
import GraftModels
import GraftNN
import GraftTensor
import GraftWeights

/// A bundle's weights alone as safetensors, under the keys of the reference implementation, so they load
/// into it (PyTorch `load_state_dict`, candle `VarBuilder`):
/// - a network bundle: its state dict as trained (a CNN's keys are torchvision's / the reference package's
///   with the classifier resized to the bundle's classes; a text network's are `bert.*` + `head.*`);
/// - a feature-head bundle on a CNN's `penultimate` (average-pooled) cut: the backbone's state dict with the
///   head (standardisation folded in, rows in class order) as its classifier, i.e. exactly the reference
///   model with `num_classes` = the bundle's classes;
/// - any other feature-head bundle: the backbone's state dict (an imported ONNX graph's float initializers by
///   name) plus `head.weight` and `head.bias`
///   (metadata `graft.cut` and `graft.pool` say where the head reads).
public enum SafetensorsBundleExport {
    public static func write(_ bundle: TrainedModel, to url: URL) throws -> [String: String] {
        var metadata = ["graft.task": bundle.manifest.task.rawValue, "graft.backbone": ONNXBundleExport.backboneName(bundle),
                        "graft.classes": String(decoding: try JSONEncoder().encode(bundle.classNames), as: UTF8.self)]
        var tensors: [StoredTensor]
        switch bundle.scorer {
        case let .network(network):
            tensors = try stored(network.module.stateDict())
        case let .head(extractor, _), let .regression(extractor, _), let .multiLabel(extractor, _):
            guard let (w, b, rows) = bundle.exportedHead.map({ ($0.weights, $0.bias, $0.rows) }) else {
                throw ONNXExportError.unsupported("a \(bundle.manifest.headKind?.rawValue ?? "non-linear") head has no weights to export")
            }
            let d = w.count / rows
            let headTensors = [try StoredTensor(name: "head.weight", shape: [rows, d], floats: w),
                               try StoredTensor(name: "head.bias", shape: [rows], floats: b)]
            switch extractor.backbone {
            case let cnn as CNNBackbone:
                // The backbone without its ImageNet classifier; on the average-pooled penultimate cut the head takes
                // the classifier's place (the reference model with K classes), elsewhere it is `head.*`.
                let key = cnn.cnn.classifierKey
                let trunk = try stored(cnn.cnn.stateDict().filter { !$0.0.hasPrefix(key + ".") })
                if extractor.cut == "penultimate" && extractor.pool == .avg {
                    tensors = trunk + [try StoredTensor(name: key + ".weight", shape: [rows, d], floats: w),
                                       try StoredTensor(name: key + ".bias", shape: [rows], floats: b)]
                    metadata["graft.head"] = key
                } else {
                    tensors = trunk + headTensors
                    metadata["graft.cut"] = extractor.cut; metadata["graft.pool"] = extractor.pool.rawValue; metadata["graft.head"] = "head"
                }
            case let text as TextBackbone:
                tensors = try stored(text.embedder.bert.stateDict()) + headTensors
                metadata["graft.cut"] = extractor.cut; metadata["graft.head"] = "head"
            case let onnx as OnnxBackbone:
                // An imported graph's float initializers under their own names (the exporter's state-dict keys).
                let floats = onnx.graph.initializers.sorted { $0.key < $1.key }.compactMap { name, t -> StoredTensor? in
                    guard case let .float(v) = t.values else { return nil }
                    return try? StoredTensor(name: name, shape: t.shape, floats: v)
                }
                tensors = floats + headTensors
                metadata["graft.cut"] = extractor.cut; metadata["graft.pool"] = extractor.pool.rawValue; metadata["graft.head"] = "head"
            default:
                throw ONNXExportError.unsupported("\(bundle.manifest.model) backbones")
            }
        }
        try WeightFile(tensors: tensors).writeSafetensors(to: url, metadata: metadata)
        return metadata
    }

    static func stored(_ state: [(String, Tensor)]) throws -> [StoredTensor] {
        try state.map { key, t in try StoredTensor(name: key, shape: t.shape, floats: t.values) }
    }
}
