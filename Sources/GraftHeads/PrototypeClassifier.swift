import Foundation

/// The prototype (nearest class mean) rule for the tiniest training sets: rows are L2-normalised
/// (so only their direction counts, as with cosine similarity), each class is the mean of its
/// normalised rows, and an item goes to the class whose mean is nearest. Nothing is optimised.
///
/// `||x^ - m_c||^2 = 1 - 2 m_c . x^ + ||m_c||^2`, so the rule is a linear head on normalised rows with
/// weights `2 m_c` and bias `-||m_c||^2 - 1`: its scores are minus the squared distances, and it is
/// scikit-learn's `NearestCentroid` fitted on `normalize(x)`.
public struct PrototypeClassifier: Sendable {
    public init() {}

    public func fit(_ x: FeatureMatrix, labels: [Int]) throws(HeadsError) -> HeadFit {
        let start = Date()
        try validateTrainingData(x, labels: labels)
        if let bad = x.firstNonFinite() { throw .nonFiniteFeature(what: "training features", row: bad.row, column: bad.column) }
        let classes = Array(Set(labels)).sorted()
        guard classes.count >= 2 else { throw .singleClass(label: classes[0], rows: labels.count) }
        let column = Dictionary(uniqueKeysWithValues: classes.enumerated().map { ($1, $0) })
        let normalized = x.l2NormalizedRows()
        let d = x.columns
        var sums = [Double](repeating: 0, count: classes.count * d), counts = [Int](repeating: 0, count: classes.count)
        for (r, label) in labels.enumerated() {
            let c = column[label]!
            counts[c] += 1
            for j in 0..<d { sums[c * d + j] += Double(normalized[r, j]) }
        }
        var weights = [Float](repeating: 0, count: classes.count * d), bias = [Float](repeating: 0, count: classes.count)
        for c in 0..<classes.count {
            var squaredNorm = 0.0
            for j in 0..<d {
                let mean = sums[c * d + j] / Double(counts[c])
                weights[c * d + j] = Float(2 * mean)
                squaredNorm += mean * mean
            }
            bias[c] = Float(-squaredNorm - 1)
        }
        let head = try LinearHead(kind: .prototype, classes: classes, featureCount: d, weights: weights, bias: bias,
                                  standardization: nil, C: 0)
        let summary = TrainingSummary(iterations: 0, objective: 0, stop: .closedForm, seconds: Date().timeIntervalSince(start),
                                      C: 0, crossValidation: nil)
        return HeadFit(head: head, summary: summary)
    }
}
