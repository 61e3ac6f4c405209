import Foundation
import GraftModels
import GraftNN
import GraftTensor
import GraftWeights

/// State dicts to and from safetensors (atomic writes), the format of
/// checkpoints and bundles.
public enum StateDictFile {
    public static func write(_ module: Module, extra: [String: [Float]] = [:], metadata: [String: String] = [:], to url: URL) throws {
        var tensors = try module.stateDict().map { key, t in try StoredTensor(name: key, shape: t.shape, floats: t.values) }
        for (k, v) in extra.sorted(by: { $0.key < $1.key }) { tensors.append(try StoredTensor(name: k, shape: [v.count], floats: v)) }
        try WeightFile(tensors: tensors).writeSafetensors(to: url, metadata: metadata)
    }

    /// Loads the module's keys (strictly) and returns the other entries (`extra`).
    @discardableResult
    public static func read(into module: Module, from url: URL, extraPrefix: String = "optimizer.") throws -> [String: [Float]] {
        try read(into: module, from: WeightFile.open(url), extraPrefix: extraPrefix)
    }

    /// `read(into:from:)` on an opened file (whose metadata the caller reads too).
    @discardableResult
    public static func read(into module: Module, from file: WeightFile, extraPrefix: String = "optimizer.") throws -> [String: [Float]] {
        let all = try loadTensors(file)
        var own: [String: Tensor] = [:], extra: [String: [Float]] = [:]
        for (k, v) in all { if k.hasPrefix(extraPrefix) { extra[k] = v.values } else { own[k] = v } }
        try module.load(own, strict: true, source: file.source)
        return extra
    }
}

/// What a training run remembers between epochs, for `--resume`.
///
/// It travels inside `last.safetensors` (metadata `graft.training_state`),
/// so weights, optimizer state and this record are replaced by one rename:
/// a kill can never pair the weights of one epoch with the counters of another.
/// `state.json` beside it is a readable copy that resuming does not trust.
public struct TrainingState: Codable, Sendable, Equatable {
    public var epochsCompleted: Int = 0
    /// Optimizer steps taken (the schedule's position); nil in checkpoints older than this field.
    public var step: Int?
    public var history: [EpochRecord] = []
    public var bestEpoch: Int?
    public var bestValidationAccuracy: Double?
    /// The starting weights' validation score when they were a candidate (LP-FT's warm start,
    /// `Trainer.fit(start:)`); with `bestEpoch` nil they are still the best, and the result.
    public var startValidationScore: Double?
    public var epochsWithoutImprovement = 0
    public var stoppedEarly = false
    /// Fingerprint of the options and data: a checkpoint resumes only the same job.
    public var jobKey: String
    /// Each dropout layer's mask stream after the last completed epoch (`SeededGenerator.state`),
    /// so a resumed run continues the streams; nil in checkpoints older than this field.
    public var dropoutStreams: [String]?
}

/// One epoch of training and validation.
public struct EpochRecord: Codable, Sendable, Equatable {
    public var epoch: Int
    public var trainLoss: Double
    /// The task's metric (`TransferTask.metricName`: accuracy, R^2, micro-F1), batch-weighted over the epoch.
    public var trainAccuracy: Double
    public var validationLoss: Double?
    /// The task's metric on the whole validation split; the best epoch has the highest.
    public var validationAccuracy: Double?
    public var learningRate: Double
    public var seconds: Double
    public var imagesPerSecond: Double
}

extension TrainingState {
    /// The metadata key of `last.safetensors` that holds the state as JSON.
    static let metadataKey = "graft.training_state"

    func json() throws -> String {
        let enc = JSONEncoder(); enc.outputFormatting = [.sortedKeys]
        return String(decoding: try enc.encode(self), as: UTF8.self)
    }

    /// The state committed with the weights of `file`, if it carries one.
    static func committed(in file: URL) -> TrainingState? {
        guard let meta = try? WeightFile.open(file).metadata[metadataKey] else { return nil }
        return try? JSONDecoder().decode(TrainingState.self, from: Data(meta.utf8))
    }
}
