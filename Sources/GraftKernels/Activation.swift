import CDNNL

/// Pointwise functions, used standalone (eltwise) and fused after a
/// convolution or batch norm. Formulas follow PyTorch.
public enum Activation: Hashable, Sendable, CaseIterable {
    /// max(x, 0)
    case relu
    /// min(max(x, 0), 6)
    case relu6
    /// x * sigmoid(x)
    case silu
    /// x * Phi(x), the exact (erf) form
    case gelu
    /// 1 / (1 + exp(-x))
    case sigmoid
    /// tanh(x)
    case tanh
    /// x * relu6(x + 3) / 6
    case hardswish
    /// x > 0 ? x : 0.1 * x (Darknet's "leaky"; oneDNN's relu with alpha 0.1)
    case leakyRelu

    /// oneDNN algorithm with its alpha and beta.
    var dnnl: (algorithm: dnnl_alg_kind_t, alpha: Float, beta: Float) {
        switch self {
        case .relu: (dnnl_eltwise_relu, 0, 0)
        case .relu6: (dnnl_eltwise_clip_v2, 0, 6)
        case .silu: (dnnl_eltwise_swish, 1, 0)
        case .gelu: (dnnl_eltwise_gelu_erf, 0, 0)
        case .sigmoid: (dnnl_eltwise_logistic, 0, 0)
        case .tanh: (dnnl_eltwise_tanh, 0, 0)
        case .hardswish: (dnnl_eltwise_hardswish, 0, 0)
        case .leakyRelu: (dnnl_eltwise_relu, 0.1, 0)
        }
    }

    var postOp: Primitive.PostOp {
        let d = dnnl
        return Primitive.PostOp(algorithm: d.algorithm, alpha: d.alpha, beta: d.beta)
    }
}
