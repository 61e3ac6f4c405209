/// Multi-label metrics, as scikit-learn's `f1_score(average="micro"/"macro")`, `hamming_loss`,
/// `precision_recall_fscore_support(average=None)` and `average_precision_score` (macro: the mean of
/// each label's average precision; a label with no positive items counts 0). Undefined precisions,
/// recalls and F1s (a zero denominator) are 0, scikit-learn's `zero_division` default.
public struct MultiLabelReport: Codable, Sendable, Equatable {
    public struct Label: Codable, Sendable, Equatable {
        /// Index into the label names.
        public var label: Int
        public var precision: Double
        public var recall: Double
        public var f1: Double
        /// Items that carry the label.
        public var support: Int
        public var averagePrecision: Double
    }

    public var rows: Int
    public var microF1: Double
    public var macroF1: Double
    /// The fraction of (item, label) decisions that are wrong.
    public var hammingLoss: Double
    /// Mean average precision over labels (threshold-free: ranks items by probability).
    public var meanAveragePrecision: Double
    public var perLabel: [Label]

    /// `truth` and `predicted` are the label sets of each item; `probabilities` is `[rows, labelCount]`.
    public init(truth: [[Int]], predicted: [[Int]], probabilities: FeatureMatrix, labelCount: Int) throws(HeadsError) {
        guard truth.count == predicted.count, truth.count == probabilities.rows else {
            throw .labelCountMismatch(rows: probabilities.rows, labels: truth.count)
        }
        guard probabilities.columns == labelCount, labelCount > 0, !truth.isEmpty else {
            throw .shapeMismatch(what: "multi-label probabilities", expected: [truth.count, labelCount], got: [probabilities.rows, probabilities.columns])
        }
        let n = truth.count
        func indicator(_ sets: [[Int]]) throws(HeadsError) -> [Bool] {
            var out = [Bool](repeating: false, count: n * labelCount)
            for (r, set) in sets.enumerated() {
                for l in set {
                    guard l >= 0, l < labelCount else { throw .invalidOption(name: "labels", reason: "label \(l) of row \(r) is not below \(labelCount)") }
                    out[r * labelCount + l] = true
                }
            }
            return out
        }
        let t = try indicator(truth), p = try indicator(predicted)
        var totalTP = 0, totalFP = 0, totalFN = 0, wrong = 0
        perLabel = (0..<labelCount).map { l in
            var tp = 0, fp = 0, fn = 0
            for r in 0..<n {
                let a = t[r * labelCount + l], b = p[r * labelCount + l]
                if a && b { tp += 1 } else if b { fp += 1 } else if a { fn += 1 }
            }
            totalTP += tp; totalFP += fp; totalFN += fn; wrong += fp + fn
            let scores = (0..<n).map { probabilities[$0, l] }
            return Label(label: l, precision: Self.ratio(tp, tp + fp), recall: Self.ratio(tp, tp + fn), f1: Self.ratio(2 * tp, 2 * tp + fp + fn),
                         support: tp + fn, averagePrecision: Self.averagePrecision(truth: (0..<n).map { t[$0 * labelCount + l] }, scores: scores))
        }
        rows = n
        microF1 = Self.ratio(2 * totalTP, 2 * totalTP + totalFP + totalFN)
        macroF1 = perLabel.map(\.f1).reduce(0, +) / Double(labelCount)
        hammingLoss = Double(wrong) / Double(n * labelCount)
        meanAveragePrecision = perLabel.map(\.averagePrecision).reduce(0, +) / Double(labelCount)
    }

    static func ratio(_ a: Int, _ b: Int) -> Double { b == 0 ? 0 : Double(a) / Double(b) }

    /// `sum_n (R_n - R_{n-1}) P_n` over the distinct scores, highest first (tied scores enter together).
    public static func averagePrecision(truth: [Bool], scores: [Float]) -> Double {
        let positives = truth.filter { $0 }.count
        guard positives > 0 else { return 0 }
        let order = scores.indices.sorted { scores[$0] > scores[$1] }
        var tp = 0, seen = 0, previousRecall = 0.0, sum = 0.0
        var i = 0
        while i < order.count {
            let score = scores[order[i]]
            while i < order.count, scores[order[i]] == score {
                if truth[order[i]] { tp += 1 }
                seen += 1; i += 1
            }
            let recall = Double(tp) / Double(positives)
            sum += (recall - previousRecall) * Double(tp) / Double(seen)
            previousRecall = recall
        }
        return sum
    }
}
