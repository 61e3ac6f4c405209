import GraftData
import GraftNN
import GraftTensor

/// A convolutional network that can stop at any named cut point.
public protocol ImageBackbone: Module, UnaryLayer {
    var architecture: String { get }
    var preprocessing: Preprocessing { get }
    /// Cut points in forward order; `penultimate` is the pooled feature
    /// vector just before the classifier, `logits` the classifier output.
    var cutPoints: [String] { get }
    /// Width of the `penultimate` features.
    var featureSize: Int { get }
    /// State-dict key prefix of the classifier (replaced when fine-tuning).
    var classifierKey: String { get }
    var classifier: Linear { get set }
    /// Trainable units in forward order (stem, blocks/stages, head): the
    /// last K of these are what `--unfreeze K` trains.
    var stages: [Module] { get }
    /// Runs up to and including `cut` (nil or "logits": the whole network).
    func forward(_ x: Tensor, upTo cut: String?, training: Bool) throws -> Tensor
}

extension ImageBackbone {
    public func forward(_ x: Tensor, training: Bool) throws -> Tensor { try forward(x, upTo: nil, training: training) }

    func checkCut(_ cut: String?) throws {
        if let cut, !cutPoints.contains(cut) {
            throw ModelError.unknownCutPoint(cut, model: architecture, available: cutPoints)
        }
    }

    /// Freezes everything but the last `k` stages and the classifier.
    ///
    /// Batch-norm policy (the Keras rule, applied to unfrozen blocks too unless
    /// `trainBatchNormStatistics`): every BN keeps using and keeping its running
    /// statistics; the unfrozen ones still train their scale and shift. Small
    /// batches of a new domain give noisy statistics, and with slow running
    /// averages (EfficientNet's momentum 0.01) training and evaluation would
    /// see different normalisations.
    public func freezeAllButLast(_ k: Int, trainBatchNormStatistics: Bool = false) {
        freeze()
        for stage in stages.suffix(k) { stage.unfreeze() }
        classifier.unfreeze()
        if !trainBatchNormStatistics {
            for (_, m) in namedModules() where m is BatchNorm2d { m.isFrozen = true }
        }
    }
}

public enum ModelError: Error, CustomStringConvertible {
    case unknownCutPoint(String, model: String, available: [String])
    case unknownModel(String, available: [String])
    case weightsNotInstalled(model: String, path: String)
    case invalidConfig(String)

    public var description: String {
        switch self {
        case let .unknownCutPoint(c, m, a): return "\(m) has no cut point '\(c)'; available: \(a.joined(separator: ", "))"
        case let .unknownModel(m, a): return "unknown model '\(m)'; available: \(a.joined(separator: ", "))"
        case let .weightsNotInstalled(m, p): return "weights for \(m) are not installed (expected \(p)); run `make setup`"
        case let .invalidConfig(why): return "invalid model config: \(why)"
        }
    }
}
