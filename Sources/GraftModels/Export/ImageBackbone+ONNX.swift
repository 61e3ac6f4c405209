import GraftNN
import GraftTensor

/// What an exported network part ends in: an NCHW feature map, or rows [N, width].
public enum ONNXExportValue {
    case map(ONNXFeatureMap)
    case rows(String, width: Int)
}

/// Why a model or bundle cannot be written as ONNX.
public enum ONNXExportError: Error, CustomStringConvertible {
    case unsupported(String)
    public var description: String {
        switch self { case let .unsupported(what): "cannot export to ONNX: \(what)" }
    }
}

/// An image backbone that can write `forward(upTo:)` as ONNX nodes (inference: batch norm with running
/// statistics, dropout as identity). The cut names are the backbone's own `cutPoints`.
public protocol ONNXExportableBackbone: ImageBackbone {
    func exportONNX(_ g: inout ONNXGraphBuilder, input: ONNXFeatureMap, upTo cut: String?) throws -> ONNXExportValue
}

extension ONNXGraphBuilder {
    /// The tail every CNN here shares: global average pool (`penultimate`), then its linear classifier.
    mutating func classifierTail(_ h: ONNXFeatureMap, cut: String?, classifier: Linear) -> ONNXExportValue {
        let pooled = globalAveragePool(h)
        if cut == "penultimate" { return .rows(pooled, width: h.channels) }
        return .rows(linear(pooled, weight: classifier.weight, bias: classifier.bias), width: classifier.outFeatures)
    }
}

extension ImageBackbone {
    /// This backbone's ONNX writer, or a typed error naming the architecture.
    public func onnxExportable() throws -> any ONNXExportableBackbone {
        guard let e = self as? any ONNXExportableBackbone else {
            throw ONNXExportError.unsupported("no ONNX writer for \(architecture) (EfficientNet-Lite, MobileNetV2, ResNet and small-cnn have one)")
        }
        return e
    }
}

extension EfficientNetLite: ONNXExportableBackbone {
    public func exportONNX(_ g: inout ONNXGraphBuilder, input: ONNXFeatureMap, upTo cut: String?) throws -> ONNXExportValue {
        try checkCut(cut)
        g.nameTensors(of: self)
        var h = g.convBatchNorm(input, stem)
        if cut == "stem" { return .map(h) }
        for (i, block) in blocks.items.enumerated() {
            h = g.invertedResidual(h, block.fused)
            if cut == "block\(i)" { return .map(h) }
        }
        h = g.convBatchNorm(h, head)
        if cut == "head" { return .map(h) }
        return g.classifierTail(h, cut: cut, classifier: classifier)
    }
}

extension MobileNetV2: ONNXExportableBackbone {
    public func exportONNX(_ g: inout ONNXGraphBuilder, input: ONNXFeatureMap, upTo cut: String?) throws -> ONNXExportValue {
        try checkCut(cut)
        g.nameTensors(of: self)
        var h = input
        for (i, layer) in features.enumerated() {
            switch layer {
            case let block as InvertedResidual: h = g.invertedResidual(h, block.fused)
            case let unit as ConvBatchNorm: h = g.convBatchNorm(h, unit)
            default: throw ONNXExportError.unsupported("\(architecture) features.\(i) is a \(type(of: layer))")
            }
            if cut == "features.\(i)" { return .map(h) }
        }
        return g.classifierTail(h, cut: cut, classifier: classifier)
    }
}

extension ResNet: ONNXExportableBackbone {
    public func exportONNX(_ g: inout ONNXGraphBuilder, input: ONNXFeatureMap, upTo cut: String?) throws -> ONNXExportValue {
        try checkCut(cut)
        g.nameTensors(of: self)
        var h = g.maxPool(g.convBatchNorm(input, stem), kernel: 3, stride: 2, padding: 1)
        if cut == "stem" { return .map(h) }
        for (i, layer) in layers.enumerated() {
            for (j, block) in layer.items.enumerated() {
                // relu(path(x) + shortcut(x))
                let x = h
                for unit in block.path { h = g.convBatchNorm(h, unit) }
                let shortcut = block.shortcut.map { g.convBatchNorm(x, $0).name } ?? x.name
                h.name = g.node("Relu", [g.node("Add", [h.name, shortcut], name: "residual")])
                if cut == "layer\(i + 1).\(j)" { return .map(h) }
            }
            if cut == "layer\(i + 1)" { return .map(h) }
        }
        return g.classifierTail(h, cut: cut, classifier: classifier)
    }
}

extension SmallCNN: ONNXExportableBackbone {
    public func exportONNX(_ g: inout ONNXGraphBuilder, input: ONNXFeatureMap, upTo cut: String?) throws -> ONNXExportValue {
        try checkCut(cut)
        g.nameTensors(of: self)
        var h = input
        for (i, block) in blocks.enumerated() {
            h = g.convBatchNorm(h, block)
            if cut == "conv\(i + 1)" { return .map(h) }
            if i < 2 && h.height >= 2 { h = g.maxPool(h, kernel: 2, stride: 2, padding: 0) }
        }
        return g.classifierTail(h, cut: cut, classifier: classifier)
    }
}
