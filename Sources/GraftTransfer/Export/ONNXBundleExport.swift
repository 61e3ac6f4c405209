import Foundation
import GraftData
import GraftHeads
import GraftModels
import GraftNN
import GraftTensor
import GraftWeights

/// A trained bundle as one ONNX graph: backbone to the cut, pooling, the fitted head or the fine-tuned
/// network, and the task's scores (softmax probabilities, sigmoid label probabilities or values).
///
/// Image graphs take `pixels` `[N, 3, H, W]` float32 *after* the bundle's preprocessing (NCHW; the
/// recipe is in the metadata as `graft.preprocessing`); text graphs take int64 `input_ids`,
/// `attention_mask` and `token_type_ids` `[N, L]` from the backbone's WordPiece tokenizer, which stays
/// outside the graph as in every ONNX text export (`graft.tokenizer` names it). The output is `scores`
/// `[N, K]`, columns in `graft.classes` order.
public enum ONNXBundleExport {
    public static func model(_ bundle: TrainedModel, producerVersion: String) throws -> Onnx_ModelProto {
        let backboneName = backboneName(bundle)
        var g = ONNXGraphBuilder(name: backboneName)
        var metadata: [(String, String)] = [
            ("graft.task", bundle.manifest.task.rawValue),
            ("graft.backbone", backboneName),
            ("graft.strategy", bundle.manifest.strategy.description),
            ("graft.classes", String(decoding: try JSONEncoder().encode(bundle.classNames), as: UTF8.self)),
        ]
        let features: (name: String, width: Int)
        switch bundle.backbone {
        case let cnn as CNNBackbone:
            let prep = cnn.cnn.preprocessing
            metadata.append(("graft.input", "pixels: float32 [N, 3, \(prep.inputSize), \(prep.inputSize)], RGB, after graft.preprocessing"))
            metadata.append(("graft.preprocessing", describe(prep)))
            let size = prep.inputSize
            let pixels = g.input("pixels", dims: [.named("N"), .fixed(3), .fixed(size), .fixed(size)])
            let input = ONNXFeatureMap(pixels, channels: 3, height: size, width: size)
            let exportable = try cnn.cnn.onnxExportable()
            switch bundle.scorer {
            case .network:
                features = try rows(exportable.exportONNX(&g, input: input, upTo: nil), pool: .avg, &g)
            case let .head(extractor, _), let .regression(extractor, _), let .multiLabel(extractor, _):
                features = try rows(exportable.exportONNX(&g, input: input, upTo: extractor.cut), pool: extractor.pool, &g)
            }
        case let text as TextBackbone:
            let e = text.embedder
            metadata.append(("graft.input", "input_ids, attention_mask, token_type_ids: int64 [N, L], L <= \(e.maxLength)"))
            metadata.append(("graft.tokenizer", "WordPiece of \(bundle.manifest.model) (vocab.txt), [CLS] ... [SEP], at most \(e.maxLength) tokens; tokenization is not in the graph"))
            let dims: [ONNXDim] = [.named("N"), .named("L")]
            let ids = g.input("input_ids", elementType: .int64, dims: dims)
            let mask = g.input("attention_mask", elementType: .int64, dims: dims)
            let types = g.input("token_type_ids", elementType: .int64, dims: dims)
            switch bundle.scorer {
            case let .network(network):
                let h = e.bert.exportONNX(&g, ids: ids, mask: mask, tokenTypes: types, upToLayer: nil)
                let pooled = (network as? TextTaskNetwork)?.headInputKind != .meanStates
                features = (g.poolTokens(h, mask: mask, mode: pooled ? e.pooling : .mean, normalize: pooled && e.normalize), e.dimension)
            case let .head(extractor, _), let .regression(extractor, _), let .multiLabel(extractor, _):
                let layer = extractor.cut == "pooled" ? nil : Int(extractor.cut.dropFirst(5))
                let h = e.bert.exportONNX(&g, ids: ids, mask: mask, tokenTypes: types, upToLayer: layer)
                features = (g.poolTokens(h, mask: mask, mode: e.pooling, normalize: e.normalize), e.dimension)
            }
        case let onnx as OnnxBackbone:
            // The source graph to the cut (fine-tuned initializers replaced), pooled as the bundle pools it.
            let (cut, pool, trained) = try Self.onnxCut(bundle)
            guard let prep = onnx.preprocessing else { throw ONNXExportError.unsupported("an ONNX backbone without preprocessing") }
            metadata.append(("graft.input", "pixels: float32 [N, 3, \(prep.inputSize), \(prep.inputSize)], RGB, after graft.preprocessing"))
            metadata.append(("graft.preprocessing", describe(prep)))
            metadata.append(("graft.source", URL(fileURLWithPath: onnx.graph.file).lastPathComponent))
            if case .network = bundle.scorer, let node = onnx.spec.unfreezeFrom { metadata.append(("graft.unfreeze_from", node)) }
            g = try ONNXGraphBuilder.importing(URL(fileURLWithPath: onnx.graph.file), upTo: cut, input: "pixels", replacing: trained)
            let shape = try onnx.valueShape(at: cut)
            if shape.count == 4 {
                features = rows(.map(ONNXFeatureMap(cut, channels: shape[3], height: shape[1], width: shape[2])), pool: pool, &g)
            } else {
                features = (g.node("Flatten", [cut], [ONNXAttribute.int("axis", 1)]), shape.dropFirst().reduce(1, *))
            }
        default:
            throw ONNXExportError.unsupported("\(bundle.manifest.model) (\(bundle.manifest.task.rawValue)) bundles have no ONNX writer; image classifiers on EfficientNet-Lite, MobileNetV2, ResNet, small-cnn, imported ONNX graphs and BERT-family text bundles do")
        }
        let scores = try head(bundle, features: features, &g)
        g.output(scores, as: "scores", dims: [.named("N"), .fixed(scoresWidth(bundle))])
        return g.model(metadata: metadata, producerVersion: producerVersion)
    }

    /// The backbone as exports name it: an imported graph by its file name, not its path, so an exported file
    /// does not depend on (or reveal) where it was made.
    static func backboneName(_ bundle: TrainedModel) -> String {
        bundle.backbone is OnnxBackbone ? URL(fileURLWithPath: bundle.manifest.model).lastPathComponent : bundle.manifest.model
    }

    /// Where an ONNX-backbone bundle reads its rows: a fine-tuned network's head input (average-pooled, as
    /// `OnnxFineTuneModel.features`) with its trained initializers, or a feature head's cut and pooling.
    static func onnxCut(_ bundle: TrainedModel) throws -> (cut: String, pool: FeaturePooling, trained: [String: Tensor]) {
        switch bundle.scorer {
        case let .network(network):
            guard let n = network as? OnnxTaskNetwork else { throw ONNXExportError.unsupported("an ONNX backbone bundle whose network is \(type(of: network))") }
            return (n.model.headInput, .avg, Dictionary(n.model.keyedParameters + n.model.keyedBuffers, uniquingKeysWith: { a, _ in a }))
        case let .head(extractor, _), let .regression(extractor, _), let .multiLabel(extractor, _):
            return (extractor.cut, extractor.pool, [:])
        }
    }

    /// Writes `model(_:)` to `url` atomically (a reader sees the old file or the new one).
    public static func write(_ bundle: TrainedModel, to url: URL, producerVersion: String) throws {
        try AtomicFile.write(try model(bundle, producerVersion: producerVersion).encoded(), to: url)
    }

    /// A feature map pooled into rows as `FeatureExtractor` pools it (flatten in Graft's NHWC order).
    static func rows(_ value: ONNXExportValue, pool: FeaturePooling, _ g: inout ONNXGraphBuilder) -> (name: String, width: Int) {
        switch value {
        case let .rows(name, width): return (name, width)
        case let .map(m):
            switch pool {
            case .avg: return (g.globalAveragePool(m), m.channels)
            case .max: return (g.node("Flatten", [g.node("GlobalMaxPool", [m.name])], [ONNXAttribute.int("axis", 1)]), m.channels)
            case .flatten:
                let nhwc = g.node("Transpose", [m.name], [ONNXAttribute.ints("perm", [0, 2, 3, 1])])
                return (g.node("Flatten", [nhwc], [ONNXAttribute.int("axis", 1)]), m.channels * m.height * m.width)
            }
        }
    }

    /// The bundle's scoring on feature rows.
    static func head(_ bundle: TrainedModel, features: (name: String, width: Int), _ g: inout ONNXGraphBuilder) throws -> String {
        switch bundle.scorer {
        case let .network(network):
            let logits: String
            if bundle.backbone is CNNBackbone {
                logits = features.name   // the CNN's own classifier ran inside exportONNX(upTo: nil)
            } else {
                guard let head = network.linearHead else { throw ONNXExportError.unsupported("a network without a linear head") }
                g.nameTensors(of: head, prefix: "head.")
                logits = g.linear(features.name, weight: head.weight, bias: head.bias)
            }
            switch bundle.task {
            case let regression as RegressionTask:
                guard let mean = regression.targetMean, let scale = regression.targetScale else { return logits }
                let scaled = g.node("Mul", [logits, g.constant("target_scale", shape: [scale.count], values: scale)])
                return g.node("Add", [scaled, g.constant("target_mean", shape: [mean.count], values: mean)], name: "values")
            case is MultiLabelTask: return g.node("Sigmoid", [logits], name: "probabilities")
            case is ClassificationTask: return g.node("Softmax", [logits], [ONNXAttribute.int("axis", -1)], name: "probabilities")
            default: throw ONNXExportError.unsupported("\(bundle.manifest.task.rawValue) networks")
            }
        case .head, .regression, .multiLabel:
            guard let head = bundle.exportedHead else {
                throw ONNXExportError.unsupported("a \(bundle.manifest.headKind?.rawValue ?? "") head (linear heads export: logreg, svm, ridge, prototype), or one trained on fewer classes than the bundle has")
            }
            let d = head.weights.count / head.rows
            var x = features.name
            if head.normalizesRows { x = g.node("LpNormalization", [x], [ONNXAttribute.int("axis", -1), ONNXAttribute.int("p", 2)]) }
            let logits = g.node("Gemm", [x, g.constant("head.weight", shape: [head.rows, d], values: head.weights),
                                         g.constant("head.bias", shape: [head.rows], values: head.bias)], [ONNXAttribute.int("transB", 1)], name: "head")
            switch bundle.scorer {
            case .regression: return logits
            case .multiLabel: return g.node("Sigmoid", [logits], name: "probabilities")
            default: return g.node("Softmax", [logits], [ONNXAttribute.int("axis", -1)], name: "probabilities")
            }
        }
    }

    static func scoresWidth(_ bundle: TrainedModel) -> Int {
        if case let .network(network) = bundle.scorer { return network.linearHead?.outFeatures ?? bundle.classNames.count }
        return bundle.exportedHead?.rows ?? bundle.classNames.count
    }

    /// The preprocessing recipe as JSON: what a caller applies to an RGB image before `pixels`.
    static func describe(_ p: Preprocessing) -> String {
        var recipe: [String: Any] = ["input_size": p.inputSize, "layout": "NCHW", "color": "RGB"]
        if let r = p.resizeShorterTo { recipe["resize_shorter_to"] = r }
        switch p.crop {
        case .center: recipe["crop"] = "center"
        case let .centerFraction(padding): recipe["crop"] = "center, after resizing the shorter side to input_size + \(padding)"
        case .stretch: recipe["crop"] = "none: the whole image stretched to input_size x input_size"
        }
        switch p.normalization {
        case let .meanStd(mean, std): recipe["normalize"] = "(pixel / 255 - mean) / std"; recipe["mean"] = mean; recipe["std"] = std
        case let .affine(subtract, divide): recipe["normalize"] = "(pixel - \(subtract)) / \(divide)"
        case .unit: recipe["normalize"] = "pixel / 255"
        }
        let data = (try? JSONSerialization.data(withJSONObject: recipe, options: [.sortedKeys])) ?? Data()
        return String(decoding: data, as: UTF8.self)
    }
}
