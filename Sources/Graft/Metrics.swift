import Foundation
import GraftData
import GraftHeads
import GraftModels
import GraftTensor
import GraftText
import GraftTransfer

/// How well a classifier did on labelled data: scikit-learn's accuracy,
/// balanced accuracy, per-class precision / recall / F1, confusion matrix and
/// log-loss (see `ClassificationReport`), with class names instead of indices.
public struct Metrics: Sendable, Equatable, Codable, CustomStringConvertible {
    /// Per-class figures of one class.
    public struct ClassFigures: Sendable, Equatable, Codable {
        public var precision: Double
        public var recall: Double
        public var f1: Double
        public var support: Int
    }

    /// The full report; its label indices are positions in `labels`.
    public let report: ClassificationReport
    /// Names of `report.labels`: the model's classes, then classes of the data the model never saw.
    public let labels: [String]

    public var count: Int { report.rows }
    public var accuracy: Double { report.accuracy }
    public var balancedAccuracy: Double { report.balancedAccuracy }
    /// Mean negative log-probability of the true class (nil without probabilities).
    public var logLoss: Double? { report.logLoss }
    /// `confusionMatrix[t][p]`: examples of `labels[t]` predicted as `labels[p]`.
    public var confusionMatrix: [[Int]] { report.confusionMatrix }

    /// Precision, recall, F1 and support per class name.
    public var perClass: [String: ClassFigures] {
        Dictionary(report.perClass.map { m in
            (name(m.label), ClassFigures(precision: m.precision, recall: m.recall, f1: m.f1, support: m.support))
        }, uniquingKeysWith: { a, _ in a })
    }

    /// `names[i]` names label index `i` of `report`.
    public init(report: ClassificationReport, names: [String]) {
        self.report = report
        labels = report.labels.map { $0 < names.count ? names[$0] : "class \($0)" }
    }

    private func name(_ label: Int) -> String {
        guard let i = report.labels.firstIndex(of: label) else { return "class \(label)" }
        return labels[i]
    }

    public var description: String {
        var s = "accuracy \(Self.fixed(accuracy)), balanced accuracy \(Self.fixed(balancedAccuracy))"
        if let logLoss { s += ", log-loss \(Self.fixed(logLoss))" }
        return s + " on \(count) examples"
    }

    static func fixed(_ x: Double) -> String { String(format: "%.4f", x) }
}
