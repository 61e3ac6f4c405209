import Foundation
import GraftTensor
import GraftWeights

/// The operators the executor runs, and the check that a graph uses only those.
public enum OnnxOperators {
    /// Operator types (default domain) with an implementation in OnnxKernels.
    public static let supported: Set<String> = [
        // convolution, normalization, pooling
        "Conv", "ConvTranspose", "BatchNormalization", "InstanceNormalization", "LayerNormalization", "LRN",
        "MaxPool", "AveragePool", "GlobalAveragePool", "GlobalMaxPool",
        // products
        "Gemm", "MatMul",
        // elementwise
        "Add", "Sub", "Mul", "Div", "Pow", "Sum", "Max", "Min", "Mean", "PRelu",
        "Sqrt", "Exp", "Log", "Erf", "Neg", "Abs", "Reciprocal", "Floor", "Ceil", "Sign",
        "Relu", "LeakyRelu", "Clip", "Sigmoid", "Tanh", "HardSigmoid", "HardSwish", "Gelu", "Elu", "Selu", "Softplus",
        "Softsign", "Shrink", "Mod", "Equal", "Less", "Greater", "LessOrEqual", "GreaterOrEqual", "Not", "And", "Or", "Xor", "Where",
        "Softmax", "LogSoftmax",
        "ReduceMean", "ReduceSum", "ReduceMax", "ReduceMin", "ReduceL1", "ReduceL2", "ReduceSumSquare",
        // shape and data movement
        "Reshape", "Flatten", "Transpose", "Squeeze", "Unsqueeze", "Concat", "Split", "Slice", "Gather", "Shape", "Size",
        "Constant", "ConstantOfShape", "Expand", "Tile", "Pad", "Resize", "Upsample", "Cast", "Range",
        "Identity", "Dropout",
    ]

    /// Every node whose operator is not implemented, grouped by operator; nil when all are.
    public static func unsupported(in nodes: [OnnxGraph.Node]) -> [String: [String]]? {
        var missing: [String: [String]] = [:]
        for n in nodes {
            let domainOK = n.domain.isEmpty || n.domain == "ai.onnx"
            if !domainOK || !supported.contains(n.opType) {
                missing[domainOK ? n.opType : "\(n.domain).\(n.opType)", default: []].append(n.name)
            }
        }
        return missing.isEmpty ? nil : missing
    }
}
