import GraftHeads

/// One row of a comparison: how a strategy did on the shared split.
public struct StrategyOutcome: Codable, Sendable {
    public var strategy: String
    public var detail: String
    /// Test accuracy, or the task's headline metric (detection: mAP@0.5).
    public var accuracy: Double
    /// Balanced accuracy, or detection's mAP@0.5:0.95.
    public var balancedAccuracy: Double
    /// Wall time to train (feature extraction of the training split included).
    public var trainSeconds: Double
    public var trainableParameters: Int
    /// Classification's report; nil for tasks whose metrics are `metrics`.
    public var report: ClassificationReport?
    /// The test metrics of the other tasks (detection: mAP per class).
    public var metrics: TaskMetrics? = nil
    public var history: [EpochRecord]?
    /// Per-item predictions on the test split, for reports of its mistakes.
    public var predictions: ItemPredictions? = nil
    /// Fine-tuning: LP-FT's probe (its held-out validation score is the score to beat).
    public var probe: NetworkRecipe.LinearProbe? = nil
    /// Network strategies: the validation score of the weights kept (the best epoch's or the probe's).
    public var bestValidationScore: Double? = nil
    /// Fine-tuning with `--lr auto`: the range test that chose the learning rate.
    public var learningRateRangeTest: LearningRateRangeTest.Result? = nil
}

/// The whole comparison: the split and one outcome per strategy.
public struct ComparisonResult: Codable, Sendable {
    public var data: String
    public var model: String
    public var classNames: [String]
    public var trainCount: Int
    public var validationCount: Int
    public var testCount: Int
    public var perClass: Int?
    public var seed: UInt64
    public var outcomes: [StrategyOutcome]
    /// The task compared (nil in results written before tasks: classification).
    public var task: TaskKind? = nil

    /// A fixed-width table for terminals.
    public var table: String {
        var lines = ["data \(data), model \(model): \(trainCount) train (\(perClass.map { "\($0) per class" } ?? "all")), \(validationCount) validation, \(testCount) test, seed \(seed)", ""]
        let header = ["strategy"] + (task == .detection ? ["mAP@0.5", "mAP@.5:.95"] : ["accuracy", "balanced acc"]) + ["train time", "trainable params"]
        var rows = outcomes.map { o in
            [o.strategy + (o.detail.isEmpty ? "" : " (\(o.detail))"), String(format: "%.4f", o.accuracy), String(format: "%.4f", o.balancedAccuracy),
             String(format: "%.1f s", o.trainSeconds), "\(o.trainableParameters)"]
        }
        rows.insert(header, at: 0)
        let widths = (0..<header.count).map { c in rows.map { $0[c].count }.max()! }
        for (i, r) in rows.enumerated() {
            lines.append(r.enumerated().map { c, v in c == 0 ? v.padding(toLength: widths[c], withPad: " ", startingAt: 0)
                                                          : String(repeating: " ", count: widths[c] - v.count) + v }.joined(separator: "  "))
            if i == 0 { lines.append(widths.map { String(repeating: "-", count: $0) }.joined(separator: "  ")) }
        }
        return lines.joined(separator: "\n")
    }
}
