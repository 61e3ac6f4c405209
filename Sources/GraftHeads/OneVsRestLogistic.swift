import Foundation

/// Multi-label logistic regression, one-vs-rest: one binary `LogisticRegression` per label (the same
/// solver, C and standardisation; scikit-learn's `OneVsRestClassifier(LogisticRegression(C))` after a
/// `StandardScaler`), then per-label thresholds chosen on validation rows.
///
/// A label that every training row carries (or none does) cannot be fitted; like scikit-learn's
/// constant predictor it gets zero weights and a saturated intercept.
public struct OneVsRestLogistic: Sendable {
    public var options: LogisticRegression.Options

    /// `options.C` must be given (default 1): one C serves every label.
    public init(_ options: LogisticRegression.Options = .init(C: 1)) { self.options = options }

    /// Fits one binary model per label on `x` and the label sets `labels` (indices below `labelCount`);
    /// thresholds start at 0.5.
    public func fit(_ x: FeatureMatrix, labels: [[Int]], labelCount: Int) throws(HeadsError) -> MultiLabelHead {
        try validateTrainingData(x, labels: labels.map { $0.first ?? 0 })
        guard let C = options.C else { throw .invalidOption(name: "C", reason: "one-vs-rest needs a C (no cross-validation per label)") }
        guard labelCount > 0 else { throw .emptyData(what: "label names") }
        let standardization = options.standardize ? try Standardization.fit(x) : nil
        let z = try standardization.map { (s) throws(HeadsError) in try s.apply(x) } ?? x
        var binary = options
        binary.standardize = false
        binary.C = C
        let d = x.columns
        var weights = [Float](repeating: 0, count: labelCount * d), bias = [Float](repeating: 0, count: labelCount)
        for l in 0..<labelCount {
            let y = try labels.enumerated().map { (r, set) throws(HeadsError) -> Int in
                if let bad = set.first(where: { $0 < 0 || $0 >= labelCount }) {
                    throw .invalidOption(name: "labels", reason: "label \(bad) of row \(r) is not below \(labelCount)")
                }
                return set.contains(l) ? 1 : 0
            }
            let positives = y.reduce(0, +)
            guard positives > 0, positives < y.count else {
                bias[l] = positives > 0 ? 30 : -30   // sigmoid(+-30): 1 or 0 to float precision
                continue
            }
            // Two classes fit as a multinomial model; its sigmoid is the difference of the two rows.
            let head = try LogisticRegression(binary).fit(z, labels: y).head
            for j in 0..<d { weights[l * d + j] = head.weights[d + j] - head.weights[j] }
            bias[l] = head.bias[1] - head.bias[0]
        }
        return try MultiLabelHead(labelCount: labelCount, featureCount: d, weights: weights, bias: bias, standardization: standardization,
                                  C: C, thresholds: [Float](repeating: 0.5, count: labelCount))
    }

    /// Sets each label's threshold to the validation probability that maximises its F1 (predicting the
    /// label when the probability is at least the threshold; ties go to the higher threshold). A label
    /// whose best validation F1 is 0 (for example no validation item carries it) keeps 0.5.
    public static func chooseThresholds(_ head: inout MultiLabelHead, x: FeatureMatrix, labels: [[Int]]) throws(HeadsError) {
        guard labels.count == x.rows else { throw .labelCountMismatch(rows: x.rows, labels: labels.count) }
        head.thresholds = try thresholds(probabilities: head.probabilities(x), labels: labels)
    }

    /// Each label's F1-maximising threshold on validation `probabilities` `[rows, labels]` (any model's:
    /// this head's, or a fine-tuned network's sigmoids), by the rule of `chooseThresholds`.
    public static func thresholds(probabilities p: FeatureMatrix, labels: [[Int]]) throws(HeadsError) -> [Float] {
        guard labels.count == p.rows else { throw .labelCountMismatch(rows: p.rows, labels: labels.count) }
        var chosen = [Float](repeating: 0.5, count: p.columns)
        for l in 0..<p.columns {
            let truth = labels.map { $0.contains(l) }
            let positives = truth.filter { $0 }.count
            // Walk the candidates from the highest probability down: each step adds the items at that probability.
            let order = (0..<p.rows).sorted { p[$0, l] > p[$1, l] }
            var best = (f1: 0.0, threshold: Float(0.5))
            var tp = 0, predicted = 0, i = 0
            while i < order.count {
                let t = p[order[i], l]
                while i < order.count, p[order[i], l] == t { if truth[order[i]] { tp += 1 }; predicted += 1; i += 1 }
                let f1 = Double(2 * tp) / Double(predicted + positives)
                if f1 > best.f1 { best = (f1, t) }
            }
            chosen[l] = best.threshold
        }
        return chosen
    }
}
