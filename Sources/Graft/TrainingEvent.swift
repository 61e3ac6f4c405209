import Foundation
import GraftData
import GraftHeads
import GraftModels
import GraftTensor
import GraftText
import GraftTransfer

/// One step of a training job: where it is, or how it ended. The sequence of
/// a job always ends with exactly one `.completed`.
public enum TrainingEvent: Sendable, Equatable, CustomStringConvertible {
    case progress(TrainingProgress)
    case completed(TrainingCompletion)

    public var description: String {
        switch self {
        case let .progress(p): p.description
        case let .completed(c): "completed: \(c)"
        }
    }

    public var isCompletion: Bool {
        if case .completed = self { return true }
        return false
    }
}

/// How far a job got: phase, epoch, step within the phase, loss, metrics, ETA.
/// Wraps the transfer layer's `ProgressEvent`.
public struct TrainingProgress: Sendable, Equatable, CustomStringConvertible {
    public enum Phase: String, Sendable, Codable {
        /// Loading data and the backbone.
        case preparing
        /// Features of the training (then validation) examples, under no-grad; when
        /// fine-tuning, the features of LP-FT's linear probe.
        case extracting
        /// Fitting the linear head (cross-validation of C included): feature
        /// extraction's head, or LP-FT's probe that warm-starts a fine-tuned head.
        case fitting
        case training
        case validating
        case evaluating
        /// Writing and reloading the bundle.
        case saving
    }

    public var phase: Phase
    /// Epoch (0-based) of training and validation phases.
    public var epoch: Int?
    /// Examples done in this phase (this epoch, when training).
    public var step: Int
    /// Examples of this phase.
    public var totalSteps: Int
    /// Mean training loss of the epoch so far.
    public var loss: Double?
    /// Running metrics, e.g. `["acc": 0.8]`.
    public var metrics: [String: Double]
    /// Examples per second.
    public var rate: Double?
    /// Seconds left in this phase, at the current rate.
    public var etaSeconds: Double?

    /// `step / totalSteps`, 1 for phases of unknown size.
    public var fractionCompleted: Double { totalSteps > 0 ? min(1, Double(step) / Double(totalSteps)) : 1 }

    public init(phase: Phase, epoch: Int? = nil, step: Int = 0, totalSteps: Int = 0, loss: Double? = nil,
                metrics: [String: Double] = [:], rate: Double? = nil, etaSeconds: Double? = nil) {
        self.phase = phase; self.epoch = epoch; self.step = step; self.totalSteps = totalSteps; self.loss = loss
        self.metrics = metrics; self.rate = rate; self.etaSeconds = etaSeconds
    }

    /// One line: `training epoch 1 64/200 loss 1.2034 acc 0.5312 ETA 0:41`.
    public var description: String {
        var line = phase.rawValue
        if let epoch { line += " epoch \(epoch + 1)" }
        if totalSteps > 0 { line += " \(step)/\(totalSteps)" }
        if let loss { line += String(format: " loss %.4f", loss) }
        for (k, v) in metrics.sorted(by: { $0.key < $1.key }) { line += " \(k) " + String(format: "%.4f", v) }
        if let eta = etaSeconds, step < totalSteps {
            let t = Int(eta.rounded())
            line += String(format: " ETA %d:%02d", t / 60, t % 60)
        }
        return line
    }

    /// The transfer layer's event in this vocabulary.
    init(_ e: ProgressEvent) {
        let phase: Phase = switch e.phase {
        case .extracting: .extracting
        case .fitting: .fitting
        case .training: .training
        case .validating: .validating
        case .evaluating, .finished: .evaluating
        }
        self.init(phase: phase, epoch: e.epoch, step: e.completed, totalSteps: e.total, loss: e.loss, metrics: e.metrics,
                  rate: e.rate, etaSeconds: e.etaSeconds)
    }
}

/// How a training job ended.
public enum TrainingCompletion: Sendable, Equatable, CustomStringConvertible {
    /// The model is ready; metrics on the validation split when there was one.
    case succeeded(validation: Metrics?)
    case cancelled
    /// The error's description.
    case failed(String)
}

extension TrainingCompletion {
    public var description: String {
        switch self {
        case let .succeeded(metrics): metrics.map { "succeeded, validation \($0)" } ?? "succeeded"
        case .cancelled: "cancelled"
        case let .failed(why): "failed: \(why)"
        }
    }
}
