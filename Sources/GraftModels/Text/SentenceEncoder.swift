import Foundation
import GraftNN
import GraftTensor

/// How token states become one sentence vector (sentence-transformers' Pooling).
public enum PoolingMode: String, Sendable, Codable {
    case mean, cls, max

    /// Reads `1_Pooling/config.json`.
    public static func load(_ url: URL) throws -> PoolingMode {
        let json = try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as? [String: Any] ?? [:]
        if json["pooling_mode_cls_token"] as? Bool == true { return .cls }
        if json["pooling_mode_max_tokens"] as? Bool == true { return .max }
        return .mean
    }
}

/// Pools [B, L, H] states over the attention mask into [B, H], optionally L2-normalised.
public func poolTokens(_ states: Tensor, mask: IndexTensor, mode: PoolingMode, normalize: Bool) throws -> Tensor {
    let (b, l, h) = (states.shape[0], states.shape[1], states.shape[2])
    var pooled: Tensor
    switch mode {
    case .cls:
        pooled = try states.slice(axis: 1, 0..<1).reshaped([b, h])
    case .mean:
        let m = try Tensor(uninitializedShape: [b, l, 1])
        for i in 0..<(b * l) { m.pointer[i] = mask.values[i] != 0 ? 1 : 0 }
        let counts = try Tensor(uninitializedShape: [b, 1])
        for i in 0..<b { counts.pointer[i] = max(1e-9, (0..<l).reduce(0) { $0 + m.pointer[i * l + $1] }) }
        pooled = try (states * m).sum(axes: [1]) / counts
    case .max:
        let m = try Tensor(uninitializedShape: [b, l, 1])
        for i in 0..<(b * l) { m.pointer[i] = mask.values[i] != 0 ? 0 : -1e9 }
        pooled = try (states + m).max(axis: 1)
    }
    if normalize {
        let norms = try pooled.squared().sum(axes: [1], keepDims: true).sqrt().clamp(min: 1e-12, max: .greatestFiniteMagnitude)
        pooled = try pooled / norms
    }
    return pooled
}
